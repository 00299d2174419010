package dev.bully.core;

import java.util.List;

/**
 * The static facts an election runs on: who this node is, who the members are, and the timings.
 *
 * <p>Derived timings: a node waits {@link #answerTimeoutMs()} for answers to an election or a pre-vote
 * and {@link #claimTimeoutMs()} for acknowledgements of a claim (each voter persists before it
 * answers); both end early once the outcome is known, so they cost nothing when all goes well;
 * follower timeouts are staggered by {@link #staggerMs()} per higher live id, so the highest
 * survivor notices first; after a failed claim a node backs off for a random time so that two
 * claimers do not collide again.
 *
 * @param nodeId           this node
 * @param memberIds        every configured node, this one included
 * @param heartbeatMs      the coordinator's heartbeat interval
 * @param failureTimeoutMs silence after which the highest follower suspects the coordinator, while
 *                         the cluster has not been seen to pause for longer ({@link AdaptiveTimeout})
 * @param takeoverDelayMs  how long a higher node must stay caught up before it is asked to take over
 * @param failureTimeoutMaxMs the most the failure timeout grows to when the cluster is seen to pause
 */
public record ElectionSettings(int nodeId, List<Integer> memberIds, long heartbeatMs, long failureTimeoutMs,
                               long takeoverDelayMs, long failureTimeoutMaxMs) {

  /** How many times the configured failure timeout it may grow to by default. */
  public static final int DEFAULT_MAX_FACTOR = 10;

  /** Settings with the default ceiling of the failure timeout, {@link #DEFAULT_MAX_FACTOR} times it. */
  public ElectionSettings(int nodeId, List<Integer> memberIds, long heartbeatMs, long failureTimeoutMs, long takeoverDelayMs) {
    this(nodeId, memberIds, heartbeatMs, failureTimeoutMs, takeoverDelayMs, DEFAULT_MAX_FACTOR * failureTimeoutMs);
  }

  public ElectionSettings {
    memberIds = memberIds.stream().sorted().toList();
    if (!memberIds.contains(nodeId)) {
      throw new IllegalArgumentException("node " + nodeId + " is not among " + memberIds);
    }
    if (failureTimeoutMs < 2 * heartbeatMs) {
      throw new IllegalArgumentException("failureTimeoutMs must be at least twice heartbeatMs");
    }
    if (failureTimeoutMaxMs < failureTimeoutMs) {
      throw new IllegalArgumentException("failureTimeoutMaxMs must be at least failureTimeoutMs");
    }
  }

  /** Acknowledgements, this node's own included, that make a majority of the configured cluster. */
  public int majority() {
    return memberIds.size() / 2 + 1;
  }

  public long answerTimeoutMs() {
    return failureTimeoutMs;
  }

  public long claimTimeoutMs() {
    return 2 * failureTimeoutMs;
  }

  public long staggerMs() {
    return failureTimeoutMs / 2;
  }

  /** How long a node that was answered waits for the new coordinator before it starts over. */
  public long awaitCoordinatorMs() {
    return 3 * failureTimeoutMs;
  }

  /** A voter that heard its coordinator this recently refuses pre-votes (see {@code Election.hearsLiveCoordinator}). */
  public long liveCoordinatorWindowMs() {
    return failureTimeoutMs - heartbeatMs;
  }

  public boolean isMember(int id) {
    return memberIds.contains(id);
  }
}
