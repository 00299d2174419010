package dev.bully.core;

/**
 * The protocol core found its own state impossible: a rule it keeps was broken (a committed entry
 * to be removed, entries paged that are not committed, a log that does not follow on). Going on
 * could break what the node promised, so the driver stops the node when it sees one; a restart
 * recovers from the store. Every other failure escaping an input of {@link Election} is reported
 * as one too.
 */
public final class BrokenInvariant extends IllegalStateException {
  public BrokenInvariant(String message) {
    super(message);
  }

  public BrokenInvariant(String message, Throwable cause) {
    super(message, cause);
  }
}
