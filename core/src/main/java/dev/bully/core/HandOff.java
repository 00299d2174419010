package dev.bully.core;

/**
 * A coordinator passing its leadership to one follower, either for Bully priority (a higher node
 * stayed caught up for {@code takeoverDelayMs}) or because it was asked to step down (SIGTERM,
 * {@code POST /admin/stepdown}).
 *
 * <p>While a hand-off runs, the coordinator takes no new writes, so its log stops growing. TAKEOVER
 * goes out right behind the APPEND that carries the successor's last missing entries: messages
 * from one node to another arrive in order, so the successor holds the whole log when it reads
 * TAKEOVER, its claim for the next term cannot be refused for its log, and its new term commits
 * every entry (writes still waiting here are answered 503 when this node steps down; retried with
 * their Idempotency-Key, they find their entry). Its store writes those entries while its claim is
 * on its way, rather than before TAKEOVER is even sent. TAKEOVER is repeated each heartbeat until
 * the successor's claim arrives, in case it or an APPEND was lost; a hand-off that has not finished
 * within its limit is abandoned, and the coordinator leads on.
 */
final class HandOff {
  private static final long NEVER = Long.MIN_VALUE / 2;

  private int successor;
  private long startedMs;
  private long takeOverSentMs = NEVER;
  /** When the last priority hand-off began, so a flapping higher node cannot churn leadership. */
  private long lastPriorityMs = NEVER;

  boolean active() {
    return successor != 0;
  }

  /** The node being handed to, 0 when none. */
  int successor() {
    return successor;
  }

  /** Starts handing over to {@code to}; {@code byRequest}: an operator or a stopping node asked, rather than Bully priority. */
  void start(int to, boolean byRequest, long nowMs) {
    successor = to;
    startedMs = nowMs;
    takeOverSentMs = NEVER;
    if (!byRequest) {
      lastPriorityMs = nowMs;
    }
  }

  boolean expired(long limitMs, long nowMs) {
    return active() && nowMs - startedMs >= limitMs;
  }

  long elapsedMs(long nowMs) {
    return nowMs - startedMs;
  }

  /** Whether a priority hand-off began less than {@code intervalMs} ago. */
  boolean priorityDamped(long intervalMs, long nowMs) {
    return nowMs - lastPriorityMs < intervalMs;
  }

  /** Whether to send TAKEOVER now: the successor was sent the whole log, and TAKEOVER was not sent within the last {@code resendMs}. */
  boolean takeOverDue(long sentToSuccessor, long lastIndex, long resendMs, long nowMs) {
    if (!active() || sentToSuccessor < lastIndex || nowMs - takeOverSentMs < resendMs) {
      return false;
    }
    takeOverSentMs = nowMs;
    return true;
  }

  void clear() {
    successor = 0;
    takeOverSentMs = NEVER;
  }
}
