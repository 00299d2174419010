package dev.bully.core;

import dev.bully.core.Message.Ack;
import dev.bully.core.Message.Answer;
import dev.bully.core.Message.Claim;
import dev.bully.core.Message.Heartbeat;
import dev.bully.core.Message.Reject;
import dev.bully.core.Message.TakeOver;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.random.RandomGenerator;

/**
 * The term-based Bully election of one node, as a pure state machine: it takes a tick, a message or
 * a hint, and returns what to persist and what to send ({@link Output}). It does no IO, reads no
 * clock (time is an argument) and draws randomness only from the generator it is given, so the
 * verticles and the simulator run exactly the same code.
 *
 * <p>The rules it enforces (see docs/design.md §2):
 * <ul>
 *   <li>At most one coordinator per term: a claim needs acknowledgements from a majority of the
 *       configured nodes, and a node acknowledges at most one claimer per term ({@code promisedTo}),
 *       only one whose log is at least as up to date as its own, and only after persisting.</li>
 *   <li>Terms never go down, and a message from an older term is rejected with the current one
 *       (stale-coordinator fencing); a newer term makes the receiver adopt it and step down.</li>
 *   <li>Bully priority: a node that loses its coordinator asks every higher node; a higher node
 *       whose log is at least as good answers "I take over" and runs its own election, so the
 *       highest eligible node claims. A higher node that returns later is asked by the coordinator
 *       to take over once it has stayed caught up for {@code takeoverDelayMs}.</li>
 *   <li>No disruption: before raising its term a node runs a pre-vote, and nodes that hear a live
 *       coordinator refuse it; a coordinator that no longer hears a majority steps down.</li>
 * </ul>
 *
 * <p>This class is the replica: it holds the term, promise, role and log, checks every message's
 * term once, and makes every role change. Around it: {@link FailureDetector} says when the
 * coordinator counts as failed, {@link Candidacy} runs this node's election, {@link Voting} answers
 * other nodes' elections, {@link Following}
 * takes a coordinator's entries, {@link Leadership} is what a coordinator does during its term
 * (heartbeats, replication, commit, hand-offs), and {@link LogView} is the log as the driver reads it.
 */
public final class Election {
  private final ElectionSettings settings;
  private final int me;
  private final PeerTracker peers;
  private final FailureDetector detector;

  // Durable: persisted before any message that depends on them is sent.
  private long term;
  private int promisedTo;

  private Role role = Role.FOLLOWER;
  private int coordinatorId;
  private final ReplicatedLog log;
  private final LogView view;
  private final Following following;
  /** The coordinator asked this node to take over once it holds the entry named; null when it did not. */
  private TakeOver pendingTakeOver;
  /** This node's leadership, while it is coordinator. */
  private Leadership leadership;
  private long lastHeartbeatMs;
  /** The node is stopping: it still votes, but never stands for election again. */
  private boolean retiring;
  private Set<Integer> liveMembers;

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
    this.peers = new PeerTracker(settings);
    this.detector = new FailureDetector(settings);
    this.candidacy = new Candidacy(this, settings, random);
    this.voting = new Voting(this, settings);
    this.term = durable.term();
    this.promisedTo = durable.promisedTo();
    this.log = log;
    this.view = new LogView(log);
    this.following = new Following(settings, log, view);
    this.lastHeartbeatMs = nowMs;
    this.liveMembers = Set.copyOf(settings.memberIds());
  }

  public Status status() {
    long behind = role == Role.FOLLOWER && coordinatorId != 0 ? following.behind() : 0;
    Map<Integer, Long> followerMatch = role == Role.COORDINATOR ? leadership.followerMatch() : Map.of();
    long timeoutMs = role == Role.COORDINATOR ? peers.failureTimeoutMs(detector.lastTickMs())
        : detector.timeoutMs(detector.lastTickMs());
    return new Status(me, role, term, coordinatorId, log.last(), log.commitIndex(), lastHeartbeatMs, behind, followerMatch,
        timeoutMs);
  }

  public DurableState durableState() {
    return new DurableState(term, promisedTo);
  }

  public LogPosition log() {
    return log.last();
  }



  // ---------------------------------------------------------------- inputs

  /** Advances time: failure detection, election deadlines, heartbeats and the coordinator's checks. */
  public Output tick(long nowMs) {
    return guarded(() -> tickInput(nowMs));
  }

  private Output tickInput(long nowMs) {
    begin();
    // After a stall of this node's own, what it missed meanwhile may still be queued: judge no silence on this tick.
    boolean stalled = detector.stalled(nowMs);
    if (role == Role.COORDINATOR) {
      if (!leadership.tick(nowMs, stalled, out)) {
        becomeFollower(0);
        lastHeartbeatMs = nowMs;
      }
    } else if (candidacy.running()) {
      candidacy.tick(nowMs);
    } else if (following.answerHeld(role == Role.FOLLOWER ? coordinatorId : -1, term, nowMs, out)) {
      return finish();
    } else if (!retiring && !stalled && candidacy.mayStart(nowMs)) {
      long silentMs = nowMs - lastHeartbeatMs;
      if (silentMs >= suspicionTimeoutMs(nowMs)) {
        out.event(coordinatorId != 0
            ? ProtocolEvent.suspects(me, term, coordinatorId, silentMs)
            : ProtocolEvent.noCoordinator(me, term, silentMs));
        candidacy.start(nowMs, false);
      }
    }
    return finish();
  }

  /** Handles one message from another configured node. */
  public Output step(Message message, long nowMs) {
    return guarded(() -> stepInput(message, nowMs));
  }

  private Output stepInput(Message message, long nowMs) {
    begin();
    int from = message.from();
    if (from == me || !settings.isMember(from)) {
      out.event(ProtocolEvent.ignored(me, term, message.type() + " from unknown node " + from));
      return finish();
    }
    // A pre-vote asks a hypothetical question: it must not move this node's term.
    if (message instanceof Claim claim && claim.preVote()) {
      voting.onPreVote(claim, nowMs);
      return finish();
    }
    if (message.term() > term) {
      adoptTerm(message.term(), from);
    } else if (message.term() < term) {
      rejectStale(message);
      return finish();
    }
    if (message instanceof Message.Election election) {
      voting.onElection(election, nowMs);
    } else if (message instanceof Answer answer) {
      candidacy.onAnswer(answer);
    } else if (message instanceof Claim claim) {
      voting.onClaim(claim, nowMs);
    } else if (message instanceof Ack ack) {
      onAck(ack, nowMs);
    } else if (message instanceof Reject reject) {
      candidacy.onReject(reject, nowMs);
    } else if (message instanceof Heartbeat heartbeat) {
      onHeartbeat(heartbeat, nowMs);
    } else if (message instanceof TakeOver takeOver) {
      onTakeOver(takeOver, nowMs);
    } else if (message instanceof Message.Append append) {
      onAppend(append, nowMs);
    } else if (message instanceof Message.Appended appended && role == Role.COORDINATOR) {
      leadership.appended(appended.from(), appended.matchIndex(), appended.prevIndex(), nowMs, out);
    } else if (message instanceof Message.Mismatch mismatch && role == Role.COORDINATOR) {
      leadership.mismatched(mismatch.from(), mismatch.backUpTo(), mismatch.prevIndex(), nowMs, out);
    }
    return finish();
  }

  /** Starts an election now, as if this node had just noticed the coordinator's failure (chaos, tests). */
  public Output startElectionNow(long nowMs) {
    return guarded(() -> startElectionNowInput(nowMs));
  }

  private Output startElectionNowInput(long nowMs) {
    begin();
    if (role != Role.COORDINATOR && !candidacy.running() && !retiring) {
      candidacy.start(nowMs, false);
    }
    return finish();
  }

  /**
   * The cluster manager's view of who is up. Only a hint: it may shorten failure detection and
   * skip asking nodes that are gone, but a node it lists may still be hung.
   */
  public Output membershipChanged(Set<Integer> members, long nowMs) {
    return guarded(() -> membershipChangedInput(members, nowMs));
  }

  private Output membershipChangedInput(Set<Integer> members, long nowMs) {
    begin();
    liveMembers = Set.copyOf(members);
    if (role == Role.FOLLOWER && !candidacy.running() && !retiring && coordinatorId != 0 && !members.contains(coordinatorId)) {
      out.event(ProtocolEvent.suspectsLeft(me, term, coordinatorId));
      candidacy.start(nowMs, false);
    }
    return finish();
  }

  /**
   * A client's writes, on the coordinator: they are appended to the log (the driver persists them
   * with the output) and shipped to the followers. Elsewhere they are refused with no output.
   */
  public Output propose(List<Write> writes, long nowMs) {
    return guarded(() -> proposeInput(writes, nowMs));
  }

  private Output proposeInput(List<Write> writes, long nowMs) {
    begin();
    if (acceptsWrites() && !writes.isEmpty()) {
      leadership.propose(writes, nowMs, out);
    }
    return finish();
  }

  /** The driver made this node's log durable up to {@code index}; a coordinator may now count itself. */
  public Output localPersisted(long index, long nowMs) {
    return guarded(() -> localPersistedInput(index, nowMs));
  }

  private Output localPersistedInput(long index, long nowMs) {
    begin();
    view.persisted(index);
    if (role == Role.COORDINATOR) {
      leadership.persisted(view.durableIndex(), nowMs, out);
    }
    return finish();
  }


  /** Whether this node's store and every follower's hold the entry at {@code index} (write concern "all"). */
  public boolean onAllNodes(long index) {
    return role == Role.COORDINATOR && view.durableIndex() >= index && leadership.allFollowersHold(index);
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
    return guarded(() -> stepDownInput(nowMs, leaving));
  }

  private Output stepDownInput(long nowMs, boolean leaving) {
    begin();
    retiring |= leaving;
    if (role == Role.COORDINATOR) {
      leadership.stepDown(nowMs, out);
    }
    return finish();
  }

  // ---------------------------------------------------------------- failure detection and election

  /**
   * Followers wait longer the more live nodes rank above them, so the highest survivor notices
   * first and claims before anyone else starts, which makes the best case the common case. The
   * base is the failure timeout as learned from this coordinator's pauses ({@link FailureDetector}).
   */
  long suspicionTimeoutMs(long nowMs) {
    long higher = settings.memberIds().stream()
        .filter(id -> id > me && id != coordinatorId && liveMembers.contains(id))
        .count();
    return detector.timeoutMs(nowMs) + higher * settings.staggerMs();
  }

  // ---------------------------------------------------------------- message handlers

  private void onAck(Ack ack, long nowMs) {
    if (!candidacy.onAck(ack, nowMs) && role == Role.COORDINATOR) {
      leadership.acknowledged(ack.from(), ack.log(), nowMs);
    }
  }

  private void onHeartbeat(Heartbeat heartbeat, long nowMs) {
    int sender = heartbeat.from();
    if (role == Role.COORDINATOR) {
      // Impossible while at most one node wins each term; reported, never obeyed.
      out.event(ProtocolEvent.ignored(me, term, "HEARTBEAT from node " + sender + ", a second coordinator of term " + term));
      return;
    }
    follow(sender, nowMs);
    following.heartbeat(heartbeat, term, out);
  }

  /**
   * A follower takes entries from the coordinator of its term. An APPEND is also proof of life, so
   * it resets the failure detector like a heartbeat. The reply goes out only after the driver
   * persisted what the output says, rollback included.
   */
  private void onAppend(Message.Append append, long nowMs) {
    int sender = append.from();
    if (role == Role.COORDINATOR) {
      out.event(ProtocolEvent.ignored(me, term, "APPEND from node " + sender + ", a second coordinator of term " + term));
      return;
    }
    follow(sender, nowMs);
    following.append(append, term, nowMs, out);
    claimIfTakeOverDue(nowMs);
  }

  /**
   * The coordinator asks this node to take over: it claims the next term at once if it holds the
   * coordinator's last entry, else once an APPEND brings it (the APPEND went first, but may arrive
   * later or not at all; TAKEOVER is repeated until the claim arrives).
   */
  private void onTakeOver(TakeOver takeOver, long nowMs) {
    pendingTakeOver = takeOver;
    claimIfTakeOverDue(nowMs);
  }

  private void claimIfTakeOverDue(long nowMs) {
    TakeOver takeOver = pendingTakeOver;
    // Also while it runs an election of its own against a coordinator that seemed silent: the coordinator is alive.
    if (takeOver == null || takeOver.term() != term || takeOver.from() != coordinatorId || role == Role.COORDINATOR || retiring) {
      return;
    }
    if (log.last().isAtLeast(takeOver.log())) {
      pendingTakeOver = null;
      candidacy.startClaim(nowMs, takeOver.from());
    }
  }

  /** Hearing the coordinator of this term: follow it and reset the failure detector. */
  private void follow(int sender, long nowMs) {
    if (candidacy.isAbout(sender)) {
      out.event(ProtocolEvent.abandoned(me, term, sender));
    }
    if (coordinatorId != sender) {
      out.event(ProtocolEvent.follows(me, term, sender));
      following.reset(true);
    }
    if (promisedTo == 0) {
      // The coordinator of this term won a majority; promising it keeps this node from backing a rival in the same term.
      promisedTo = sender;
      out.persist();
    }
    becomeFollower(sender);
    lastHeartbeatMs = nowMs;
    detector.heard(sender, term, nowMs);
  }

  /** The top-of-handling term check, for messages from an older term. */
  private void rejectStale(Message message) {
    if (message instanceof Heartbeat || message instanceof Claim || message instanceof TakeOver
        || message instanceof Message.Append) {
      String reason = "stale term " + message.term() + " < " + term;
      out.send(message.from(), new Reject(me, term, reason, 0));
      out.event(ProtocolEvent.rejected(me, term, message.type(), message.from(), reason));
    } else if (message instanceof Message.Election election && role == Role.COORDINATOR) {
      out.send(election.from(), leadership.heartbeat());
    }
  }

  private void adoptTerm(long newTerm, int sender) {
    long previous = term;
    term = newTerm;
    promisedTo = 0;
    following.reset(false);
    out.persist();
    if (role == Role.FOLLOWER && !candidacy.running()) {
      out.event(ProtocolEvent.adoptedTerm(me, term, previous, sender));
    } else {
      out.event(ProtocolEvent.steppedDownForTerm(me, term, sender));
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
    out.event(ProtocolEvent.coordinator(me, term, candidacy.votes()));
    out.statusChanged();
    leadership = new Leadership(settings, term, log, peers, handOff, candidacy.votes(), view.durableIndex(), nowMs, out);
  }

  /** Raises the term and promises this node, for its claim; persisted before the claim leaves. Returns the new term. */
  long raiseTermForClaim() {
    term = term + 1;
    promisedTo = me;
    out.persist();
    return term;
  }

  /** Promises {@code claimer} this term (persisted before the acknowledgement leaves). */
  void promise(int claimer) {
    if (promisedTo != claimer) {
      promisedTo = claimer;
      out.persist();
    }
  }

  /** Silence is counted from now: a claimer is given its claim timeout to announce itself. */
  void restartSilence(long nowMs) {
    lastHeartbeatMs = nowMs;
  }

  // What the election and the votes read of the replica.

  int promisedTo() {
    return promisedTo;
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
    return term;
  }

  int coordinatorId() {
    return coordinatorId;
  }

  boolean isLive(int node) {
    return liveMembers.contains(node);
  }

  long lastHeartbeatMs() {
    return lastHeartbeatMs;
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

  /** Runs one input. A failure inside the core is its own state gone wrong: it leaves as a {@link BrokenInvariant}. */
  private Output guarded(java.util.function.Supplier<Output> input) {
    try {
      return input.get();
    } catch (BrokenInvariant e) {
      throw e;
    } catch (RuntimeException e) {
      throw new BrokenInvariant("node " + me + " failed on an input: " + e, e);
    }
  }

  private void begin() {
    out = new OutputBuilder(term);
  }

  private Output finish() {
    // Entries that the store's pages hold may leave memory; the store serves them from now on.
    log.release();
    Output result = out.build(new DurableState(term, promisedTo), log.commitIndex());
    out = null;
    return result;
  }
}
