package dev.bully.store;

import java.util.Locale;
import java.util.Optional;

/**
 * How far a store write goes before it counts as durable ({@code store.sync}): what every
 * acknowledgement, term and promise of the node depends on.
 */
public enum StoreSync {
  /**
   * Forced to the device: the embedded store fsyncs its file once per group commit, an external
   * MongoDB journals the write ({@code j: true}). Survives a process crash, an operating-system
   * crash and a power loss. The default.
   */
  FSYNC,
  /**
   * Written to the operating system only: the embedded store writes its file but does not force it,
   * an external MongoDB acknowledges with {@code w: 1} and journals within its own interval. Survives
   * a crash of the node's process, not a crash of the machine or a power loss; a node that loses its
   * power may come back having forgotten a vote, so two coordinators could then lead one term.
   */
  OS;

  /** The setting's name in a configuration file. */
  public String configName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The setting named {@code name} ({@code fsync} or {@code os}), if it is one. */
  public static Optional<StoreSync> named(String name) {
    for (StoreSync sync : values()) {
      if (sync.configName().equals(name)) {
        return Optional.of(sync);
      }
    }
    return Optional.empty();
  }
}
