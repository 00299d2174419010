package dev.bully.driver;

import dev.bully.core.DurableState;
import dev.bully.core.LogEntry;
import dev.bully.core.LogWrite;
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
}
