package dev.bully.core;

import dev.bully.core.Message.Ack;
import dev.bully.core.Message.Answer;
import dev.bully.core.Message.Claim;
import dev.bully.core.Message.Reject;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.random.RandomGenerator;

/**
 * The election a node runs once it suspects its coordinator, as the Bully algorithm orders it: ask
 * every higher node ({@code ELECTION}) and wait for their answers; with none, a pre-vote (would a
 * majority acknowledge me, without raising anyone's term?); then the claim for the next term,
 * which needs acknowledgements from a majority. A higher node that answers runs its own election,
 * so the highest eligible node claims. After a failed pre-vote or claim the node backs off for a
 * random while so that rivals do not collide again.
 *
 * <p>The term, the promise and the role are the replica's ({@link Election}): this class changes
 * them only through it, so every role change still goes through one place.
 */
final class Candidacy {
  enum Phase { NONE, ELECTING, AWAITING_COORDINATOR, PRE_VOTE, CLAIMING }

  private final Election replica;
  private final ElectionSettings settings;
  private final int me;
  private final RandomGenerator random;

  private Phase phase = Phase.NONE;
  private long phaseDeadlineMs;
  private long electionNotBeforeMs;
  /** The coordinator this election is about, and whether this node believes it failed. */
  private int suspectId;
  private boolean coordinatorSuspected;
  /** Told of the failure by a lower node: believe in it only if the coordinator stays silent. */
  private boolean confirmSuspectSilence;
  private final Set<Integer> answeredBy = new TreeSet<>();
  private final Set<Integer> votes = new TreeSet<>();
  private final Set<Integer> refusals = new TreeSet<>();
  private long proposedTerm;

  Candidacy(Election replica, ElectionSettings settings, RandomGenerator random) {
    this.replica = replica;
    this.settings = settings;
    this.me = settings.nodeId();
    this.random = random;
  }

  boolean running() {
    return phase != Phase.NONE;
  }

  /** Whether this node may start an election now (after a back-off, or after acknowledging a claimer). */
  boolean mayStart(long nowMs) {
    return nowMs >= electionNotBeforeMs;
  }

  /**
   * Starts an election if the coordinator (or, with none, anyone) has been silent for the
   * suspicion timeout and no back-off holds this node back.
   */
  void startIfCoordinatorSilent(long nowMs) {
    long silentMs = nowMs - replica.lastHeartbeatMs();
    if (mayStart(nowMs) && silentMs >= replica.suspicionTimeoutMs(nowMs)) {
      int coordinator = replica.coordinatorId();
      replica.out().event(coordinator != 0
          ? ProtocolEvent.suspects(me, replica.term(), coordinator, silentMs)
          : ProtocolEvent.noCoordinator(me, replica.term(), silentMs));
      start(nowMs, false);
    }
  }

  /** Waits at least until {@code notBeforeMs} before starting an election. */
  void holdOffUntil(long notBeforeMs) {
    electionNotBeforeMs = Math.max(electionNotBeforeMs, notBeforeMs);
  }

  /** Whether this node believes its coordinator failed (then it does not speak for it to a pre-vote). */
  boolean suspectsCoordinator() {
    return coordinatorSuspected;
  }

  /** Whether {@code node} is the coordinator this election is about. */
  boolean isAbout(int node) {
    return phase != Phase.NONE && node == suspectId;
  }

  /** The nodes that acknowledged the winning claim, this one included. */
  Set<Integer> votes() {
    return votes;
  }

  /** The election is over: this node follows or leads. */
  void stop() {
    phase = Phase.NONE;
    coordinatorSuspected = false;
  }

  /** Time passes: moves on when the current phase's deadline is reached. */
  void tick(long nowMs) {
    if (phase != Phase.NONE && nowMs >= phaseDeadlineMs) {
      timedOut(nowMs);
    }
  }

  /**
   * Asks every higher node. When this node noticed the failure itself, the silent coordinator is
   * not asked again. When it was only told by a lower node ({@code hinted}), it asks the
   * coordinator too and believes in the failure only if the coordinator stays silent.
   */
  void start(long nowMs, boolean hinted) {
    int coordinator = replica.coordinatorId();
    replica.becomeCandidate();
    suspectId = coordinator;
    coordinatorSuspected = !hinted;
    confirmSuspectSilence = hinted;
    answeredBy.clear();
    OutputBuilder out = replica.out();
    long term = replica.term();
    out.event(ProtocolEvent.startsElection(me, term, term + 1, hinted ? " after an election message" : ""));
    List<Integer> higher = settings.memberIds().stream()
        .filter(id -> id > me && replica.isLive(id) && (hinted || id != suspectId))
        .toList();
    if (higher.isEmpty()) {
      startPreVote(nowMs);
      return;
    }
    higher.forEach(id -> out.send(id, new Message.Election(me, term, replica.log())));
    enterPhase(Phase.ELECTING, nowMs + settings.answerTimeoutMs());
  }

  private void timedOut(long nowMs) {
    OutputBuilder out = replica.out();
    switch (phase) {
      case ELECTING -> {
        if (confirmSuspectSilence) {
          coordinatorSuspected = true;
        }
        if (answeredBy.isEmpty()) {
          startPreVote(nowMs);
        } else {
          enterPhase(Phase.AWAITING_COORDINATOR, nowMs + settings.awaitCoordinatorMs());
        }
      }
      case AWAITING_COORDINATOR -> {
        out.event(ProtocolEvent.noCoordinator(me, replica.term(), nowMs - replica.lastHeartbeatMs()));
        start(nowMs, false);
      }
      case PRE_VOTE -> {
        out.event(ProtocolEvent.preVoteFailed(me, replica.term(), proposedTerm, votes, settings.majority()));
        backOff(nowMs);
      }
      case CLAIMING -> {
        out.event(ProtocolEvent.claimFailed(me, replica.term(), votes, settings.majority()));
        backOff(nowMs);
      }
      case NONE -> {
      }
    }
  }

  /** Asks everyone whether they would acknowledge a claim for the next term, without raising it. */
  private void startPreVote(long nowMs) {
    proposedTerm = replica.term() + 1;
    votes.clear();
    refusals.clear();
    votes.add(me);
    enterPhase(Phase.PRE_VOTE, nowMs + settings.answerTimeoutMs());
    for (int id : settings.memberIds()) {
      if (id != me) {
        replica.out().send(id, new Claim(me, proposedTerm, replica.log(), true, false));
      }
    }
    if (votes.size() >= settings.majority()) {
      startClaim(nowMs, null);
    }
  }

  /**
   * Raises the term, promises itself, and claims; {@code takeoverFrom} is the coordinator that asked
   * it to, or null. The term is persisted before the claim is sent.
   */
  void startClaim(long nowMs, Integer takeoverFrom) {
    replica.becomeCandidate();
    long term = replica.raiseTermForClaim();
    votes.clear();
    refusals.clear();
    votes.add(me);
    enterPhase(Phase.CLAIMING, nowMs + settings.claimTimeoutMs());
    OutputBuilder out = replica.out();
    out.event(ProtocolEvent.claims(me, term, takeoverFrom));
    for (int id : settings.memberIds()) {
      if (id != me) {
        out.send(id, new Claim(me, term, replica.log(), false, takeoverFrom != null));
      }
    }
    if (votes.size() >= settings.majority()) {
      replica.becomeCoordinator(nowMs);
    }
  }

  /** Answers, acknowledgements and rejections of this node's election; returns whether {@code message} was one of them. */
  boolean step(Message message, long nowMs) {
    if (message instanceof Answer answer) {
      onAnswer(answer);
    } else if (message instanceof Ack ack) {
      return onAck(ack, nowMs);
    } else if (message instanceof Reject reject) {
      onReject(reject, nowMs);
    } else {
      return false;
    }
    return true;
  }

  /** After a failed pre-vote or claim, wait a random while so that rivals do not collide again. */
  private void backOff(long nowMs) {
    // A node that still hears its coordinator (it was only told of a failure) keeps following it.
    replica.becomeFollower(coordinatorSuspected ? 0 : suspectId);
    electionNotBeforeMs = nowMs + settings.failureTimeoutMs() / 2 + random.nextLong(settings.failureTimeoutMs());
  }

  private void enterPhase(Phase next, long deadlineMs) {
    phase = next;
    phaseDeadlineMs = deadlineMs;
  }

  void onAnswer(Answer answer) {
    if (phase == Phase.ELECTING) {
      answeredBy.add(answer.from());
    }
  }

  /** An acknowledgement of a pre-vote or of the claim; returns false when it is neither (a coordinator's ACK). */
  boolean onAck(Ack ack, long nowMs) {
    if (ack.preVoteTerm() != 0) {
      if (phase == Phase.PRE_VOTE && ack.preVoteTerm() == proposedTerm) {
        votes.add(ack.from());
        if (votes.size() >= settings.majority()) {
          startClaim(nowMs, null);
        }
      }
      return true;
    }
    if (phase != Phase.CLAIMING) {
      return false;
    }
    votes.add(ack.from());
    if (votes.size() >= settings.majority()) {
      replica.becomeCoordinator(nowMs);
    }
    return true;
  }

  /** A refusal of the pre-vote or of the claim: gives up as soon as a majority is out of reach, not at the deadline. */
  void onReject(Reject reject, long nowMs) {
    boolean counts = reject.preVoteTerm() != 0
        ? phase == Phase.PRE_VOTE && reject.preVoteTerm() == proposedTerm
        : phase == Phase.CLAIMING;
    if (!counts) {
      return;
    }
    refusals.add(reject.from());
    if (settings.memberIds().size() - refusals.size() < settings.majority()) {
      phaseDeadlineMs = nowMs;
      timedOut(nowMs);
    }
  }
}
