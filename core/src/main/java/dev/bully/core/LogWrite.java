package dev.bully.core;

import java.util.List;

/**
 * What the driver must make durable in the log before it sends anything of the same output: first
 * move {@link #removed()} (the suffix that disagreed with the coordinator) to the rollback
 * collection, marked with the term that replaced it, then append {@link #appended()}.
 *
 * @param removed        entries taken out of the log, oldest first; never committed ones
 * @param replacedInTerm the term of the coordinator whose log replaced them
 * @param appended       entries to add, consecutive, right after what remains
 * @param lastIndex      the log's last index once this write is done
 * @param commitIndex    an index known to be committed when the write was made; the store keeps it
 *                       with the entries, so a restarted node knows which of its entries it need not
 *                       hold in memory (see {@link ReplicatedLog#restore})
 * @param resetIndex     when above 0, a snapshot took the log's place ({@link ReplicatedLog#resetTo}):
 *                       once {@code removed} is in rollback, every stored entry goes, and the log
 *                       begins after entry {@code resetIndex}, of term {@code resetTerm}
 */
public record LogWrite(List<LogEntry> removed, long replacedInTerm, List<LogEntry> appended, long lastIndex,
                       long commitIndex, long resetIndex, long resetTerm) {
  public LogWrite {
    removed = List.copyOf(removed);
    appended = List.copyOf(appended);
  }

  public LogWrite(List<LogEntry> removed, long replacedInTerm, List<LogEntry> appended, long lastIndex, long commitIndex) {
    this(removed, replacedInTerm, appended, lastIndex, commitIndex, 0, 0);
  }

  /** Whether a snapshot takes the log's place. */
  public boolean resets() {
    return resetIndex > 0;
  }
}
