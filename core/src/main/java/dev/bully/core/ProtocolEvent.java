package dev.bully.core;

import java.util.Collection;
import java.util.stream.Collectors;

/**
 * One protocol event, in the single fixed format that the logs, the scenario transcripts and the
 * dashboard timeline all share, e.g. {@code Node 4 is coordinator of term 9 (acks from 1,2,3,4)}.
 * Every line is made by a factory here, so the format lives in one place.
 *
 * @param kind the event's kind, for filtering and styling
 * @param node the node the event happened on
 * @param term the node's term after the event
 * @param text the transcript line
 */
public record ProtocolEvent(Kind kind, int node, long term, String text) {

  public enum Kind {
    SUSPECT, ELECTION, ANSWER, CLAIM, ACK, REJECT, COORDINATOR, FOLLOW, STEP_DOWN, TERM, TAKEOVER, PRE_VOTE, ROLLBACK,
    IGNORED, VIOLATION, SNAPSHOT, LOST_LOG
  }

  @Override
  public String toString() {
    return text;
  }

  static ProtocolEvent suspects(int node, long term, int coordinator, long silentMs) {
    return new ProtocolEvent(Kind.SUSPECT, node, term,
        "Node " + node + " suspects coordinator " + coordinator + " (no heartbeat for " + silentMs + " ms)");
  }

  static ProtocolEvent suspectsLeft(int node, long term, int coordinator) {
    return new ProtocolEvent(Kind.SUSPECT, node, term,
        "Node " + node + " suspects coordinator " + coordinator + " (it left the cluster)");
  }

  static ProtocolEvent noCoordinator(int node, long term, long silentMs) {
    return new ProtocolEvent(Kind.SUSPECT, node, term,
        "Node " + node + " has no coordinator (none heard for " + silentMs + " ms)");
  }

  static ProtocolEvent startsElection(int node, long term, long proposedTerm, String why) {
    return new ProtocolEvent(Kind.ELECTION, node, term,
        "Node " + node + " is starting an election (term " + proposedTerm + ")" + why);
  }

  static ProtocolEvent answered(int node, long term, int candidate) {
    return new ProtocolEvent(Kind.ANSWER, node, term, "Node " + node + " answered node " + candidate);
  }

  static ProtocolEvent preVoteFailed(int node, long term, long proposedTerm, Collection<Integer> votes, int majority) {
    return new ProtocolEvent(Kind.PRE_VOTE, node, term, "Node " + node + " gave up its pre-vote for term "
        + proposedTerm + " (" + votes.size() + " of " + majority + " needed: " + ids(votes) + ")");
  }

  static ProtocolEvent claims(int node, long term, Integer takeoverFrom) {
    return new ProtocolEvent(Kind.CLAIM, node, term, "Node " + node + " claims term " + term
        + (takeoverFrom == null ? "" : " (takeover from node " + takeoverFrom + ")"));
  }

  static ProtocolEvent claimFailed(int node, long term, Collection<Integer> acks, int majority) {
    return new ProtocolEvent(Kind.CLAIM, node, term, "Node " + node + " failed to claim term " + term
        + " (" + acks.size() + " of " + majority + " needed: " + ids(acks) + ")");
  }

  static ProtocolEvent acknowledged(int node, long term, int claimer) {
    return new ProtocolEvent(Kind.ACK, node, term, "Node " + node + " acknowledged node " + claimer + " for term " + term);
  }

  static ProtocolEvent rejected(int node, long term, String what, int sender, String reason) {
    return new ProtocolEvent(Kind.REJECT, node, term,
        "Node " + node + " rejected " + what + " from node " + sender + ": " + reason);
  }

  static ProtocolEvent coordinator(int node, long term, Collection<Integer> acks) {
    return new ProtocolEvent(Kind.COORDINATOR, node, term,
        "Node " + node + " is coordinator of term " + term + " (acks from " + ids(acks) + ")");
  }

  static ProtocolEvent follows(int node, long term, int coordinator) {
    return new ProtocolEvent(Kind.FOLLOW, node, term, "Node " + node + " follows coordinator " + coordinator + " (term " + term + ")");
  }

  static ProtocolEvent steppedDownForTerm(int node, long term, int sender) {
    return new ProtocolEvent(Kind.STEP_DOWN, node, term,
        "Node " + node + " stepped down: saw term " + term + " from node " + sender);
  }

  static ProtocolEvent steppedDownNoMajority(int node, long term, Collection<Integer> reachable, int majority, long windowMs) {
    return new ProtocolEvent(Kind.STEP_DOWN, node, term, "Node " + node + " stepped down: lost contact with a majority (heard "
        + ids(reachable) + " within " + windowMs + " ms, " + majority + " needed)");
  }

  static ProtocolEvent adoptedTerm(int node, long term, long previousTerm, int sender) {
    return new ProtocolEvent(Kind.TERM, node, term,
        "Node " + node + " moved from term " + previousTerm + " to term " + term + " (from node " + sender + ")");
  }

  static ProtocolEvent handsOver(int node, long term, int successor, long caughtUpMs) {
    return new ProtocolEvent(Kind.TAKEOVER, node, term,
        "Node " + node + " asks node " + successor + " to take over (caught up for " + caughtUpMs + " ms)");
  }

  static ProtocolEvent stepsDown(int node, long term, int successor) {
    return new ProtocolEvent(Kind.TAKEOVER, node, term,
        "Node " + node + " steps down: it takes no new writes and hands over to node " + successor);
  }

  static ProtocolEvent cannotStepDown(int node, long term) {
    return new ProtocolEvent(Kind.TAKEOVER, node, term,
        "Node " + node + " cannot step down: no follower is reachable and caught up");
  }

  static ProtocolEvent handOffAbandoned(int node, long term, int successor, long elapsedMs) {
    return new ProtocolEvent(Kind.TAKEOVER, node, term,
        "Node " + node + " leads on: node " + successor + " did not take over within " + elapsedMs + " ms");
  }

  static ProtocolEvent abandoned(int node, long term, int coordinator) {
    return new ProtocolEvent(Kind.FOLLOW, node, term,
        "Node " + node + " abandoned its election: coordinator " + coordinator + " is alive (term " + term + ")");
  }

  static ProtocolEvent rolledBack(int node, long term, java.util.List<LogEntry> removed, int coordinator) {
    LogEntry first = removed.get(0);
    LogEntry last = removed.get(removed.size() - 1);
    return new ProtocolEvent(Kind.ROLLBACK, node, term, "Node " + node + " rolled back entries " + first.index() + ".."
        + last.index() + " (from term " + first.term() + ") to match coordinator " + coordinator + " in term " + term);
  }

  static ProtocolEvent followerLostLog(int node, long term, int follower, long lastIndex) {
    return new ProtocolEvent(Kind.LOST_LOG, node, term, "Node " + node + " saw node " + follower + "'s log end at " + lastIndex
        + ", before entries it had acknowledged: it lost its store, and is sent them again");
  }

  static ProtocolEvent offersSnapshot(int node, long term, int follower, long index, String why) {
    return new ProtocolEvent(Kind.SNAPSHOT, node, term, "Node " + node + " offers node " + follower
        + " a snapshot up to entry " + index + " (" + why + ")");
  }

  static ProtocolEvent installsSnapshot(int node, long term, int coordinator, long index) {
    return new ProtocolEvent(Kind.SNAPSHOT, node, term, "Node " + node + " installs a snapshot up to entry " + index
        + " from coordinator " + coordinator + " (term " + term + ")");
  }

  static ProtocolEvent installedSnapshot(int node, long term, int coordinator, long index) {
    return new ProtocolEvent(Kind.SNAPSHOT, node, term, "Node " + node + " installed the snapshot up to entry " + index
        + " from coordinator " + coordinator + " (term " + term + ")");
  }

  /** A peer sent what no correct node sends: refused, counted, and the node goes on. */
  static ProtocolEvent violation(int node, long term, String type, int sender, String why) {
    return new ProtocolEvent(Kind.VIOLATION, node, term,
        "Node " + node + " refused " + type + " from node " + sender + " as a protocol violation: " + why);
  }

  static ProtocolEvent ignored(int node, long term, String what) {
    return new ProtocolEvent(Kind.IGNORED, node, term, "Node " + node + " ignored " + what);
  }

  private static String ids(Collection<Integer> ids) {
    return ids.stream().sorted().map(String::valueOf).collect(Collectors.joining(","));
  }
}
