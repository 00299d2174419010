package dev.bully.core;

/**
 * How much of the log a node holds in memory. The store holds the whole log; memory holds only the
 * recent part that replication and client retries need at once, so a node's heap does not grow
 * with its log.
 *
 * @param memoryEntries   how many of the newest entries stay in memory once the store's pages hold
 *                        them (committed and durable); older ones are read back from the store when a
 *                        follower far behind or a reader asks for them. Entries not yet paged stay.
 * @param idempotencyKeys how many of the newest entries' idempotency keys are remembered; a retry
 *                        whose original write is older than that is taken as a new write
 */
public record LogLimits(int memoryEntries, int idempotencyKeys) {
  public static final LogLimits DEFAULT = new LogLimits(50_000, 100_000);

  public LogLimits {
    if (memoryEntries < 1 || idempotencyKeys < 0) {
      throw new IllegalArgumentException("memoryEntries must be at least 1 and idempotencyKeys at least 0");
    }
  }

  /**
   * The first entry a restart reads back into memory, of a log that ends at {@code lastIndex} and
   * whose pages reach {@code pagedIndex}: every entry past the pages, and at least the newest
   * {@link #memoryEntries()}.
   */
  public long restoreFrom(long lastIndex, long pagedIndex) {
    return Math.max(1, Math.min(pagedIndex + 1, lastIndex - memoryEntries + 1));
  }

  /** The first entry whose idempotency key a restart reads back, given where it reads entries from. */
  public long keysFrom(long lastIndex, long restoreFrom) {
    return Math.max(1, Math.min(restoreFrom, lastIndex - idempotencyKeys + 1));
  }
}
