package dev.bully.core;

import java.util.Map;

/**
 * A node's protocol state at one moment, as the API, the dashboard and the tests see it.
 *
 * @param nodeId          the node
 * @param role            its role
 * @param term            its current term
 * @param coordinatorId   the coordinator it follows (itself when coordinator), or 0 when none is known
 * @param log             the position of its last log entry
 * @param commitIndex     the highest index it knows to be committed
 * @param lastHeartbeatMs when it last heard its coordinator (its own time), or when it started
 * @param behind          on a follower, how many of its coordinator's entries it does not have yet (as of the
 *                        coordinator's last word); 0 on a coordinator and with no coordinator
 * @param followerMatch   on a coordinator, how far each follower's log is known to match its own; empty elsewhere
 * @param failureTimeoutMs as of its last tick, how long a silence of its coordinator (on a coordinator: of a
 *                        follower) counts as a failure, as learned from the pauses it has seen
 */
public record Status(int nodeId, Role role, long term, int coordinatorId, LogPosition log, long commitIndex,
                     long lastHeartbeatMs, long behind, Map<Integer, Long> followerMatch, long failureTimeoutMs) {
}
