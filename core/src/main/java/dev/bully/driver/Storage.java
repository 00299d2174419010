package dev.bully.driver;

import dev.bully.core.DurableState;
import dev.bully.core.LogEntry;
import dev.bully.core.LogWrite;
import dev.bully.core.SnapshotItem;
import dev.bully.core.SnapshotStep;
import java.util.List;

/**
 * A node's store as the driver uses it: durable writes of the log, of the term and promise and of
 * pages, and reads of stored entries. Every call answers once, on the caller's thread, when the
 * write is durable (or the read done); a write that fails has failed for good (a store that can
 * retry does so before it answers). A crash may leave a write unanswered: the process is gone.
 * {@code dev.bully.store.NodeStore} is the node's; the simulator has its own.
 */
public interface Storage {
  /** What a call to the store answers: its result, or the failure (then {@code result} is null). */
  @FunctionalInterface
  interface Callback<T> {
    void done(T result, Throwable failure);
  }

  /** Removes and appends what {@code write} says, in one durable step. */
  void writeLog(LogWrite write, Callback<Void> done);

  /** Saves the term and promise. */
  void saveState(DurableState state, Callback<Void> done);

  /** Writes committed entries, already in the log, into a page: they may then leave memory. */
  void writePage(List<LogEntry> entries, Callback<Void> done);

  /**
   * Up to {@code count} stored entries from {@code from} on, within {@code maxChars} of entry text
   * (one at least), in index order.
   */
  void readEntries(long from, int count, long maxChars, Callback<List<LogEntry>> done);

  /**
   * The index up to which this node's documents hold every committed operation durably: entries
   * up to it are no longer needed to rebuild them after a crash.
   */
  long durableAppliedIndex();

  /**
   * Removes the log's entries up to {@code index} (of {@code term}) at most (committed, paged and applied durably
   * here), and the tombstones of deletes up to it, which no operation still to be applied needs;
   * answers how far the log now begins (whole pages go, so it may stop short of {@code index}).
   * The removal is durable first: a restart never reads the entries back.
   */
  void compact(long index, long term, Callback<Long> done);

  /** Makes a step of installing a snapshot durable ({@link SnapshotStep}). */
  void installSnapshot(SnapshotStep step, Callback<Void> done);

  /**
   * Chunk {@code seq} of a snapshot of this node's documents for {@code follower}, which installs
   * it on the log from entry {@code index + 1}: chunk 0 begins a new read of the documents, each
   * later one goes on where the one before stopped, with at most about {@code maxChars} of document
   * text. The documents are read while they change (only the log after {@code index}, applied
   * again over them, makes them whole), so the last chunk says from which applied index on they
   * are: this node's applied index when the read ended.
   */
  void readSnapshot(int follower, long index, long seq, long maxChars, Callback<SnapshotRead> done);

  /** A chunk of a snapshot as the store read it. */
  record SnapshotRead(List<SnapshotItem> items, boolean last, long consistentAt) {
    public SnapshotRead {
      items = List.copyOf(items);
    }
  }
}
