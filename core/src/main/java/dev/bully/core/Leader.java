package dev.bully.core;

import dev.bully.core.Message.Append;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The coordinator's side of replication for one term: how far each follower's log matches, what to
 * send it next, and what is committed.
 *
 * <p>Batches are pipelined: up to {@link #MAX_IN_FLIGHT} APPENDs of up to {@link #MAX_BATCH}
 * entries and {@link LogLimits#batchChars()} characters each are on their way to a follower at once, so a follower that is far behind catches up
 * at the speed of its store rather than one round trip per batch. A MISMATCH moves the follower's
 * next index back, and one batch at a time goes out until the follower accepts one; a follower
 * whose match index has not grown for a while ({@link #resendAfterMs}) is resent everything from
 * its match index on. Entries that have left memory are sent as APPENDs that the
 * driver fills from its store ({@link Envelope#entriesFromStore()}), within the same size (it may
 * then carry fewer entries: the follower's answer says how far it got, and the rest is sent again
 * from there).
 *
 * <p>Each batch in flight is known by the index it begins after, and an answer names the batch it
 * answers, so only the answer to a batch still in flight moves the pipeline (as etcd/raft's
 * inflights do). A late or repeated answer, or the MISMATCH of a batch sent before the pipeline
 * was reset, still reports how far the follower's log matches, but sends nothing: were every answer
 * to free a slot or restart the pipeline, answers would multiply without end.
 *
 * <p>An entry is committed once it is durable on a majority and belongs to the current term (an
 * entry of an older term is committed only by a later one of this term, as in Raft); this node
 * counts only once its own store reported the entry durable.
 *
 * <p>A follower that needs entries that left this node's store ({@link ReplicatedLog#compactTo})
 * is offered a snapshot of the documents instead, up to the newest committed entry they hold
 * durably (so it has only the entries after that to apply, not the whole retained log); it pulls
 * the snapshot chunk by chunk, and its APPENDED once installed says its log begins there. Meanwhile no APPENDs go to
 * it, and the log is not compacted past the snapshot (a <em>pin</em>) until the follower has caught
 * up to within the retained entries: otherwise the entries it needs next could leave the store
 * while it installs, and it would need one snapshot after another. An offer not answered by a pull
 * is offered again as a lost APPEND is sent again. A follower that installs pulls again every two
 * failure timeouts while it waits for a chunk (its heartbeats tell it when), so one whose pulls stop
 * for {@link #SNAPSHOT_PULLS_LOST_FAILURE_TIMEOUTS} failure timeouts has restarted or gone: it is
 * offered the snapshot anew, and its pin goes.
 */
final class Leader {
  static final int MAX_BATCH = 1000;
  static final int MAX_IN_FLIGHT = 4;
  static final int RESEND_AFTER_FAILURE_TIMEOUTS = 2;
  /** A follower that installs pulls at least every two failure timeouts (see {@link Following}); twice that, and it is gone. */
  static final int SNAPSHOT_PULLS_LOST_FAILURE_TIMEOUTS = 4;
  /** A follower that caught up from a snapshot and answers nothing for this long pins the log no more. */
  static final int SNAPSHOT_STALL_FAILURE_TIMEOUTS = 10;

  private final ElectionSettings settings;
  private final ReplicatedLog log;
  private final long term;
  private final Map<Integer, Progress> followers = new HashMap<>();
  private long persistedIndex;
  /** Snapshots offered since {@link #drainOffers()}, as events that say why. */
  private final List<ProtocolEvent> offers = new ArrayList<>();
  /** What the driver last said of this node's store: how far its documents are durable ({@link #offerSnapshot}). */
  private final LogView view;

  /** A batch on its way: it begins after {@code prevIndex} and ends at {@code lastIndex}. */
  private record Sent(long prevIndex, long lastIndex) {
  }

  private static final class Progress {
    long nextIndex;
    long matchIndex;
    final java.util.ArrayDeque<Sent> inFlight = new java.util.ArrayDeque<>();
    /** When this follower last answered an APPEND, or when one went to it after none was in flight. */
    long lastProgressMs;
    /** Since a MISMATCH, until the follower accepts a batch: one APPEND at a time. */
    boolean probing;
    /** A snapshot was offered and the follower has not answered that it holds its base yet. */
    boolean snapshotting;
    /** The base of the snapshot offered, while {@link #snapshotting}. */
    long offeredAt;
    /** The follower has pulled a chunk of the snapshot offered. */
    boolean pulling;
    /** The chunk it pulled last: an older pull is late, or a replay. */
    long pulledSeq;
    /** The base of the snapshot the follower installs or caught up from, while it pins the log (0: none). */
    long pinnedAt;
    /** When the follower last answered anything of the replication (an APPENDED that moved, a pull), or was offered a snapshot. */
    long lastAnsweredMs;
    /** The heartbeat round last sent when the match index last grew: a heartbeat of a later round reached a log at least that long. */
    long matchRound;
    /**
     * The snapshot's base that a heartbeat's answer showed the follower's log to begin at, before
     * its APPENDED said so durably (0: none). A probe goes on from there, not from the match index:
     * from below the snapshot's base it would offer the snapshot again while the follower still
     * swaps it in, and the follower would install the whole of it once more.
     */
    long installedAt;
    /** Offers in a row made again because none was pulled: only the first is an event. */
    int offersUnpulled;

    /** The batch in flight that began after {@code prevIndex}, or null: the answer is late or repeated. */
    Sent inFlightAfter(long prevIndex) {
      for (Sent sent : inFlight) {
        if (sent.prevIndex() == prevIndex) {
          return sent;
        }
      }
      return null;
    }

    /** Starts over from after the follower's match index (or the snapshot it was seen to hold), one batch at a time. */
    void probeFromMatch() {
      nextIndex = Math.max(matchIndex, installedAt) + 1;
      inFlight.clear();
      probing = true;
    }
  }

  Leader(ElectionSettings settings, ReplicatedLog log, long term, LogView view, long nowMs) {
    this.settings = settings;
    this.log = log;
    this.term = term;
    this.persistedIndex = view.durableIndex();
    this.view = view;
    for (int id : settings.memberIds()) {
      if (id != settings.nodeId()) {
        Progress progress = new Progress();
        progress.nextIndex = log.lastIndex() + 1;
        progress.lastProgressMs = nowMs;
        followers.put(id, progress);
      }
    }
  }

  /** The snapshots offered since the last call, as events: the caller records them. */
  List<ProtocolEvent> drainOffers() {
    if (offers.isEmpty()) {
      return List.of();
    }
    List<ProtocolEvent> drained = List.copyOf(offers);
    offers.clear();
    return drained;
  }

  long matchIndex(int follower) {
    return followers.get(follower).matchIndex;
  }

  /** The last entry sent to {@code follower}, whether or not it arrived. */
  long sentIndex(int follower) {
    return followers.get(follower).nextIndex - 1;
  }

  /** APPENDs for every follower that has room in its pipeline and entries to receive. */
  List<Envelope> appends(long nowMs) {
    List<Envelope> out = new ArrayList<>();
    followers.keySet().stream().sorted().forEach(id -> out.addAll(appendsTo(id, nowMs)));
    return out;
  }

  List<Envelope> appendsTo(int follower, long nowMs) {
    Progress progress = followers.get(follower);
    long quietMs = nowMs - progress.lastAnsweredMs;
    String again = null;
    if (progress.snapshotting) {
      if (quietMs < (progress.pulling ? SNAPSHOT_PULLS_LOST_FAILURE_TIMEOUTS * settings.failureTimeoutMs() : resendAfterMs())) {
        return List.of(); // it installs; its APPENDED says where to go on from
      }
      // The offer was lost, or the install stalled: its pin goes, and the snapshot is offered anew below.
      again = progress.pulling ? "no pull of the one up to entry " + progress.offeredAt + " for " + quietMs + " ms"
          : "the one up to entry " + progress.offeredAt + " not pulled within " + quietMs + " ms; offered again every "
              + resendAfterMs() + " ms until it pulls";
      progress.offersUnpulled = progress.pulling ? 0 : progress.offersUnpulled + 1;
      progress.snapshotting = false;
      progress.pinnedAt = 0;
      progress.probeFromMatch();
      progress.lastProgressMs = nowMs;
    } else if (progress.pinnedAt > 0
        && (quietMs >= snapshotStallMs() || progress.matchIndex >= log.lastIndex() - log.limits().retainEntries())) {
      progress.pinnedAt = 0; // gone quiet, or caught up to within what the store keeps anyway
    }
    if (progress.matchIndex < log.lastIndex() && nowMs - progress.lastProgressMs >= resendAfterMs()) {
      // No answer for a while: a batch was lost (counting replies cannot tell, since replies can be duplicated), the
      // follower restarted, or it is slow. Start again from what it is known to have, one batch at a time until it
      // answers: a follower that is only slow then gets one batch more, not a pipeline's worth of each.
      progress.probeFromMatch();
      progress.lastProgressMs = nowMs;
    }
    if (progress.nextIndex <= log.compactionTarget() && progress.matchIndex < log.lastIndex()) {
      if (again == null) {
        progress.offersUnpulled = 0;
      }
      return List.of(offerSnapshot(follower, progress, nowMs, again != null ? again
          : "it needs entry " + progress.nextIndex + ", and this log is compacted up to " + log.compactionTarget()));
    }
    List<Envelope> out = new ArrayList<>();
    while (progress.inFlight.size() < (progress.probing ? 1 : MAX_IN_FLIGHT) && progress.nextIndex <= log.lastIndex()) {
      long prevIndex = progress.nextIndex - 1;
      long prevTerm = log.termAt(prevIndex);
      if (progress.nextIndex < log.firstInMemory()) {
        // A follower far behind: these entries are only in the store, which the driver reads them from.
        int count = (int) Math.min(MAX_BATCH, log.firstInMemory() - progress.nextIndex);
        Append skeleton = new Append(settings.nodeId(), term, prevIndex, prevTerm, List.of(), log.commitIndex());
        out.add(new Envelope(follower, skeleton, count));
        progress.nextIndex += count;
      } else {
        List<LogEntry> batch = log.slice(progress.nextIndex, MAX_BATCH, log.limits().batchChars());
        out.add(new Envelope(follower, new Append(settings.nodeId(), term, prevIndex, prevTerm, batch, log.commitIndex())));
        progress.nextIndex += batch.size();
      }
      if (progress.inFlight.isEmpty()) {
        progress.lastProgressMs = nowMs; // the wait for this follower starts now, not when it last made progress
      }
      progress.inFlight.add(new Sent(prevIndex, progress.nextIndex - 1));
    }
    return out;
  }

  /**
   * A snapshot for {@code follower} of the documents up to the newest committed entry they hold
   * durably, so that it has only the entries after it to apply, not the whole retained log; never
   * before where the log begins once compacted (the documents hold that too: only entries they
   * applied are compacted).
   */
  private Envelope offerSnapshot(int follower, Progress progress, long nowMs, String why) {
    long base = Math.max(log.compactionTarget(), Math.min(view.appliedDurably(), log.commitIndex()));
    if (progress.offersUnpulled <= 1) { // a follower that is down would be offered one every resend: said once
      offers.add(ProtocolEvent.offersSnapshot(settings.nodeId(), term, follower, base, why));
    }
    progress.snapshotting = true;
    progress.installedAt = 0;
    progress.pulling = false;
    progress.pulledSeq = 0;
    progress.offeredAt = base;
    progress.inFlight.clear();
    progress.lastProgressMs = nowMs;
    progress.lastAnsweredMs = nowMs;
    return new Envelope(follower, new Message.Snapshot(settings.nodeId(), term, base, log.termAt(base)));
  }

  /**
   * A follower installing the snapshot up to {@code index} asks for chunk {@code seq}: its chunk,
   * to be filled from the store. A pull for another snapshot than the one offered is late.
   */
  List<Envelope> snapshotPulled(int follower, long index, long seq, long nowMs) {
    Progress progress = followers.get(follower);
    if (!progress.snapshotting || progress.offeredAt != index || seq < progress.pulledSeq || seq > progress.pulledSeq + 1) {
      return List.of();
    }
    progress.pulledSeq = seq;
    progress.lastProgressMs = nowMs;
    progress.lastAnsweredMs = nowMs;
    if (index < log.compactionTarget()) {
      // The entries after this snapshot left the store before the follower began: it would need another at once.
      return List.of(offerSnapshot(follower, progress, nowMs, "its pull was for the one up to entry " + index
          + ", and the entries after it left this log since"));
    }
    progress.pinnedAt = index; // pinned from the first pull: a follower that never answers pins nothing
    progress.pulling = true;
    progress.offersUnpulled = 0;
    return List.of(Envelope.snapshotChunk(follower,
        new Message.SnapshotChunk(settings.nodeId(), term, index, seq, List.of(), false, 0)));
  }

  /**
   * A follower answered a heartbeat with its log's last entry. One that installs a snapshot says
   * so in its APPENDED, which may be lost; a log that holds the snapshot's base (as this node's log
   * has it: log matching) shows the install is done, and APPENDs go on from after it, one at a time
   * until the follower answers. Nothing counts toward a commit: only APPENDED reports what is durable.
   * Returns true when the follower's log is shorter than what it acknowledged before: it lost it.
   */
  boolean heard(int follower, LogPosition followerLog, long round, long nowMs) {
    Progress progress = followers.get(follower);
    if (round > progress.matchRound && followerLog.index() < progress.matchIndex) {
      // It answered a heartbeat sent after it held entries up to its match index, with a shorter log: it lost its store (a
      // new disk, a data folder removed). Entries it acknowledged are gone from it; it is sent everything again, or a snapshot.
      progress.matchIndex = 0;
      progress.installedAt = 0;
      progress.snapshotting = false;
      progress.pinnedAt = 0;
      progress.probeFromMatch();
      progress.lastProgressMs = nowMs;
      return true;
    }
    if (progress.snapshotting && followerLog.index() >= progress.offeredAt && followerLog.index() <= log.lastIndex()
        && log.termAt(followerLog.index()) == followerLog.term()) {
      progress.snapshotting = false;
      progress.installedAt = followerLog.index();
      progress.inFlight.clear();
      progress.probing = true;
      progress.nextIndex = followerLog.index() + 1;
      progress.lastProgressMs = nowMs;
      progress.lastAnsweredMs = nowMs;
    }
    return false;
  }

  /** The lowest snapshot base that followers still need the entries after: the log must not be compacted past it. */
  long compactionPin() {
    long pin = Long.MAX_VALUE;
    for (Progress progress : followers.values()) {
      if (progress.pinnedAt > 0) {
        pin = Math.min(pin, progress.pinnedAt);
      }
    }
    return pin;
  }

  private long snapshotStallMs() {
    return SNAPSHOT_STALL_FAILURE_TIMEOUTS * settings.failureTimeoutMs();
  }

  /**
   * How long a follower behind may stay silent (no answer to an APPEND) before it is sent
   * everything from its match index again: two failure timeouts. A follower storing batches of
   * large entries can take longer than a failure timeout per batch, and resending to a slow
   * follower only makes it slower; one that answers is working through what it was sent.
   */
  private long resendAfterMs() {
    return RESEND_AFTER_FAILURE_TIMEOUTS * settings.failureTimeoutMs();
  }

  /**
   * A follower's log matches up to {@code matchIndex}, in answer to the batch that began after
   * {@code prevIndex}; returns whether the commit index moved.
   */
  boolean appended(int follower, long matchIndex, long prevIndex, long nowMs) {
    return appended(follower, matchIndex, prevIndex, nowMs, 0);
  }

  /** {@link #appended(int, long, long, long)}, {@code round} being the heartbeat round last sent. */
  boolean appended(int follower, long matchIndex, long prevIndex, long nowMs, long round) {
    Progress progress = followers.get(follower);
    if (matchIndex > progress.matchIndex) {
      progress.matchRound = round;
    }
    Sent answered = progress.inFlightAfter(prevIndex);
    if (answered != null || matchIndex > progress.matchIndex) {
      // It works through what it was sent. A late, repeated or replayed answer that moves nothing is no sign of
      // that: counted, a stream of them (a replayer's) would keep a lost batch from ever being sent again.
      progress.lastProgressMs = nowMs;
      progress.lastAnsweredMs = nowMs;
    }
    progress.matchIndex = Math.max(progress.matchIndex, matchIndex);
    if (progress.snapshotting) {
      if (progress.matchIndex < progress.offeredAt) {
        return advanceCommit(); // an answer from before the snapshot
      }
      // Installed (or it held the snapshot's base already): go on right after what it holds.
      progress.snapshotting = false;
      progress.probing = false;
      progress.inFlight.clear();
      progress.nextIndex = progress.matchIndex + 1;
    } else if (answered != null && (progress.probing || matchIndex < answered.lastIndex())) {
      // The probe fitted, or the batch arrived shortened (filled from the store within its size): go on right
      // after what the follower holds. Batches sent before, past a gap, are not there; their answers are late.
      progress.probing = false;
      progress.inFlight.clear();
      progress.nextIndex = progress.matchIndex + 1;
    } else {
      progress.inFlight.removeIf(sent -> sent.lastIndex() <= progress.matchIndex);
      progress.nextIndex = Math.max(progress.nextIndex, progress.matchIndex + 1);
    }
    return advanceCommit();
  }

  /**
   * A follower could not place the batch that began after {@code prevIndex}: resend from after
   * {@code backUpTo}, one batch at a time. The MISMATCH of a batch no longer in flight is late: the
   * pipeline was reset since, and it changes nothing.
   */
  void mismatched(int follower, long backUpTo, long prevIndex, long nowMs) {
    Progress progress = followers.get(follower);
    if (progress.snapshotting || progress.inFlightAfter(prevIndex) == null) {
      return;
    }
    progress.lastProgressMs = nowMs;
    progress.probing = true;
    progress.installedAt = 0; // its log does not hold what an answer showed: the swap never became durable
    progress.nextIndex = Math.max(progress.matchIndex + 1, Math.min(progress.nextIndex, backUpTo + 1));
    progress.inFlight.clear();
  }

  /** This node's own store made entries up to {@code index} durable; returns whether the commit index moved. */
  boolean persisted(long index) {
    persistedIndex = Math.max(persistedIndex, index);
    return advanceCommit();
  }

  private boolean advanceCommit() {
    List<Long> matches = new ArrayList<>();
    matches.add(persistedIndex);
    followers.values().forEach(p -> matches.add(p.matchIndex));
    matches.sort((a, b) -> Long.compare(b, a));
    long majorityIndex = matches.get(settings.majority() - 1);
    if (majorityIndex > log.commitIndex() && log.termAt(majorityIndex) == term) {
      return log.commitTo(majorityIndex);
    }
    return false;
  }
}
