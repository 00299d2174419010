package dev.bully.core;

import java.util.Set;

/**
 * A follower's view of its coordinator's liveness: how long it may stay silent before this node
 * suspects it ({@link AdaptiveTimeout}, learned from the gaps between its messages and from this
 * node's own pauses, plus a delay by rank), which members the cluster manager sees, and whether
 * this node itself just stalled.
 *
 * <p>A node whose own JVM paused (a collection, a starved core) wakes up to a tick that sees the
 * whole pause as silence, while the coordinator's messages of that time are still queued behind the
 * tick. So a tick that comes more than a heartbeat interval after the previous one judges nothing:
 * the queued messages are handled first, and the next tick decides.
 *
 * <p>Such a pause is also learned, as if the coordinator had been that silent: the members run the
 * same code under the same load, often on the same cores, so a node that pauses for 200 ms expects
 * its coordinator to pause as long. That is what lets a cluster ride through its first pauses, the
 * collections and compilations of a JVM just started, before it has seen its coordinator pause.
 * A coordinator reads the same record when it judges whether its followers still answer.
 */
final class FailureDetector {
  private final ElectionSettings settings;
  private final long stallMs;
  private final AdaptiveTimeout timeout;
  /** This node's own pauses (late ticks, collections). */
  private final AdaptiveTimeout ownPauses;
  private int lastSender;
  private long lastTerm = -1;
  private long lastHeardMs;
  /** Since when this node counts the coordinator's silence: its last heartbeat, or a restart of the count. */
  private long silentSinceMs;
  private long lastTickMs = Long.MIN_VALUE;
  /** The members the cluster manager sees: only a hint (a member it lists may still be hung). */
  private Set<Integer> liveMembers;

  FailureDetector(ElectionSettings settings, long nowMs) {
    this.settings = settings;
    this.liveMembers = Set.copyOf(settings.memberIds());
    this.stallMs = settings.heartbeatMs();
    this.timeout = new AdaptiveTimeout(settings.failureTimeoutMs(), settings.failureTimeoutMaxMs());
    this.ownPauses = new AdaptiveTimeout(settings.failureTimeoutMs(), settings.failureTimeoutMaxMs());
    this.silentSinceMs = nowMs;
  }

  /** This node's own pauses, which the coordinator's view of its followers ({@link PeerTracker}) reads too. */
  AdaptiveTimeout ownPauses() {
    return ownPauses;
  }

  /**
   * A message from {@code sender}, the coordinator of {@code term}: learns the gap since its
   * previous one; silence counts from now.
   */
  void heard(int sender, long term, long nowMs) {
    if (sender == lastSender && term == lastTerm) {
      timeout.gap(nowMs - lastHeardMs, nowMs);
    }
    lastSender = sender;
    lastTerm = term;
    lastHeardMs = nowMs;
    silentSinceMs = nowMs;
  }

  /** Silence counts from now (a claimer is given time to announce itself, a coordinator just stepped down). */
  void restartSilence(long nowMs) {
    silentSinceMs = nowMs;
  }

  /** When this node last heard its coordinator, or began to count silence again. */
  long silentSinceMs() {
    return silentSinceMs;
  }

  /**
   * Records a tick; true when it comes so late after the previous one that this node must have
   * stalled, a stall the timeout then learns.
   */
  boolean stalled(long nowMs) {
    boolean stalled = lastTickMs != Long.MIN_VALUE && nowMs - lastTickMs > stallMs;
    if (stalled) {
      ownPauses.gap(nowMs - lastTickMs, nowMs);
    }
    lastTickMs = nowMs;
    return stalled;
  }

  /**
   * This node's process was stopped for {@code pauseMs} (a collection, as the runtime reports it):
   * learned as the silence such a pause of the coordinator's would cause, the pause and the
   * heartbeat interval before it.
   */
  void paused(long pauseMs, long nowMs) {
    if (pauseMs > 0) {
      ownPauses.gap(pauseMs + stallMs, nowMs);
    }
  }

  /** When the last tick came; 0 before the first. */
  long lastTickMs() {
    return lastTickMs == Long.MIN_VALUE ? 0 : lastTickMs;
  }

  /** How long the coordinator may be silent now before this node suspects it. */
  long timeoutMs(long nowMs) {
    return Math.max(timeout.timeoutMs(nowMs), ownPauses.timeoutMs(nowMs));
  }

  /**
   * How long this node waits before it suspects {@code coordinator}: longer the more live nodes
   * rank above it, so the highest survivor notices first and claims before anyone else starts,
   * which makes the best case the common case. With no coordinator (0) there is no pause to sit
   * out, only the heartbeats of one this node has not heard yet: the configured timeout.
   */
  long suspicionTimeoutMs(int coordinator, long nowMs) {
    long higher = settings.memberIds().stream()
        .filter(id -> id > settings.nodeId() && id != coordinator && liveMembers.contains(id))
        .count();
    long silenceMs = coordinator == 0 ? settings.failureTimeoutMs() : timeoutMs(nowMs);
    return silenceMs + higher * settings.staggerMs();
  }

  void membersChanged(Set<Integer> members) {
    liveMembers = Set.copyOf(members);
  }

  boolean isLive(int node) {
    return liveMembers.contains(node);
  }
}
