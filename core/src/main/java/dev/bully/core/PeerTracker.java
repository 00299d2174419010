package dev.bully.core;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a coordinator knows about its followers: when each last acknowledged it, and since when each
 * has been continuously caught up. The first tells it whether it still leads a majority; the
 * second, which higher node may take over.
 */
final class PeerTracker {
  private final ElectionSettings settings;
  private final Map<Integer, Long> lastAckMs = new HashMap<>();
  private final Map<Integer, Long> caughtUpSinceMs = new HashMap<>();
  private final Map<Integer, LogPosition> bestLog = new HashMap<>();
  /** Learned from the gaps between a follower's acknowledgements, kept across terms: see {@link #silenceWindowMs}. */
  private final AdaptiveTimeout ackSilence;
  /** This coordinator's own pauses (see {@link FailureDetector}): its followers, alike, may pause as long. */
  private final AdaptiveTimeout ownPauses;

  PeerTracker(ElectionSettings settings, AdaptiveTimeout ownPauses) {
    this.settings = settings;
    this.ackSilence = new AdaptiveTimeout(settings.failureTimeoutMs(), settings.failureTimeoutMaxMs());
    this.ownPauses = ownPauses;
  }

  /**
   * How long a follower may go without acknowledging before the coordinator stops counting it as
   * reachable: twice the failure timeout, as learned from the followers' pauses and its own.
   */
  long silenceWindowMs(long nowMs) {
    return 2 * failureTimeoutMs(nowMs);
  }

  /** How long a follower's silence counts as a failure now, as learned from the followers' pauses and its own. */
  long failureTimeoutMs(long nowMs) {
    return Math.max(ackSilence.timeoutMs(nowMs), ownPauses.timeoutMs(nowMs));
  }

  /** A new term of leadership: the nodes that acknowledged the claim count as heard now. */
  void reset(Set<Integer> acknowledged, long nowMs) {
    lastAckMs.clear();
    caughtUpSinceMs.clear();
    bestLog.clear();
    acknowledged.stream().filter(id -> id != settings.nodeId()).forEach(id -> lastAckMs.put(id, nowMs));
  }

  /**
   * A peer acknowledged the coordinator with its log at {@code peerLog}. It counts as caught up when
   * its best position so far is in the term of the last committed entry and at most one batch
   * short of it: acknowledgements arrive late and out of order while writes keep committing, and
   * the hand-off brings the successor fully level before it claims.
   */
  void acknowledged(int peer, LogPosition peerLog, LogPosition committed, long nowMs) {
    Long previousAck = lastAckMs.put(peer, nowMs);
    if (previousAck != null) {
      ackSilence.gap(nowMs - previousAck, nowMs);
    }
    boolean continuous = previousAck != null && nowMs - previousAck < settings.failureTimeoutMs();
    LogPosition best = bestLog.merge(peer, peerLog, (a, b) -> a.isAtLeast(b) ? a : b);
    if (best.term() >= committed.term() && best.index() + Leader.MAX_BATCH >= committed.index()) {
      if (!continuous) {
        caughtUpSinceMs.remove(peer); // it was away: its caught-up time starts over
      }
      caughtUpSinceMs.putIfAbsent(peer, nowMs);
    } else {
      caughtUpSinceMs.remove(peer);
    }
  }

  /** The peers that acknowledged within {@code windowMs}; a fresh, mutable set. */
  Set<Integer> heardWithin(long windowMs, long nowMs) {
    Set<Integer> heard = new TreeSet<>();
    lastAckMs.forEach((peer, at) -> {
      if (nowMs - at < windowMs) {
        heard.add(peer);
      }
    });
    return heard;
  }

  /** The highest peer above {@code me} that is reachable now and has been caught up for {@code delayMs}. */
  Optional<Integer> highestCaughtUpAbove(int me, long delayMs, long windowMs, long nowMs) {
    return caughtUpSinceMs.entrySet().stream()
        .filter(e -> e.getKey() > me)
        .filter(e -> nowMs - e.getValue() >= delayMs)
        .filter(e -> nowMs - lastAckMs.getOrDefault(e.getKey(), Long.MIN_VALUE / 2) < windowMs)
        .map(Map.Entry::getKey)
        .max(Integer::compare);
  }

  long caughtUpSinceMs(int peer) {
    return caughtUpSinceMs.getOrDefault(peer, 0L);
  }
}
