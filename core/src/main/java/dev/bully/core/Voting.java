package dev.bully.core;

import dev.bully.core.Message.Ack;
import dev.bully.core.Message.Answer;
import dev.bully.core.Message.Claim;
import dev.bully.core.Message.Reject;

/**
 * How a node answers other nodes' elections. A claim is acknowledged only by a node that has
 * promised no one else in that term and whose log is not ahead of the claimer's, and the promise is
 * persisted before the acknowledgement leaves: so at most one coordinator per term. A pre-vote is
 * refused by a node that still hears a live coordinator, so a node that was cut off cannot drive
 * terms up when it returns, and by a node that outranks the asker and is standing itself, so that
 * a lower node whose election outran its answers does not split the vote. An {@code ELECTION} is
 * answered by a node that outranks its sender in the Bully order ({@link BullyRank}), which then
 * runs its own election: so the highest-ranked node claims.
 *
 * <p>The term, the promise and the role are the replica's ({@link Election}); the term check has
 * been made when these run (a pre-vote's term is hypothetical and moves nothing).
 */
final class Voting {
  private final Election replica;
  private final ElectionSettings settings;
  private final int me;

  Voting(Election replica, ElectionSettings settings) {
    this.replica = replica;
    this.settings = settings;
    this.me = settings.nodeId();
  }

  /**
   * A message of an older term (the replica's term check found it): a coordinator, claimer or
   * would-be taker-over is told the current term; a node that lost the coordinator hears from it.
   */
  void onStale(Message message) {
    long term = replica.term();
    if (message instanceof Message.Heartbeat || message instanceof Claim || message instanceof Message.TakeOver
        || message instanceof Message.Append) {
      String reason = "stale term " + message.term() + " < " + term;
      replica.out().send(message.from(), new Reject(me, term, reason, 0));
      replica.out().event(ProtocolEvent.rejected(me, term, message.type(), message.from(), reason));
    } else if (message instanceof Message.Election election && replica.isCoordinator()) {
      replica.out().send(election.from(), replica.announcement());
    }
  }

  void onPreVote(Claim claim, long nowMs) {
    long term = replica.term();
    int promisedTo = replica.promisedTo();
    LogPosition mine = replica.log();
    String refusal = null;
    if (claim.term() <= term && !(claim.term() == term && (promisedTo == 0 || promisedTo == claim.from()))) {
      refusal = "term " + claim.term() + " is not newer than mine (" + term + ")";
    } else if (hearsLiveCoordinator(nowMs)) {
      refusal = "coordinator " + replica.coordinatorId() + " is alive";
    } else if (!claim.log().isAtLeast(mine)) {
      refusal = "its log " + claim.log() + " is behind mine " + mine;
    } else if (replica.candidacy().running() && new BullyRank(mine, me).outranks(new BullyRank(claim.log(), claim.from()))) {
      // Bully order in the pre-vote too: lower nodes whose answers came late do not split the vote with a higher one.
      refusal = "node " + me + " ranks above it and stands itself";
    }
    replica.out().send(claim.from(), refusal == null
        ? new Ack(me, term, mine, claim.term())
        : new Reject(me, term, refusal, claim.term()));
  }

  /** ELECTION and claims of this term; returns whether {@code message} was one. */
  boolean step(Message message, long nowMs) {
    if (message instanceof Message.Election election) {
      onElection(election, nowMs);
    } else if (message instanceof Claim claim) {
      onClaim(claim, nowMs);
    } else {
      return false;
    }
    return true;
  }

  /**
   * A voter that heard its coordinator this recently refuses pre-votes: within the configured
   * failure timeout less one heartbeat, so the follower that times out first is not refused by
   * voters whose last heartbeat arrived a moment later than its own. The configured timeout, not
   * the one this voter learned: followers learn at different times (one that led until a moment ago
   * has learned nothing yet), and a voter that learned more than the candidate would hold up a
   * real failover; the candidate's own learned timeout already keeps it from suspecting a pause.
   */
  private boolean hearsLiveCoordinator(long nowMs) {
    if (replica.isCoordinator()) {
      return true;
    }
    return replica.coordinatorId() != 0 && !replica.candidacy().suspectsCoordinator()
        && nowMs - replica.lastHeartbeatMs() < settings.liveCoordinatorWindowMs();
  }

  void onElection(Message.Election election, long nowMs) {
    OutputBuilder out = replica.out();
    long term = replica.term();
    int candidate = election.from();
    if (replica.isCoordinator()) {
      // The candidate lost us, but we are alive: tell it so directly.
      out.send(candidate, replica.announcement());
      return;
    }
    if (replica.retiring()) {
      out.event(ProtocolEvent.ignored(me, term, "ELECTION from node " + candidate + ": this node is stopping"));
      return;
    }
    BullyRank mine = new BullyRank(replica.log(), me);
    BullyRank theirs = new BullyRank(election.log(), candidate);
    if (!mine.outranks(theirs)) {
      out.event(ProtocolEvent.ignored(me, term, "ELECTION from " + theirs + ": it ranks above me, " + mine));
      return;
    }
    out.send(candidate, new Answer(me, term));
    out.event(ProtocolEvent.answered(me, term, candidate));
    if (!replica.candidacy().running()) {
      replica.candidacy().start(nowMs, true);
    }
  }

  void onClaim(Claim claim, long nowMs) {
    OutputBuilder out = replica.out();
    long term = replica.term();
    int promisedTo = replica.promisedTo();
    LogPosition mine = replica.log();
    int claimer = claim.from();
    String refusal = null;
    if (replica.isCoordinator()) {
      refusal = "I am coordinator of term " + term;
    } else if (promisedTo != 0 && promisedTo != claimer) {
      refusal = "already acknowledged node " + promisedTo + " for term " + term;
    } else if (!claim.log().isAtLeast(mine)) {
      refusal = "its log " + claim.log() + " is behind mine " + mine;
    }
    if (refusal != null) {
      out.send(claimer, new Reject(me, term, refusal, 0));
      out.event(ProtocolEvent.rejected(me, term, "the claim for term " + term, claimer, refusal));
      return;
    }
    replica.promise(claimer);
    replica.becomeFollower(0);
    // Give the claimer as long to announce itself as it waits for acknowledgements, before suspecting it.
    replica.restartSilence(nowMs);
    replica.candidacy().holdOffUntil(nowMs + settings.claimTimeoutMs());
    out.send(claimer, new Ack(me, term, mine, 0));
    out.event(ProtocolEvent.acknowledged(me, term, claimer));
  }
}
