package dev.bully.core;

import java.util.List;

/**
 * A replica's log as its driver sees it: what to read, what to page into the store, and how much
 * of it the store holds durably. The replica ({@link Election}) changes the log; the driver reads
 * it here and reports what its store did ({@link #paged}, and {@link Election#localPersisted}).
 */
public final class LogView {
  private final ReplicatedLog log;
  /** How much of the log the store has reported durable (the driver tells, after each write). */
  private long durableIndex;
  /** Up to where this node's documents hold every operation durably (the driver tells, each tick); 0 until it does. */
  private long appliedDurably;

  LogView(ReplicatedLog log) {
    this.log = log;
    this.durableIndex = log.lastIndex();
  }

  /** The index of the entry written with this idempotency key, if this node's log has one. */
  public Long indexOf(String requestId) {
    return log.indexOf(requestId);
  }

  /** The term of the entry at {@code index} in this node's log, 0 before the log, -1 past its end. */
  public long termAt(long index) {
    return log.termAt(index);
  }

  /** The highest index this node knows to be committed. */
  public long commitIndex() {
    return log.commitIndex();
  }

  /** How much of this node's log its store has reported durable. */
  public long durableIndex() {
    return durableIndex;
  }

  /**
   * Entries of this node's log from {@code from} on, committed or not, at most {@code limit}, of
   * those in memory: none before {@link #firstInMemory()}, which the driver reads from its store.
   */
  public List<LogEntry> entries(long from, int limit) {
    return log.slice(from, limit);
  }

  /** Committed entries from {@code from} on, at most {@code limit}, of those in memory (see {@link #entries}). */
  public List<LogEntry> committed(long from, int limit) {
    long last = Math.min(log.commitIndex(), from + limit - 1);
    return last < from ? List.of() : log.slice(from, (int) (last - from + 1));
  }

  /** The oldest entry in memory; every entry before it is committed and in this node's store's pages. */
  public long firstInMemory() {
    return log.firstInMemory();
  }

  /**
   * Committed entries that this node's store holds durably and should now write into its pages:
   * a full page's worth ({@code pageEntries} entries, or half of {@link LogLimits#pageChars()}
   * of text), or whatever would otherwise have to stay in memory past {@link LogLimits}. A page
   * holds at most {@code pageEntries} entries and {@link LogLimits#pageChars()} of text, and
   * at least one entry. Empty when nothing is due.
   */
  public List<LogEntry> entriesToPage(int pageEntries) {
    long pageable = Math.min(log.commitIndex(), durableIndex);
    long paged = log.pagedIndex();
    long unpaged = pageable - paged;
    if (unpaged <= 0) {
      return List.of();
    }
    boolean full = unpaged >= pageEntries || log.chars(paged + 1, pageable) >= log.limits().pageChars() / 2;
    boolean overMemory = paged < Math.min(pageable, log.lastIndex() - log.limits().memoryEntries())
        || log.memoryChars() > log.limits().memoryBytes();
    if (full || overMemory) {
      return log.slice(paged + 1, (int) Math.min(pageEntries, unpaged), log.limits().pageChars());
    }
    return List.of();
  }

  /** The driver wrote entries up to {@code index} into its store's pages: they may leave memory. */
  public void paged(long index) {
    log.pagedTo(index);
    log.release();
  }

  /**
   * Whether this node's memory holds more entries not yet in the store's pages than it may
   * ({@link LogLimits#unpagedBytes()}): a coordinator then proposes no new client writes until
   * pages were written or entries committed. Writing pages is what lets entries leave memory,
   * and nothing else would hold the writes back.
   */
  public boolean memoryFull() {
    return log.chars(log.pagedIndex() + 1, log.lastIndex()) > log.limits().unpagedBytes();
  }

  /**
   * Whether this follower's committed entries that are not yet in its pages fill its memory:
   * paging is behind, and it holds back its answers to APPENDs until it caught up, so the
   * coordinator's pipeline (a few batches per follower) fills and it sends no more. Only
   * committed ones count: uncommitted entries are bounded by the coordinator's own
   * {@link #memoryFull}, and holding back for them could keep the coordinator from ever
   * committing (an entry of an older term commits only with one of the current term).
   */
  boolean pagingBehind() {
    return log.chars(log.pagedIndex() + 1, log.commitIndex()) > log.limits().unpagedBytes();
  }

  /** The store reported the log durable up to {@code index} (capped at the log's end). */
  void persisted(long index) {
    durableIndex = Math.min(index, log.lastIndex());
  }

  /** A snapshot took the log's place: nothing of it is durable but the base, once the reset is written. */
  void resetTo(long index) {
    durableIndex = Math.min(durableIndex, index);
  }

  /** Entries up to here left the log, or a snapshot took their place: see {@link ReplicatedLog#baseIndex}. */
  public long baseIndex() {
    return log.baseIndex();
  }

  /**
   * How far the log may be compacted now, or -1 when not past its base: the entries this node's
   * documents applied durably ({@code durableApplied}), committed and in the pages, except the
   * newest {@link LogLimits#retainEntries()}, and not past {@code pin} (the base of a snapshot
   * that a follower installs or catches up from), once that is a sixteenth of the retained entries
   * past the log's base. The store says how far it got ({@link #compacted}).
   */
  public long compactable(long durableApplied, long pin) {
    long target = Math.min(Math.min(durableApplied, log.pagedIndex()), Math.min(pin, log.lastIndex() - log.limits().retainEntries()));
    // In steps of a sixteenth of what is retained: a compaction per tick, each to a few entries further, costs a store
    // write and a force each for next to nothing.
    return target - log.compactionTarget() >= Math.max(1, log.limits().retainEntries() / 16) ? target : -1;
  }

  /** This node's documents hold every operation up to {@code index} durably: a snapshot offered now may reach that far. */
  public void appliedDurably(long index) {
    appliedDurably = Math.max(appliedDurably, index);
  }

  /** See {@link #appliedDurably(long)}. */
  long appliedDurably() {
    return appliedDurably;
  }

  /** The store begins to remove the entries up to {@code index}. */
  public void compacting(long index) {
    log.compacting(index);
  }

  /** The store removed the entries up to {@code index}: the log begins after it. */
  public void compacted(long index) {
    log.compactTo(index);
  }

  /** Entries from {@code index} on were removed: what the store holds durably ends before them. */
  void removedFrom(long index) {
    durableIndex = Math.min(durableIndex, index - 1);
  }
}
