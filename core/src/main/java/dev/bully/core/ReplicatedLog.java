package dev.bully.core;

import java.util.ArrayList;
import java.util.List;

/**
 * A node's copy of the replicated log, with the rules for changing it. The store holds the durable
 * copy of every entry; this class holds the newest entries, the term of every entry (as
 * {@link TermRun runs}) and the newest idempotency keys, within {@link LogLimits}.
 *
 * <p>The coordinator only ever appends. A follower accepts entries only when they continue its
 * log at the coordinator's {@code (prevIndex, prevTerm)}; where its log disagrees with the
 * coordinator's, the conflicting suffix is removed and returned, so the driver can move it to the
 * {@code rollback} collection instead of deleting it. A committed entry is never removed: the
 * election only lets a node lead if its log holds every committed entry, so a conflict below the
 * commit index would mean the protocol is broken, and is reported as such.
 *
 * <p>Only entries that are committed and that the store holds in its pages (the immutable, indexed
 * copy of committed entries, see {@link #pagedTo}) leave memory ({@link #release}), so the entries
 * a rollback removes are always at hand, and an entry that is no longer in memory can be read from
 * the store and will never change there.
 *
 * <p>The log may begin after a <em>base</em>: entries up to {@link #baseIndex} left the store once
 * this node had applied them ({@link #compactTo}), or were never here because a snapshot of the
 * documents took their place ({@link #resetTo}). Only the base entry's term is known; every entry up
 * to it is committed, so it is the same on every node that holds it.
 */
public final class ReplicatedLog {
  /** The term of an entry before the base: no longer known. */
  public static final long UNKNOWN_TERM = -2;

  private final LogLimits limits;
  /** The entries from {@link #firstInMemory} to {@link #lastIndex}, in order. */
  private final EntriesInMemory memory = new EntriesInMemory();
  private long lastIndex;
  /** Entries up to here are not in the log any more (committed, applied, compacted or replaced by a snapshot). */
  private long baseIndex;
  /** A compaction the store is carrying out: entries up to here are leaving it. */
  private long compactingIndex;
  private final TermRuns terms = new TermRuns();
  private final IdempotencyKeys keys;
  private long commitIndex;
  /** Entries up to here are in the store's pages: committed, durable, and read back by index. */
  private long pagedIndex;

  public ReplicatedLog(LogLimits limits) {
    this.limits = limits;
    this.keys = new IdempotencyKeys(limits.idempotencyKeys());
  }

  public static ReplicatedLog empty() {
    return new ReplicatedLog(LogLimits.DEFAULT);
  }

  /**
   * A log restored from what the store holds, without reading every entry back into memory.
   *
   * @param baseIndex   where the log begins: 0, or the entry it begins after (its entries up to there
   *                    left the store); the term runs then begin at it, and the tail may be empty
   * @param termRuns    the terms of all entries, oldest first, covering the base (or index 1) to the tail's last entry
   * @param olderKeys   idempotency keys of entries before the tail, in index order
   * @param tail        the newest entries, consecutive, ending with the log's last entry; it holds at
   *                    least every entry after {@code pagedIndex}
   * @param commitIndex an index known to be committed (it was committed when the store wrote it)
   * @param pagedIndex  how far the store's pages reach (at most {@code commitIndex})
   */
  public static ReplicatedLog restore(long baseIndex, List<TermRun> termRuns, List<IdempotencyKey> olderKeys,
                                      List<LogEntry> tail, long commitIndex, long pagedIndex, LogLimits limits) {
    ReplicatedLog log = new ReplicatedLog(limits);
    if (baseIndex > 0) {
      if (termRuns.isEmpty() || termRuns.get(0).firstIndex() != baseIndex) {
        throw new IllegalArgumentException("a log based at " + baseIndex + " whose term runs begin at "
            + (termRuns.isEmpty() ? "no entry" : termRuns.get(0).firstIndex()));
      }
      termRuns.forEach(run -> log.terms.add(run.firstIndex(), run.term()));
      log.baseIndex = baseIndex;
      log.lastIndex = baseIndex;
      log.memory.startAt(baseIndex + 1);
      log.commitIndex = baseIndex;
      log.pagedIndex = baseIndex;
      if (tail.isEmpty()) {
        if (termRuns.size() > 1) {
          throw new IllegalArgumentException("a log with terms past its base " + baseIndex + " but no entries");
        }
        olderKeys.forEach(log.keys::remember);
        return log;
      }
    } else if (tail.isEmpty()) {
      if (!termRuns.isEmpty()) {
        throw new IllegalArgumentException("a log with terms but no entries");
      }
      return log;
    }
    long first = tail.get(0).index();
    if (first > pagedIndex + 1 || pagedIndex > commitIndex) {
      throw new IllegalArgumentException("entries " + (pagedIndex + 1) + ".." + (first - 1)
          + " are not in the store's pages (up to " + pagedIndex + ", commit index " + commitIndex
          + "), yet they are not among the entries given");
    }
    if (baseIndex == 0) {
      termRuns.forEach(run -> log.terms.add(run.firstIndex(), run.term()));
    } else if (first <= baseIndex) {
      throw new IllegalArgumentException("entry " + first + " is at or before the log's base " + baseIndex);
    }
    log.memory.startAt(first);
    log.lastIndex = first - 1;
    olderKeys.forEach(log.keys::remember);
    tail.forEach(log::add);
    for (LogEntry entry : tail) {
      if (log.terms.termAt(entry.index()) != entry.term()) {
        throw new IllegalArgumentException("entry " + entry.index() + " has term " + entry.term()
            + " but the term runs say " + log.terms.termAt(entry.index()));
      }
    }
    log.commitIndex = Math.max(baseIndex, Math.min(commitIndex, log.lastIndex));
    log.pagedIndex = Math.max(baseIndex, Math.min(pagedIndex, log.commitIndex));
    return log;
  }

  public long lastIndex() {
    return lastIndex;
  }

  public LogPosition last() {
    return lastIndex == 0 ? LogPosition.EMPTY : new LogPosition(terms.termAt(lastIndex), lastIndex);
  }

  /** The index of the oldest entry held in memory; entries before it are read from the store. */
  public long firstInMemory() {
    return memory.first();
  }

  /** The log's base: entries up to here left the log (and the store); only its term is known. 0: the log begins at 1. */
  public long baseIndex() {
    return baseIndex;
  }

  /** The term of the entry at {@code index}; 0 for index 0, -1 past the end, {@link #UNKNOWN_TERM} before the base. */
  public long termAt(long index) {
    if (index == 0) {
      return 0;
    }
    if (index < baseIndex) {
      return UNKNOWN_TERM;
    }
    return index <= lastIndex ? terms.termAt(index) : -1;
  }

  /** The entry at {@code index}, which must be in memory. */
  public LogEntry entry(long index) {
    if (index < memory.first() || index > lastIndex) {
      throw new BrokenInvariant("entry " + index + " is not in memory (" + memory.first() + ".." + lastIndex + ")");
    }
    return memory.get(index);
  }

  /** Up to {@code max} entries from {@code from} on, of those in memory: none before {@link #firstInMemory}. */
  public List<LogEntry> slice(long from, int max) {
    return memory.slice(from, max);
  }

  /** Up to {@code max} entries from {@code from} on, of those in memory, within {@code maxChars} of text, but one at least. */
  public List<LogEntry> slice(long from, int max, long maxChars) {
    return memory.slice(from, max, maxChars);
  }

  /** The characters of text of the entries from {@code from} to {@code to}, both in memory. */
  public long chars(long from, long to) {
    return memory.chars(from, to);
  }

  /** The characters of text of every entry in memory. */
  public long memoryChars() {
    return memory.chars(memory.first(), lastIndex);
  }

  public long commitIndex() {
    return commitIndex;
  }

  /** The index of the entry written with this idempotency key, if the key is remembered. */
  public Long indexOf(String requestId) {
    return keys.indexOf(requestId);
  }

  /** The terms of all entries, as runs: what the store keeps per segment, and what a restart needs. */
  public List<TermRun> termRuns() {
    return terms.asList();
  }

  /** The coordinator appends new entries of its own term. */
  public List<LogEntry> appendNew(long term, List<Write> writes) {
    List<LogEntry> appended = new ArrayList<>(writes.size());
    for (Write write : writes) {
      LogEntry entry = new LogEntry(lastIndex + 1, term, write.requestId(), write.data(), write.timestampMs());
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
    if (prevIndex < baseIndex) {
      // Entries up to the base are committed, so they are the coordinator's too: only what lies past it is new here.
      int skip = (int) Math.min(incoming.size(), baseIndex - prevIndex);
      if (skip == baseIndex - prevIndex && incoming.get(skip - 1).term() != terms.termAt(baseIndex)) {
        return AppendResult.violation("its entry " + baseIndex + " of term " + incoming.get(skip - 1).term()
            + " would replace committed entry " + baseIndex + " of term " + terms.termAt(baseIndex));
      }
      if (skip < baseIndex - prevIndex) {
        return AppendResult.accepted(prevIndex + incoming.size(), List.of(), List.of());
      }
      return accept(baseIndex, terms.termAt(baseIndex), incoming.subList(skip, incoming.size()));
    }
    if (prevIndex > lastIndex) {
      return AppendResult.mismatch(lastIndex);
    }
    if (termAt(prevIndex) != prevTerm) {
      // Our entry at prevIndex is from another term: back up past every entry of that term here, in
      // one step rather than one entry per round trip. Entries that do agree are sent again, and skipped.
      return AppendResult.mismatch(terms.firstIndexOfRunAt(prevIndex) - 1);
    }
    String violation = committedConflict(incoming);
    if (violation != null) {
      return AppendResult.violation(violation);
    }
    List<LogEntry> removed = List.of();
    List<LogEntry> appended = new ArrayList<>();
    for (LogEntry entry : incoming) {
      if (entry.index() <= lastIndex) {
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

  /**
   * Why {@code incoming} cannot come from a coordinator of a later term than the committed
   * entries, or null when it can: it disagrees with an entry this node has committed. Checked
   * before anything changes, so such an APPEND leaves the log as it was.
   */
  private String committedConflict(List<LogEntry> incoming) {
    for (LogEntry entry : incoming) {
      if (entry.index() > Math.min(lastIndex, commitIndex)) {
        return null;
      }
      if (entry.index() >= baseIndex && termAt(entry.index()) != entry.term()) {
        return "its entry " + entry.index() + " of term " + entry.term() + " would replace committed entry "
            + entry.index() + " of term " + termAt(entry.index()) + " (commit index " + commitIndex + ")";
      }
    }
    return null;
  }

  /** Advances the commit index, never past the end of the log and never backwards. */
  public boolean commitTo(long index) {
    long target = Math.min(index, lastIndex);
    if (target > commitIndex) {
      commitIndex = target;
      return true;
    }
    return false;
  }

  /** How far the store's pages reach: every entry up to here can be read back from the store by index. */
  public long pagedIndex() {
    return pagedIndex;
  }

  /** The store wrote the committed entries up to {@code index} into its pages. */
  public void pagedTo(long index) {
    if (index > commitIndex) {
      throw new BrokenInvariant("entries up to " + index + " were paged, but only " + commitIndex + " are committed");
    }
    pagedIndex = Math.max(pagedIndex, index);
  }

  /**
   * Where the log will begin once the compaction on its way is done: a follower that needs an entry
   * up to here is offered a snapshot, since the store may no longer serve it.
   */
  public long compactionTarget() {
    return Math.max(baseIndex, compactingIndex);
  }

  /** The store begins to remove the entries up to {@code index} (see {@link #compactTo}). */
  public void compacting(long index) {
    if (index > pagedIndex) {
      throw new BrokenInvariant("entries up to " + index + " are to be compacted, but the pages reach only " + pagedIndex);
    }
    compactingIndex = Math.max(compactingIndex, index);
  }

  /**
   * The store removed every entry up to {@code index} (paged, and applied on this node): the log
   * now begins after it. Entries still in memory up to it leave memory too.
   */
  public void compactTo(long index) {
    if (index <= baseIndex) {
      return;
    }
    if (index > pagedIndex) {
      throw new BrokenInvariant("entries up to " + index + " were compacted, but the pages reach only " + pagedIndex);
    }
    terms.forgetBefore(index);
    baseIndex = index;
    memory.dropUpTo(index);
  }

  /**
   * A snapshot of the documents up to {@code index}, whose entry has {@code term}, takes the place of
   * this log, which lacks that entry (a log that holds it needs no snapshot): the log begins after
   * it, as committed. Returns the entries removed, none of them committed (a committed entry at or
   * before {@code index} is the snapshot's own, and one after it would mean the log held the entry).
   */
  public List<LogEntry> resetTo(long index, long term) {
    if (holds(index, term)) {
      throw new BrokenInvariant("a snapshot up to entry " + index + " of term " + term + " would replace a log that holds it");
    }
    if (commitIndex > index) {
      throw new BrokenInvariant("a snapshot up to entry " + index + " would replace committed entries up to " + commitIndex);
    }
    List<LogEntry> removed = commitIndex < lastIndex ? truncateFrom(commitIndex + 1) : List.of();
    memory.startAt(index + 1);
    terms.resetTo(index, term);
    baseIndex = index;
    compactingIndex = Math.max(compactingIndex, index);
    lastIndex = index;
    commitIndex = index;
    pagedIndex = index;
    return removed;
  }

  /** Whether this log holds the entry at {@code index} with {@code term}: it then matches any log that does up to there. */
  public boolean holds(long index, long term) {
    return index <= lastIndex && index >= baseIndex && termAt(index) == term;
  }

  /** The newest entries that memory keeps, and that the store should page before they may leave. */
  public LogLimits limits() {
    return limits;
  }

  /**
   * Lets entries that the store's pages hold leave memory, keeping the newest
   * {@link LogLimits#memoryEntries()} and at most {@link LogLimits#memoryBytes()} of them. By
   * count, entries leave in chunks of a quarter of that, so that the list is not shifted on every
   * append; by size, as soon as memory holds more (large entries are few).
   */
  public void release() {
    long firstInMemory = memory.first();
    long byCount = Math.min(pagedIndex, lastIndex - limits.memoryEntries()) - firstInMemory + 1;
    long last = byCount >= Math.max(1, limits.memoryEntries() / 4) ? firstInMemory + byCount - 1 : firstInMemory - 1;
    while (last < pagedIndex && chars(last + 1, lastIndex) > limits.memoryBytes()) {
      last++;
    }
    memory.dropUpTo(last);
  }

  private List<LogEntry> truncateFrom(long index) {
    if (index <= commitIndex) {
      throw new BrokenInvariant("asked to remove committed entry " + index + " (commit index " + commitIndex + ")");
    }
    if (index < memory.first()) {
      // Only committed entries leave memory, so this cannot happen while the commit check above holds.
      throw new BrokenInvariant("asked to remove entry " + index + ", which is no longer in memory");
    }
    List<LogEntry> tail = memory.removeFrom(index);
    lastIndex = index - 1;
    terms.truncateFrom(index);
    keys.forgetFrom(index);
    return tail;
  }

  private void add(LogEntry entry) {
    if (entry.index() != lastIndex + 1) {
      throw new BrokenInvariant("entry " + entry.index() + " does not follow " + lastIndex);
    }
    memory.add(entry);
    lastIndex = entry.index();
    terms.add(entry.index(), entry.term());
    if (entry.requestId() != null) {
      keys.remember(new IdempotencyKey(entry.index(), entry.requestId()));
    }
  }
}
