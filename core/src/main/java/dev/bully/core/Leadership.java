package dev.bully.core;

import dev.bully.core.Message.Heartbeat;
import dev.bully.core.Message.TakeOver;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * One term of leadership, from the announcement to the step-down: heartbeats, replication and
 * commit ({@link Leader}), the check that a majority still answers ({@link PeerTracker}), and
 * passing the leadership on ({@link HandOff}), for Bully priority or because it was asked to.
 * {@link Election} owns the term, the role and the log, and asks this class what a coordinator
 * does with each input; every method writes its effects to the given output.
 */
final class Leadership {
  private final ElectionSettings settings;
  private final int me;
  private final long term;
  private final ReplicatedLog log;
  private final PeerTracker peers;
  private final HandOff handOff;
  private final Leader leader;
  private final ReadRounds reads;
  private final long sinceMs;
  private long nextHeartbeatMs;

  /**
   * Takes the lead of {@code term}: the nodes that acknowledged the claim count as heard, the
   * announcement goes to everyone, and a no-op of the new term is appended, which lets the new
   * coordinator commit what earlier terms left uncommitted.
   */
  Leadership(ElectionSettings settings, long term, ReplicatedLog log, PeerTracker peers, HandOff handOff,
             Set<Integer> acknowledged, LogView view, long nowMs, OutputBuilder out) {
    this.settings = settings;
    this.me = settings.nodeId();
    this.term = term;
    this.log = log;
    this.peers = peers;
    this.handOff = handOff;
    this.sinceMs = nowMs;
    handOff.clear();
    peers.reset(acknowledged, nowMs);
    reads = new ReadRounds(settings);
    broadcast(heartbeat(), out); // the announcement
    nextHeartbeatMs = nowMs + settings.heartbeatMs();
    leader = new Leader(settings, log, term, view, nowMs);
    out.append(log.appendNew(term, List.of(Write.NOOP)), log.lastIndex());
    sendFromLeader(leader.appends(nowMs), out);
    out.shipsOwnEntries();
  }

  /** A follower's answer to this coordinator: an acknowledgement of a heartbeat, an APPEND's answer, a snapshot pull. */
  void step(Message message, long nowMs, OutputBuilder out) {
    if (message instanceof Message.Ack ack) {
      acknowledged(ack.from(), ack.log(), ack.round(), nowMs, out);
    } else if (message instanceof Message.Appended appended) {
      appended(appended.from(), appended.matchIndex(), appended.prevIndex(), nowMs, out);
    } else if (message instanceof Message.Mismatch mismatch) {
      mismatched(mismatch.from(), mismatch.backUpTo(), mismatch.prevIndex(), nowMs, out);
    } else if (message instanceof Message.SnapshotPull pull) {
      sendFromLeader(leader.snapshotPulled(pull.from(), pull.index(), pull.seq(), nowMs), out);
    }
  }

  /**
   * Time passes: heartbeats, batches that are due, a hand-off's next step or a priority takeover.
   * Returns false when a majority has not answered for twice the followers' timeout: the caller
   * steps down. (A loaded but healthy majority keeps its coordinator; a cut-off one still steps
   * down long before anything it takes could commit, which it cannot anyway.)
   */
  boolean tick(long nowMs, boolean stalled, OutputBuilder out) {
    long window = peers.silenceWindowMs(nowMs);
    if (!stalled && nowMs - sinceMs >= window) {
      Set<Integer> reachable = peers.heardWithin(window, nowMs);
      reachable.add(me);
      if (reachable.size() < settings.majority()) {
        out.event(ProtocolEvent.steppedDownNoMajority(me, term, reachable, settings.majority(), window));
        return false;
      }
    }
    if (nowMs >= nextHeartbeatMs) {
      sendRound(nowMs, out);
    }
    sendFromLeader(leader.appends(nowMs), out);
    if (handOff.active()) {
      continueHandOff(nowMs, out);
    } else {
      considerPriorityTakeover(nowMs, out);
    }
    return true;
  }

  /** Whether it takes writes now: not while handing over. */
  boolean acceptsWrites() {
    return !handOff.active();
  }

  int handingOverTo() {
    return handOff.successor();
  }

  /** Client writes: appended (the driver persists them with the output) and shipped at once. */
  void propose(List<Write> writes, long nowMs, OutputBuilder out) {
    out.append(log.appendNew(term, writes), log.lastIndex());
    sendFromLeader(leader.appends(nowMs), out);
    out.shipsOwnEntries();
  }

  /** Its own store made the log durable up to {@code durableIndex}: its copy now counts. */
  void persisted(long durableIndex, long nowMs, OutputBuilder out) {
    if (leader.persisted(durableIndex)) {
      out.committed(log.commitIndex());
      readsReady(out);
      continueHandOff(nowMs, out);
    }
  }

  /** A follower holds the log up to {@code matchIndex}: maybe more commits, and its next batch. */
  void appended(int follower, long matchIndex, long prevIndex, long nowMs, OutputBuilder out) {
    if (matchIndex > log.lastIndex()) {
      // No follower can hold more of this term's log than this coordinator has: counted, it would commit entries
      // the follower lacks. The sender is not a correct node.
      out.event(ProtocolEvent.violation(me, term, "APPENDED", follower, "it claims entries up to " + matchIndex
          + ", beyond this coordinator's last entry " + log.lastIndex()));
      return;
    }
    peers.acknowledged(follower, new LogPosition(log.termAt(matchIndex), matchIndex), committedPosition(), nowMs);
    if (leader.appended(follower, matchIndex, prevIndex, nowMs, reads.current())) {
      out.committed(log.commitIndex());
      readsReady(out);
    }
    sendFromLeader(leader.appendsTo(follower, nowMs), out);
    continueHandOff(nowMs, out);
  }

  /** See {@link Election#compactionPin()}. */
  long compactionPin() {
    return leader.compactionPin();
  }

  /** A follower's log did not match: back up and send from there. */
  void mismatched(int follower, long backUpTo, long prevIndex, long nowMs, OutputBuilder out) {
    leader.mismatched(follower, backUpTo, prevIndex, nowMs);
    sendFromLeader(leader.appendsTo(follower, nowMs), out);
  }

  /** A follower answered a heartbeat with its log's position, echoing the heartbeat's round. */
  void acknowledged(int follower, LogPosition followerLog, long round, long nowMs, OutputBuilder out) {
    peers.acknowledged(follower, followerLog, committedPosition(), nowMs);
    if (leader.heard(follower, followerLog, round, nowMs)) {
      out.event(ProtocolEvent.followerLostLog(me, term, follower, followerLog.index()));
      sendFromLeader(leader.appendsTo(follower, nowMs), out);
    }
    if (!reads.possible(round)) {
      // No heartbeat of this term carried that round yet: counted, it would confirm reads before any majority answered.
      out.event(ProtocolEvent.violation(me, term, "ACK", follower, "it echoes round " + round
          + ", beyond the last round " + reads.current() + " this coordinator sent"));
      return;
    }
    if (reads.echoed(follower, round)) {
      readsReady(out);
      if (reads.due()) {
        sendRound(nowMs, out); // reads that arrived while the confirmed round was on its way
      }
    }
  }

  /**
   * A linearizable read arrives: it waits for round {@link #nextReadRound()}. Once an output says
   * that round is confirmed, the read may be answered from the state applied up to the index that
   * output gives ({@link ReadRounds}).
   */
  void read(long nowMs, OutputBuilder out) {
    reads.read();
    if (reads.due()) {
      sendRound(nowMs, out);
      readsReady(out); // a cluster of one confirms its rounds itself
    }
  }

  /** The round a read that arrives now waits for. */
  long nextReadRound() {
    return reads.current() + 1;
  }

  /**
   * Tells the driver which reads may be answered: those of the confirmed rounds, from the commit
   * index, once this term has committed an entry (before that, entries of earlier terms that are
   * committed may lie above it).
   */
  private void readsReady(OutputBuilder out) {
    if (reads.confirmed() > 0 && log.termAt(log.commitIndex()) == term) {
      out.readsConfirmed(reads.confirmed(), log.commitIndex());
    }
  }

  /** A heartbeat of a new round to everyone; the next periodic one is due a heartbeat interval later. */
  private void sendRound(long nowMs, OutputBuilder out) {
    broadcast(new Heartbeat(me, term, log.commitIndex(), log.last(), reads.next()), out);
    nextHeartbeatMs = nowMs + settings.heartbeatMs();
  }

  /** See {@link Election#stepDown}. */
  void stepDown(long nowMs, OutputBuilder out) {
    if (handOff.active()) {
      return;
    }
    peers.highestCaughtUpAbove(0, 0, settings.failureTimeoutMs(), nowMs).ifPresentOrElse(successor -> {
      out.event(ProtocolEvent.stepsDown(me, term, successor));
      handOff.start(successor, true, nowMs);
      out.statusChanged();
      continueHandOff(nowMs, out);
    }, () -> out.event(ProtocolEvent.cannotStepDown(me, term)));
  }

  /** Whether every follower holds the entry at {@code index} (with this node's store: write concern "all"). */
  boolean allFollowersHold(long index) {
    return settings.memberIds().stream().filter(id -> id != me).allMatch(id -> leader.matchIndex(id) >= index);
  }

  /** Each follower's match index, for the status. */
  Map<Integer, Long> followerMatch() {
    Map<Integer, Long> match = new TreeMap<>();
    settings.memberIds().stream().filter(id -> id != me).forEach(id -> match.put(id, leader.matchIndex(id)));
    return match;
  }

  /** A heartbeat of the last round, for an announcement: an echo of it confirms nothing new. */
  Heartbeat heartbeat() {
    return new Heartbeat(me, term, log.commitIndex(), log.last(), reads.current());
  }

  /** Bully priority: a higher node that has held every committed entry for takeoverDelayMs takes over. */
  private void considerPriorityTakeover(long nowMs, OutputBuilder out) {
    if (handOff.priorityDamped(Math.max(settings.takeoverDelayMs(), settings.failureTimeoutMs()), nowMs)) {
      return;
    }
    peers.highestCaughtUpAbove(me, settings.takeoverDelayMs(), settings.failureTimeoutMs(), nowMs).ifPresent(successor -> {
      out.event(ProtocolEvent.handsOver(me, term, successor, nowMs - peers.caughtUpSinceMs(successor)));
      handOff.start(successor, false, nowMs);
      out.statusChanged();
      continueHandOff(nowMs, out);
    });
  }

  /** Moves a running hand-off on: ship the successor what it lacks and tell it to take over; or give up. */
  private void continueHandOff(long nowMs, OutputBuilder out) {
    if (!handOff.active()) {
      return;
    }
    int successor = handOff.successor();
    if (handOff.expired(settings.claimTimeoutMs() + settings.failureTimeoutMs(), nowMs)) {
      out.event(ProtocolEvent.handOffAbandoned(me, term, successor, handOff.elapsedMs(nowMs)));
      handOff.clear();
      out.statusChanged();
      return;
    }
    if (leader.matchIndex(successor) < log.lastIndex()) {
      sendFromLeader(leader.appendsTo(successor, nowMs), out);
    }
    // TAKEOVER follows the last APPEND; the successor claims once it holds what TAKEOVER says is the last entry.
    if (handOff.takeOverDue(leader.sentIndex(successor), log.lastIndex(), settings.heartbeatMs(), nowMs)) {
      out.send(successor, new TakeOver(me, term, log.last()));
    }
  }

  /** The position of the last committed entry: a follower that holds it is caught up enough to lead. */
  private LogPosition committedPosition() {
    return new LogPosition(log.termAt(log.commitIndex()), log.commitIndex());
  }

  private void broadcast(Message message, OutputBuilder out) {
    for (int id : settings.memberIds()) {
      if (id != me) {
        out.send(id, message);
      }
    }
  }

  /** The leader's messages, and an event for each snapshot it offered with them. */
  private void sendFromLeader(List<Envelope> envelopes, OutputBuilder out) {
    out.sendAll(envelopes);
    leader.drainOffers().forEach(out::event);
  }
}
