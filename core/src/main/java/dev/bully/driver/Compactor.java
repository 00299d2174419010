package dev.bully.driver;

import dev.bully.core.Election;

/**
 * Keeps the store bounded: once this node's documents hold the operations of old entries durably,
 * and more than {@link dev.bully.core.LogLimits#retainEntries()} newer entries follow them, those
 * entries leave the store, one compaction at a time, off the path of client writes. Never past
 * what a follower still needs after a snapshot it installs ({@link Election#compactionPin()}).
 * A compaction that fails leaves the entries where they were, and is tried again as the log grows.
 */
final class Compactor {
  private final Election replica;
  private final Storage storage;
  private final Host host;
  /** The first entry a store read for an APPEND is about to read: compaction stops before it. */
  private final java.util.function.LongSupplier firstEntryToRead;
  private boolean compacting;
  private boolean stopped;

  Compactor(Election replica, Storage storage, Host host, java.util.function.LongSupplier firstEntryToRead) {
    this.replica = replica;
    this.storage = storage;
    this.host = host;
    this.firstEntryToRead = firstEntryToRead;
  }

  void compactIfDue() {
    if (stopped) {
      return;
    }
    long durableApplied = storage.durableAppliedIndex();
    replica.logView().appliedDurably(durableApplied); // where a snapshot offered next is taken up to
    if (compacting) {
      return;
    }
    long pin = Math.min(replica.compactionPin(), firstEntryToRead.getAsLong() - 1);
    long target = replica.logView().compactable(durableApplied, pin);
    if (target < 0) {
      return;
    }
    compacting = true;
    replica.logView().compacting(target);
    storage.compact(target, replica.logView().termAt(target), (reached, failure) -> {
      compacting = false;
      if (failure != null) {
        host.warn("could not remove the log's entries up to " + target + " from its store (" + failure + "); they stay");
        return;
      }
      replica.logView().compacted(reached);
    });
  }

  /** No more compactions: the node is stopping and closing its store. */
  void stop() {
    stopped = true;
  }
}
