package dev.bully.core;

/**
 * How much of the log a node holds in memory. The store holds the whole log; memory holds only the
 * recent part that replication and client retries need at once, so a node's heap does not grow
 * with its log, nor with the size of its entries.
 *
 * @param memoryEntries   how many of the newest entries stay in memory once the store's pages hold
 *                        them (committed and durable); older ones are read back from the store when a
 *                        follower far behind or a reader asks for them. Entries not yet paged stay.
 * @param idempotencyKeys how many of the newest entries' idempotency keys are remembered; a retry
 *                        whose original write is older than that is taken as a new write
 * @param memoryBytes     how much entry text (in characters, see {@link WriteLimits#entryChars})
 *                        the paged entries that stay in memory may hold: whichever of this and
 *                        {@code memoryEntries} is reached first lets the older ones leave
 * @param batchChars      the entry text one APPEND carries at most, but always one entry
 *                        ({@link WriteLimits#BATCH_CHARS} on a node; smaller in the simulator)
 * @param pageChars       the entry text one page of the store holds at most, but always one entry
 *                        ({@link WriteLimits#DOCUMENT_CHARS} on a node; smaller in the simulator)
 * @param retainEntries   how many of the newest entries the store keeps once they are applied: older
 *                        ones leave it ({@code log.retainEntries}), and a follower that needs them
 *                        receives a snapshot of the documents instead
 */
public record LogLimits(int memoryEntries, int idempotencyKeys, long memoryBytes, long batchChars, long pageChars,
                        long retainEntries) {
  public static final long DEFAULT_MEMORY_BYTES = 8L * 1024 * 1024;
  public static final long DEFAULT_RETAIN_ENTRIES = 100_000;
  public static final LogLimits DEFAULT = new LogLimits(50_000, 100_000, DEFAULT_MEMORY_BYTES);

  public LogLimits {
    if (memoryEntries < 1 || idempotencyKeys < 0 || memoryBytes < 1 || batchChars < 1 || pageChars < 1 || retainEntries < 1) {
      throw new IllegalArgumentException("memoryEntries, memoryBytes, batchChars, pageChars and retainEntries must be at least 1,"
          + " idempotencyKeys at least 0");
    }
  }

  public LogLimits(int memoryEntries, int idempotencyKeys, long memoryBytes, long batchChars, long pageChars) {
    this(memoryEntries, idempotencyKeys, memoryBytes, batchChars, pageChars, DEFAULT_RETAIN_ENTRIES);
  }

  public LogLimits(int memoryEntries, int idempotencyKeys, long memoryBytes) {
    this(memoryEntries, idempotencyKeys, memoryBytes, WriteLimits.BATCH_CHARS, WriteLimits.DOCUMENT_CHARS);
  }

  /** These limits, keeping {@code retain} of the newest entries in the store. */
  public LogLimits withRetainEntries(long retain) {
    return new LogLimits(memoryEntries, idempotencyKeys, memoryBytes, batchChars, pageChars, retain);
  }

  public LogLimits(int memoryEntries, int idempotencyKeys) {
    this(memoryEntries, idempotencyKeys, DEFAULT_MEMORY_BYTES);
  }

  /**
   * How much entry text not yet in the store's pages memory may hold (four times
   * {@link #memoryBytes}): past it a node takes no new entries until paging caught up.
   */
  public long unpagedBytes() {
    return 4 * memoryBytes;
  }

  /**
   * The first entry a restart reads back into memory, of a log that ends at {@code lastIndex} and
   * whose pages reach {@code pagedIndex}: every entry past the pages, and at least the last one.
   * Paged entries are not read back: however large they are, a restart reads only what memory
   * must hold, and followers far behind are served from the pages as before.
   */
  public long restoreFrom(long lastIndex, long pagedIndex) {
    return restoreFrom(0, lastIndex, pagedIndex);
  }

  /** {@link #restoreFrom(long, long)} of a log that begins after {@code baseIndex}: none when the base is the last entry. */
  public long restoreFrom(long baseIndex, long lastIndex, long pagedIndex) {
    return Math.max(baseIndex + 1, Math.min(pagedIndex + 1, lastIndex));
  }

  /** The first entry whose idempotency key a restart reads back, given where it reads entries from. */
  public long keysFrom(long lastIndex, long restoreFrom) {
    return keysFrom(0, lastIndex, restoreFrom);
  }

  /** {@link #keysFrom(long, long)} of a log that begins after {@code baseIndex}. */
  public long keysFrom(long baseIndex, long lastIndex, long restoreFrom) {
    return Math.max(baseIndex + 1, Math.min(restoreFrom, lastIndex - idempotencyKeys + 1));
  }
}
