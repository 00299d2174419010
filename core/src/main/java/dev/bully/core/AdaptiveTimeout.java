package dev.bully.core;

/**
 * How long silence must last before it counts as a failure, learned from the silences that were not.
 *
 * <p>A live peer goes quiet now and then: a collection pauses its JVM, a loaded core runs something
 * else, a large batch is encoded ahead of a heartbeat. A fixed timeout short enough for a fast
 * failover mistakes such pauses for failures on a loaded machine, and every mistake costs an
 * election. So each node records the gaps between consecutive messages of a peer that was alive
 * on both sides of the gap, and waits for {@link #FACTOR} times the longest gap of the last
 * {@link #WINDOW_MS}: never less than the configured {@code failureTimeoutMs}, never more than
 * {@code failureTimeoutMaxMs}. Idle, a cluster fails over as fast as configured; under a load that
 * pauses it, it waits for what it has seen that load do; when the load ends, the timeout comes
 * back down within the window. A gap longer than the ceiling is an outage, not a pause, and is not
 * learned. Only liveness depends on this: terms and votes keep the election safe whatever a timeout is.
 *
 * <p>The history is the longest gap of each of {@link #BUCKETS} spans of the window: constant
 * memory and time, forgotten a span at a time.
 */
final class AdaptiveTimeout {
  static final long WINDOW_MS = 20_000;
  static final int FACTOR = 2;
  private static final int BUCKETS = 4;
  private static final long SPAN_MS = WINDOW_MS / BUCKETS;

  private final long floorMs;
  private final long ceilingMs;
  private final long[] longestGapMs = new long[BUCKETS];
  private final long[] spanOf = new long[BUCKETS];

  AdaptiveTimeout(long floorMs, long ceilingMs) {
    if (floorMs <= 0 || ceilingMs < floorMs) {
      throw new IllegalArgumentException("timeouts must satisfy 0 < " + floorMs + " <= " + ceilingMs);
    }
    this.floorMs = floorMs;
    this.ceilingMs = ceilingMs;
    java.util.Arrays.fill(spanOf, Long.MIN_VALUE);
  }

  /** A live peer was silent for {@code gapMs}, ending now. */
  void gap(long gapMs, long nowMs) {
    if (gapMs <= 0 || gapMs > ceilingMs) {
      return;
    }
    long span = Math.floorDiv(nowMs, SPAN_MS);
    int slot = (int) Math.floorMod(span, BUCKETS);
    if (spanOf[slot] != span) {
      spanOf[slot] = span;
      longestGapMs[slot] = 0;
    }
    longestGapMs[slot] = Math.max(longestGapMs[slot], gapMs);
  }

  /** The longest gap recorded within the last {@link #WINDOW_MS} (to a span), 0 when none. */
  long longestGapMs(long nowMs) {
    long current = Math.floorDiv(nowMs, SPAN_MS);
    long longest = 0;
    for (int slot = 0; slot < BUCKETS; slot++) {
      if (spanOf[slot] > current - BUCKETS) {
        longest = Math.max(longest, longestGapMs[slot]);
      }
    }
    return longest;
  }

  /** How long silence must last now before it counts as a failure. */
  long timeoutMs(long nowMs) {
    return Math.min(ceilingMs, Math.max(floorMs, FACTOR * longestGapMs(nowMs)));
  }
}
