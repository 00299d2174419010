package dev.bully.core;

/**
 * How much of the log a node holds in memory. The store holds the whole log; memory holds only the
 * recent part that replication and client retries need at once, so a node's heap does not grow
 * with its log.
 *
 * @param memoryEntries   how many of the newest entries stay in memory once they are committed and
 *                        durable here; older ones are read back from the store when a follower far
 *                        behind or a reader asks for them. Uncommitted entries always stay.
 * @param idempotencyKeys how many of the newest entries' idempotency keys are remembered; a retry
 *                        whose original write is older than that is taken as a new write
 */
public record LogLimits(int memoryEntries, int idempotencyKeys) {
  public static final LogLimits DEFAULT = new LogLimits(50_000, 100_000);
  /** Everything in memory: for tests of rules that have nothing to do with eviction. */
  public static final LogLimits UNBOUNDED = new LogLimits(Integer.MAX_VALUE, Integer.MAX_VALUE);

  public LogLimits {
    if (memoryEntries < 1 || idempotencyKeys < 0) {
      throw new IllegalArgumentException("memoryEntries must be at least 1 and idempotencyKeys at least 0");
    }
  }
}
