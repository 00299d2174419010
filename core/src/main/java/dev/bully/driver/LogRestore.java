package dev.bully.driver;

import dev.bully.core.IdempotencyKey;
import dev.bully.core.LogEntry;
import dev.bully.core.LogLimits;
import dev.bully.core.ReplicatedLog;
import dev.bully.core.TermRun;
import java.util.ArrayList;
import java.util.List;

/**
 * A node's log read back from its store at start-up, without holding every entry: the terms of
 * all entries (as term runs), the newest entries (every one the pages do not hold, and at least the
 * last: {@link LogLimits#restoreFrom}) and the idempotency keys of the
 * {@link LogLimits#idempotencyKeys()} newest entries. The store says what it holds; this says
 * which entries to hand over ({@link #readFrom()} on, in index order) and builds the log.
 */
public final class LogRestore {
  private final long baseIndex;
  private final List<TermRun> termRuns;
  private final long lastIndex;
  private final long commitIndex;
  private final long pagedIndex;
  private final long tailFrom;
  private final long keysFrom;
  private final List<IdempotencyKey> olderKeys = new ArrayList<>();
  private final List<LogEntry> tail = new ArrayList<>();

  /**
   * @param termRuns     the terms of every stored entry
   * @param lastIndex    the last stored entry
   * @param storedCommit the highest commit index the store's log writes carried
   * @param pagedIndex   how far the store's pages reach (paged entries are committed)
   */
  public LogRestore(List<TermRun> termRuns, long lastIndex, long storedCommit, long pagedIndex, LogLimits limits) {
    this(0, termRuns, lastIndex, storedCommit, pagedIndex, limits);
  }

  /**
   * A log that begins after {@code baseIndex} (its entries up to there left the store): its term
   * runs begin at the base entry, and nothing before the base is read.
   */
  public LogRestore(long baseIndex, List<TermRun> termRuns, long lastIndex, long storedCommit, long pagedIndex, LogLimits limits) {
    this.baseIndex = baseIndex;
    this.termRuns = List.copyOf(termRuns);
    this.lastIndex = lastIndex;
    this.pagedIndex = Math.max(baseIndex, pagedIndex);
    this.commitIndex = Math.min(Math.max(Math.max(storedCommit, pagedIndex), baseIndex), lastIndex);
    this.tailFrom = limits.restoreFrom(baseIndex, lastIndex, this.pagedIndex);
    this.keysFrom = limits.keysFrom(baseIndex, lastIndex, tailFrom);
  }

  /** The first entry the restore needs; every entry from here to the last is to be {@link #take taken}. */
  public long readFrom() {
    return keysFrom;
  }

  /** The first entry the restored log holds whole; before it, from {@link #readFrom()}, only keys are needed. */
  public long tailFrom() {
    return tailFrom;
  }

  /** Hands over the idempotency key of a stored entry before {@link #tailFrom()}, in index order. */
  public void takeKey(IdempotencyKey key) {
    if (key.index() >= keysFrom && key.index() < tailFrom) {
      olderKeys.add(key);
    }
  }

  /** Hands over a stored entry at or past {@link #readFrom()}, in index order. */
  public void take(LogEntry entry) {
    if (entry.index() >= tailFrom) {
      tail.add(entry);
    } else if (entry.index() >= keysFrom && entry.requestId() != null) {
      olderKeys.add(new IdempotencyKey(entry.index(), entry.requestId()));
    }
  }

  /** The log the replica starts from. */
  public ReplicatedLog log(LogLimits limits) {
    return ReplicatedLog.restore(baseIndex, termRuns, olderKeys, tail(), commitIndex, pagedIndex, limits);
  }

  /** Entries up to here left the store: the log begins after it. */
  public long baseIndex() {
    return baseIndex;
  }

  public List<TermRun> termRuns() {
    return termRuns;
  }

  public List<IdempotencyKey> olderKeys() {
    return List.copyOf(olderKeys);
  }

  /** The entries that go back into memory. */
  public List<LogEntry> tail() {
    return lastIndex == baseIndex ? List.of() : List.copyOf(tail);
  }

  /** What is known committed: the highest commit index stored, or the pages' end if further, within the log. */
  public long commitIndex() {
    return commitIndex;
  }

  public long pagedIndex() {
    return pagedIndex;
  }
}
