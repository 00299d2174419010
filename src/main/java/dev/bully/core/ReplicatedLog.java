package dev.bully.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A node's copy of the replicated log, held in memory (the store holds the durable copy), with the
 * rules for changing it.
 *
 * <p>The coordinator only ever appends. A follower accepts entries only when they continue its
 * log at the coordinator's {@code (prevIndex, prevTerm)}; where its log disagrees with the
 * coordinator's, the conflicting suffix is removed and returned, so the driver can move it to the
 * {@code rollback} collection instead of deleting it. A committed entry is never removed: the
 * election only lets a node lead if its log holds every committed entry, so a conflict below the
 * commit index would mean the protocol is broken, and is reported as such.
 */
public final class ReplicatedLog {
  private final List<LogEntry> entries = new ArrayList<>();
  private final Map<String, Long> indexByRequestId = new HashMap<>();
  private long commitIndex;

  /** A log restored from the store: consecutive entries from index 1, and the commit index known before. */
  public ReplicatedLog(List<LogEntry> stored, long commitIndex) {
    stored.forEach(this::add);
    this.commitIndex = Math.min(commitIndex, lastIndex());
  }

  public static ReplicatedLog empty() {
    return new ReplicatedLog(List.of(), 0);
  }

  public long lastIndex() {
    return entries.size();
  }

  public LogPosition last() {
    return entries.isEmpty() ? LogPosition.EMPTY : entries.get(entries.size() - 1).position();
  }

  /** The term of the entry at {@code index}; 0 for index 0, -1 past the end. */
  public long termAt(long index) {
    if (index == 0) {
      return 0;
    }
    return index <= lastIndex() ? entry(index).term() : -1;
  }

  public LogEntry entry(long index) {
    return entries.get((int) (index - 1));
  }

  /** Up to {@code max} entries from {@code from} on. */
  public List<LogEntry> slice(long from, int max) {
    if (from > lastIndex()) {
      return List.of();
    }
    int start = (int) Math.max(0, from - 1);
    return Collections.unmodifiableList(new ArrayList<>(entries.subList(start, (int) Math.min(lastIndex(), start + (long) max))));
  }

  public long commitIndex() {
    return commitIndex;
  }

  /** The index of the entry written with this idempotency key, if the log has one. */
  public Long indexOf(String requestId) {
    return requestId == null ? null : indexByRequestId.get(requestId);
  }

  /** The coordinator appends new entries of its own term. */
  public List<LogEntry> appendNew(long term, List<Write> writes) {
    List<LogEntry> appended = new ArrayList<>(writes.size());
    for (Write write : writes) {
      LogEntry entry = new LogEntry(lastIndex() + 1, term, write.requestId(), write.data(), write.timestampMs());
      add(entry);
      appended.add(entry);
    }
    return appended;
  }

  /**
   * A follower's check of an APPEND: does its log hold {@code prevIndex} with {@code prevTerm}?
   * If so, it takes the entries, dropping only a suffix that disagrees with them.
   */
  public AppendResult accept(long prevIndex, long prevTerm, List<LogEntry> incoming) {
    if (prevIndex > lastIndex()) {
      return AppendResult.mismatch(lastIndex());
    }
    if (termAt(prevIndex) != prevTerm) {
      // Our entry at prevIndex is from another term: back up past it.
      return AppendResult.mismatch(prevIndex - 1);
    }
    List<LogEntry> removed = List.of();
    List<LogEntry> appended = new ArrayList<>();
    for (LogEntry entry : incoming) {
      if (entry.index() <= lastIndex()) {
        if (termAt(entry.index()) == entry.term()) {
          continue; // already here (a duplicate or a resend)
        }
        removed = truncateFrom(entry.index());
      }
      add(entry);
      appended.add(entry);
    }
    return AppendResult.accepted(prevIndex + incoming.size(), removed, appended);
  }

  /** Advances the commit index, never past the end of the log and never backwards. */
  public boolean commitTo(long index) {
    long target = Math.min(index, lastIndex());
    if (target > commitIndex) {
      commitIndex = target;
      return true;
    }
    return false;
  }

  private List<LogEntry> truncateFrom(long index) {
    if (index <= commitIndex) {
      throw new IllegalStateException("asked to remove committed entry " + index + " (commit index " + commitIndex + ")");
    }
    List<LogEntry> tail = new ArrayList<>(entries.subList((int) (index - 1), entries.size()));
    entries.subList((int) (index - 1), entries.size()).clear();
    for (LogEntry removed : tail) {
      if (removed.requestId() != null) {
        indexByRequestId.remove(removed.requestId(), removed.index());
      }
    }
    return tail;
  }

  private void add(LogEntry entry) {
    if (entry.index() != lastIndex() + 1) {
      throw new IllegalArgumentException("entry " + entry.index() + " does not follow " + lastIndex());
    }
    entries.add(entry);
    if (entry.requestId() != null) {
      indexByRequestId.putIfAbsent(entry.requestId(), entry.index());
    }
  }

  /**
   * What a follower did with an APPEND.
   *
   * @param ok         whether the entries continued its log
   * @param index      the match index when ok, else the index the coordinator should back up to
   * @param removed    the suffix that disagreed with the coordinator, to keep in rollback
   * @param appended   the entries newly added, to persist
   */
  public record AppendResult(boolean ok, long index, List<LogEntry> removed, List<LogEntry> appended) {
    static AppendResult mismatch(long backUpTo) {
      return new AppendResult(false, backUpTo, List.of(), List.of());
    }

    static AppendResult accepted(long matchIndex, List<LogEntry> removed, List<LogEntry> appended) {
      return new AppendResult(true, matchIndex, List.copyOf(removed), List.copyOf(appended));
    }
  }
}
