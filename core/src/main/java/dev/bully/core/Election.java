package dev.bully.core;

import dev.bully.core.Message.Claim;
import dev.bully.core.Message.Heartbeat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.random.RandomGenerator;

/**
 * The replica: the term-based Bully election and the log of one node, as a pure state machine. It
 * takes a tick, a message or a hint and returns what to persist and what to send ({@link Output});
 * it does no IO, reads no clock (time is an argument) and draws randomness only from the generator
 * it is given, so the node and the simulator run exactly the same code.
 *
 * <p>It holds the term and promise ({@link TermAndPromise}), role and log, checks every message's
 * term once (an older term is rejected with the current one: stale-coordinator fencing; a newer one
 * is adopted, stepping down), and makes every role change. The rules (docs/design.md §2) live around it: {@link Candidacy} runs
 * this node's election (pre-vote, then ELECTION to the higher nodes, then a claim that needs a
 * majority), {@link Voting} answers other nodes' elections (one promise per term, only to a log at
 * least as up to date), {@link Following} follows the coordinator of the term and takes its entries,
 * {@link FailureDetector} says when the coordinator counts as failed, {@link Leadership} is what a
 * coordinator does during its term (heartbeats, replication, commit, hand-offs, stepping down when it
 * no longer hears a majority), and {@link LogView} is the log as the driver reads it.
 */
public final class Election {
  private final ElectionSettings settings;
  private final int me;
  private final PeerTracker peers;
  private final FailureDetector detector;

  // Durable: persisted before any message that depends on them is sent.
  private final TermAndPromise durable;

  private Role role = Role.FOLLOWER;
  private int coordinatorId;
  private final ReplicatedLog log;
  private final LogView view;
  private final Following following;
  /** This node's leadership, while it is coordinator. */
  private Leadership leadership;
  /** The node is stopping: it still votes, but never stands for election again. */
  private boolean retiring;

  /** The election this node runs, if any. */
  private final Candidacy candidacy;
  /** How it answers other nodes' elections. */
  private final Voting voting;

  /** Kept across terms: it remembers when this node last handed over by priority. */
  private final HandOff handOff = new HandOff();

  private OutputBuilder out;

  public Election(ElectionSettings settings, DurableState durable, ReplicatedLog log, RandomGenerator random, long nowMs) {
    this.settings = settings;
    this.me = settings.nodeId();
    this.detector = new FailureDetector(settings, nowMs);
    this.peers = new PeerTracker(settings, detector.ownPauses());
    this.candidacy = new Candidacy(this, settings, random);
    this.voting = new Voting(this, settings);
    this.durable = new TermAndPromise(durable);
    this.log = log;
    this.view = new LogView(log);
    this.following = new Following(this, settings, log, view);
  }

  public Status status() {
    long behind = role == Role.FOLLOWER && coordinatorId != 0 ? following.behind() : 0;
    Map<Integer, Long> followerMatch = role == Role.COORDINATOR ? leadership.followerMatch() : Map.of();
    long timeoutMs = role == Role.COORDINATOR ? peers.failureTimeoutMs(detector.lastTickMs())
        : detector.timeoutMs(detector.lastTickMs());
    return new Status(me, role, term(), coordinatorId, log.last(), log.commitIndex(), detector.silentSinceMs(), behind,
        followerMatch, timeoutMs);
  }

  public DurableState durableState() {
    return durable.state();
  }

  public LogPosition log() {
    return log.last();
  }

  // ---------------------------------------------------------------- inputs

  /** Advances time: failure detection, election deadlines, heartbeats and the coordinator's checks. */
  public Output tick(long nowMs) {
    return input(() -> {
      // After a stall of this node's own, what it missed meanwhile may still be queued: judge no silence on this tick.
      boolean stalled = detector.stalled(nowMs);
      if (role == Role.COORDINATOR) {
        if (!leadership.tick(nowMs, stalled, out)) {
          becomeFollower(0);
          detector.restartSilence(nowMs);
        }
      } else if (candidacy.running()) {
        candidacy.tick(nowMs);
      } else if (following.answerHeld(role == Role.FOLLOWER ? coordinatorId : -1, term(), nowMs, out)) {
        return;
      } else if (!retiring && !stalled) {
        candidacy.startIfCoordinatorSilent(nowMs);
      }
    });
  }

  /** Handles one message from another configured node. */
  public Output step(Message message, long nowMs) {
    return input(() -> {
      int from = message.from();
      if (from == me || !settings.isMember(from)) {
        out.event(ProtocolEvent.ignored(me, term(), message.type() + " from unknown node " + from));
        return;
      }
      // A pre-vote asks a hypothetical question: it must not move this node's term.
      if (message instanceof Claim claim && claim.preVote()) {
        voting.onPreVote(claim, nowMs);
        return;
      }
      if (message.term() > term()) {
        adoptTerm(message.term(), from);
      } else if (message.term() < term()) {
        voting.onStale(message);
        return;
      }
      // Then by role: elections and votes, then what a follower takes from its coordinator, then a coordinator's answers.
      if (!voting.step(message, nowMs) && !candidacy.step(message, nowMs) && !following.step(message, nowMs)
          && role == Role.COORDINATOR) {
        leadership.step(message, nowMs, out);
      }
    });
  }

  /** Starts an election now, as if this node had just noticed the coordinator's failure (chaos, tests). */
  public Output startElectionNow(long nowMs) {
    return input(() -> {
      if (role != Role.COORDINATOR && !candidacy.running() && !retiring) {
        candidacy.start(nowMs, false);
      }
    });
  }

  /** The runtime stopped this process for {@code pauseMs} (a collection): failure detection learns it. */
  public void paused(long pauseMs, long nowMs) {
    detector.paused(pauseMs, nowMs);
  }

  /**
   * The cluster manager's view of who is up. Only a hint: it may shorten failure detection and
   * skip asking nodes that are gone, but a node it lists may still be hung.
   */
  public Output membershipChanged(Set<Integer> members, long nowMs) {
    return input(() -> {
      detector.membersChanged(members);
      if (role == Role.FOLLOWER && !candidacy.running() && !retiring && coordinatorId != 0 && !members.contains(coordinatorId)) {
        out.event(ProtocolEvent.suspectsLeft(me, term(), coordinatorId));
        candidacy.start(nowMs, false);
      }
    });
  }

  /**
   * A client's writes, on the coordinator: they are appended to the log (the driver persists them
   * with the output) and shipped to the followers. Elsewhere they are refused with no output.
   */
  public Output propose(List<Write> writes, long nowMs) {
    return input(() -> {
      if (acceptsWrites() && !writes.isEmpty()) {
        leadership.propose(writes, nowMs, out);
      }
    });
  }

  /** A linearizable read that arrived: the heartbeat round it waits for, and what the driver does now. */
  public record Read(long round, Output output) {
  }

  /**
   * A linearizable read, on the coordinator: the output may carry a heartbeat of a new round, and a
   * later output says when the read's round is confirmed ({@link Output#reads()}). Elsewhere, round
   * 0 and no output: the reader is redirected.
   */
  public Read read(long nowMs) {
    long round = role == Role.COORDINATOR ? leadership.nextReadRound() : 0;
    return new Read(round, input(() -> {
      if (role == Role.COORDINATOR) {
        leadership.read(nowMs, out);
      }
    }));
  }

  /** The driver made this node's log durable up to {@code index}; a coordinator may now count itself. */
  public Output localPersisted(long index, long nowMs) {
    return input(() -> {
      view.persisted(index);
      if (role == Role.COORDINATOR) {
        leadership.persisted(view.durableIndex(), nowMs, out);
      }
    });
  }

  /** Whether this node's store and every follower's hold the entry at {@code index} (write concern "all"). */
  public boolean onAllNodes(long index) {
    return role == Role.COORDINATOR && view.durableIndex() >= index && leadership.allFollowersHold(index);
  }

  /**
   * How far the log must not be compacted: the lowest base of a snapshot that a follower of this
   * coordinator installs or catches up from; no limit on a node that does not lead.
   */
  public long compactionPin() {
    return role == Role.COORDINATOR ? leadership.compactionPin() : Long.MAX_VALUE;
  }

  /** This node's log as its driver reads it and pages it. */
  public LogView logView() {
    return view;
  }

  /** Whether this node takes writes now: it is coordinator and not handing over. */
  public boolean acceptsWrites() {
    return role == Role.COORDINATOR && leadership.acceptsWrites();
  }

  /** Whether this node leads: it may still be finishing a hand-off, and answers the writes it took. */
  public boolean isCoordinator() {
    return role == Role.COORDINATOR;
  }

  /** The follower this coordinator is handing over to, 0 when none. */
  public int handingOverTo() {
    return role == Role.COORDINATOR ? leadership.handingOverTo() : 0;
  }

  /**
   * A graceful hand-off, asked for by an operator or by a node that is stopping: the coordinator
   * stops taking writes, brings the highest reachable caught-up follower level with its log, and
   * tells it to claim the next term at once (see {@link HandOff}). Without such a follower it
   * leads on and says so. A node that is {@code leaving} (stopping) also never stands for election
   * again, coordinator or not: waiting for the successor, it must not take the lead back itself.
   */
  public Output stepDown(long nowMs, boolean leaving) {
    return input(() -> {
      retiring |= leaving;
      if (role == Role.COORDINATOR) {
        leadership.stepDown(nowMs, out);
      }
    });
  }

  /** How long this node waits for the coordinator's silence before it suspects it ({@link FailureDetector}). */
  long suspicionTimeoutMs(long nowMs) {
    return detector.suspicionTimeoutMs(coordinatorId, nowMs);
  }

  private void adoptTerm(long newTerm, int sender) {
    long previous = durable.term();
    durable.adopt(newTerm, out);
    following.reset(false);
    if (role == Role.FOLLOWER && !candidacy.running()) {
      out.event(ProtocolEvent.adoptedTerm(me, term(), previous, sender));
    } else {
      out.event(ProtocolEvent.steppedDownForTerm(me, term(), sender));
    }
    becomeFollower(0);
  }

  // ---------------------------------------------------------------- role changes

  void becomeFollower(int coordinator) {
    setRole(Role.FOLLOWER);
    leadership = null;
    handOff.clear();
    candidacy.stop();
    if (coordinatorId != coordinator) {
      coordinatorId = coordinator;
      out.statusChanged();
    }
  }

  void becomeCandidate() {
    setRole(Role.CANDIDATE);
    leadership = null;
    handOff.clear();
  }

  void becomeCoordinator(long nowMs) {
    setRole(Role.COORDINATOR);
    candidacy.stop();
    coordinatorId = me;
    out.event(ProtocolEvent.coordinator(me, term(), candidacy.votes()));
    out.statusChanged();
    leadership = new Leadership(settings, term(), log, peers, handOff, candidacy.votes(), view, nowMs, out);
  }

  /** Raises the term and promises this node, for its claim; persisted before the claim leaves. Returns the new term. */
  long raiseTermForClaim() {
    return durable.raiseFor(me, out);
  }

  /** Promises {@code claimer} this term (persisted before the acknowledgement leaves). */
  void promise(int claimer) {
    durable.promise(claimer, out);
  }

  /** Silence is counted from now: a claimer is given its claim timeout to announce itself. */
  void restartSilence(long nowMs) {
    detector.restartSilence(nowMs);
  }

  /**
   * The coordinator of this term is heard: this node follows it and its silence counts from now.
   * Unless it promised already, it promises the coordinator (who won a majority), which keeps it
   * from backing a rival in the same term.
   */
  void followCoordinator(int coordinator, long nowMs) {
    if (durable.promisedTo() == 0) {
      promise(coordinator);
    }
    becomeFollower(coordinator);
    detector.heard(coordinator, term(), nowMs);
  }

  // What the election and the votes read of the replica.

  int promisedTo() {
    return durable.promisedTo();
  }

  boolean retiring() {
    return retiring;
  }

  Candidacy candidacy() {
    return candidacy;
  }

  /** A coordinator's heartbeat, to tell a node that lost it that it is alive. */
  Heartbeat announcement() {
    return leadership.heartbeat();
  }

  long term() {
    return durable.term();
  }

  int coordinatorId() {
    return coordinatorId;
  }

  boolean isLive(int node) {
    return detector.isLive(node);
  }

  long lastHeartbeatMs() {
    return detector.silentSinceMs();
  }

  OutputBuilder out() {
    return out;
  }

  private void setRole(Role next) {
    if (role != next) {
      role = next;
      out.statusChanged();
    }
  }

  // ---------------------------------------------------------------- output

  /**
   * Runs one input and returns what it asks of the driver. A failure inside the core is its own
   * state gone wrong: it leaves as a {@link BrokenInvariant}.
   */
  private Output input(Runnable handling) {
    out = new OutputBuilder(term());
    try {
      handling.run();
    } catch (BrokenInvariant e) {
      throw e;
    } catch (RuntimeException e) {
      throw new BrokenInvariant("node " + me + " failed on an input: " + e, e);
    }
    // Entries that the store's pages hold may leave memory; the store serves them from now on.
    log.release();
    Output result = out.build(durable.state(), log.commitIndex());
    out = null;
    return result;
  }
}
