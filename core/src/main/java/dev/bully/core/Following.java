package dev.bully.core;

import dev.bully.core.Message.Ack;
import dev.bully.core.Message.Heartbeat;
import dev.bully.core.Message.TakeOver;
import java.util.List;

/**
 * What a node does with the coordinator of its term: it follows the one it hears (a heartbeat or
 * an APPEND is proof of life), takes its entries when they continue its log, learns the commit
 * index only for entries verified against the coordinator's log, holds its answers back while
 * paging is behind, and takes over when the coordinator asks. The replica ({@link Election}) has
 * already checked the term when these methods run, and makes the role change.
 */
final class Following {
  private final Election replica;
  private final int me;
  private final ElectionSettings settings;
  private final ReplicatedLog log;
  private final LogView view;

  /** How far this node's log is known to match the current coordinator's (verified by an APPEND). */
  private long verifiedIndex;
  /** The last index the coordinator followed here has said it holds. */
  private long coordinatorLastIndex;
  /** An APPENDED held back while paging was behind ({@link LogView#pagingBehind}): its match index, or -1. */
  private long heldMatchIndex = -1;
  /** Where the APPEND began that the held answer's match index came from; for whom, in which term, since when. */
  private long heldPrevIndex;
  private int heldFor;
  private long heldInTerm;
  private long heldSinceMs;
  /** The coordinator asked this node to take over once it holds the entry named; null when it did not. */
  private TakeOver pendingTakeOver;
  /** The snapshot this node is installing, from the coordinator of this term; null when none. */
  private Install install;

  /** A snapshot being installed: from whom, in which term, up to which entry, the chunk it asked for next, and when. */
  private record Install(int from, long term, long index, long indexTerm, long nextSeq, long pulledAtMs) {
  }

  Following(Election replica, ElectionSettings settings, ReplicatedLog log, LogView view) {
    this.replica = replica;
    this.me = settings.nodeId();
    this.settings = settings;
    this.log = log;
    this.view = view;
  }

  /** What a follower takes from the coordinator of this term; returns whether {@code message} was such. */
  boolean step(Message message, long nowMs) {
    if (message instanceof Heartbeat heartbeat) {
      onHeartbeat(heartbeat, nowMs);
    } else if (message instanceof TakeOver takeOver) {
      onTakeOver(takeOver, nowMs);
    } else if (message instanceof Message.Append append) {
      onAppend(append, nowMs);
    } else if (message instanceof Message.Snapshot offer) {
      onSnapshot(offer, nowMs);
    } else if (message instanceof Message.SnapshotChunk chunk) {
      onSnapshotChunk(chunk, nowMs);
    } else {
      return false;
    }
    return true;
  }

  /** A heartbeat of this term: from its coordinator, unless this node leads (impossible; reported, never obeyed). */
  void onHeartbeat(Heartbeat heartbeat, long nowMs) {
    if (!fromTheCoordinator(heartbeat)) {
      return;
    }
    follow(heartbeat.from(), nowMs);
    heartbeat(heartbeat, replica.term(), replica.out());
    pullAgainIfDue(nowMs);
  }

  /**
   * A pull or its chunk may be lost: asked for again once it is two failure timeouts old (the
   * coordinator answers a repeated pull with the same chunk, and a chunk not asked for is passed over).
   */
  private void pullAgainIfDue(long nowMs) {
    Install current = install;
    if (current != null && current.term() == replica.term() && current.from() == replica.coordinatorId()
        && nowMs - current.pulledAtMs() >= 2 * settings.failureTimeoutMs()) {
      install = new Install(current.from(), current.term(), current.index(), current.indexTerm(), current.nextSeq(), nowMs);
      replica.out().send(current.from(), new Message.SnapshotPull(me, current.term(), current.index(), current.nextSeq()));
    }
  }

  /**
   * Entries from the coordinator of this term. An APPEND is also proof of life, so it resets the
   * failure detector like a heartbeat. The reply goes out only after the driver persisted what the
   * output says, rollback included.
   */
  void onAppend(Message.Append append, long nowMs) {
    if (!fromTheCoordinator(append)) {
      return;
    }
    follow(append.from(), nowMs);
    append(append, replica.term(), nowMs, replica.out());
    claimIfTakeOverDue(nowMs);
  }

  /**
   * The coordinator asks this node to take over: it claims the next term at once if it holds the
   * coordinator's last entry, else once an APPEND brings it (the APPEND went first, but may arrive
   * later or not at all; TAKEOVER is repeated until the claim arrives).
   */
  void onTakeOver(TakeOver takeOver, long nowMs) {
    pendingTakeOver = takeOver;
    claimIfTakeOverDue(nowMs);
  }

  /**
   * The coordinator no longer holds the entries this node lacks, and offers a snapshot up to entry
   * {@code index} instead. A log that holds that entry, or has committed past it, needs none: it
   * answers APPENDED with how far it matches (committed entries are the same on every node), once
   * that is durable. Otherwise the install begins, durably, and the first chunk is asked for; an
   * offer in the middle of an install begins it again (the coordinator offers anew only after
   * hearing nothing for a long while).
   */
  void onSnapshot(Message.Snapshot offer, long nowMs) {
    if (!fromTheCoordinator(offer)) {
      return;
    }
    follow(offer.from(), nowMs);
    OutputBuilder out = replica.out();
    long term = replica.term();
    if (offer.index() <= log.commitIndex() || log.holds(offer.index(), offer.indexTerm())) {
      install = null;
      answerHolding(offer.from(), term, log.holds(offer.index(), offer.indexTerm()) ? offer.index() : 0, out);
      return;
    }
    install = new Install(offer.from(), term, offer.index(), offer.indexTerm(), 0, nowMs);
    out.event(ProtocolEvent.installsSnapshot(me, term, offer.from(), offer.index()));
    out.install(SnapshotStep.begin(offer.index()));
    out.send(offer.from(), new Message.SnapshotPull(me, term, offer.index(), 0));
  }

  /**
   * A chunk of the snapshot being installed: it goes into the store, and the next is asked for
   * once it is there (see {@link Output}).
   * After the last one, the log begins after the snapshot's entry (its uncommitted entries go to
   * rollback) and the coordinator hears so in an APPENDED. A chunk of another install, or one not
   * asked for (late or repeated), is passed over.
   */
  void onSnapshotChunk(Message.SnapshotChunk chunk, long nowMs) {
    if (!fromTheCoordinator(chunk)) {
      return;
    }
    follow(chunk.from(), nowMs);
    Install current = install;
    long term = replica.term();
    if (current == null || current.from() != chunk.from() || current.term() != term || current.index() != chunk.index()
        || current.nextSeq() != chunk.seq()) {
      return;
    }
    OutputBuilder out = replica.out();
    if (chunk.last() && log.commitIndex() >= chunk.index()) {
      // The log caught up past the snapshot meanwhile (APPENDs sent before the offer): the documents applied from it are
      // newer than the snapshot's, and the log may be compacted past its entry. The staged chunks are left (the next
      // install drops them), and the coordinator hears how far this log goes.
      install = null;
      answerHolding(chunk.from(), term, chunk.index(), out);
      return;
    }
    out.install(new SnapshotStep(chunk.index(), chunk));
    if (!chunk.last()) {
      install = new Install(current.from(), current.term(), current.index(), current.indexTerm(), chunk.seq() + 1, nowMs);
      out.send(chunk.from(), new Message.SnapshotPull(me, term, chunk.index(), chunk.seq() + 1));
      return;
    }
    install = null;
    if (!log.holds(chunk.index(), current.indexTerm())) {
      List<LogEntry> removed = log.resetTo(chunk.index(), current.indexTerm());
      view.resetTo(chunk.index());
      if (!removed.isEmpty()) {
        out.event(ProtocolEvent.rolledBack(me, term, removed, chunk.from()));
        out.rollback(removed, term);
      }
      out.reset(chunk.index(), current.indexTerm());
    }
    out.event(ProtocolEvent.installedSnapshot(me, term, chunk.from(), chunk.index()));
    verifiedIndex = Math.max(verifiedIndex, chunk.index());
    commitTo(chunk.index(), out);
    out.committed(log.commitIndex());
    out.send(chunk.from(), new Message.Appended(me, term, chunk.index(), chunk.index()));
  }

  /**
   * Tells the coordinator that this log matches its own up to its commit index (committed entries
   * are the same on every node), or up to {@code holds} if further, once that is durable here.
   */
  private void answerHolding(int coordinator, long term, long holds, OutputBuilder out) {
    long match = Math.max(log.commitIndex(), holds);
    verifiedIndex = Math.max(verifiedIndex, match);
    if (view.durableIndex() < match) {
      out.append(List.of(), log.lastIndex()); // the answer counts toward a commit: it waits for what is being stored
    }
    out.send(coordinator, new Message.Appended(me, term, match, match));
  }

  private boolean fromTheCoordinator(Message message) {
    if (replica.isCoordinator()) {
      // Impossible while at most one node wins each term.
      replica.out().event(ProtocolEvent.ignored(me, replica.term(), message.type() + " from node " + message.from()
          + ", a second coordinator of term " + replica.term()));
      return false;
    }
    return true;
  }

  private void claimIfTakeOverDue(long nowMs) {
    TakeOver takeOver = pendingTakeOver;
    // Also while it runs an election of its own against a coordinator that seemed silent: the coordinator is alive.
    if (takeOver == null || takeOver.term() != replica.term() || takeOver.from() != replica.coordinatorId()
        || replica.isCoordinator() || replica.retiring()) {
      return;
    }
    if (log.last().isAtLeast(takeOver.log())) {
      pendingTakeOver = null;
      replica.candidacy().startClaim(nowMs, takeOver.from());
    }
  }

  /** Hearing the coordinator of this term: follow it and reset the failure detector. */
  private void follow(int sender, long nowMs) {
    OutputBuilder out = replica.out();
    if (replica.candidacy().isAbout(sender)) {
      out.event(ProtocolEvent.abandoned(me, replica.term(), sender));
    }
    if (replica.coordinatorId() != sender) {
      out.event(ProtocolEvent.follows(me, replica.term(), sender));
      reset(true);
    }
    replica.followCoordinator(sender, nowMs);
  }

  /** A new coordinator, or a new term: nothing is verified against it yet. */
  void reset(boolean newCoordinator) {
    verifiedIndex = 0;
    // An install goes on only with the coordinator and term it began with (each chunk and pull checks): another one offers anew.
    if (newCoordinator) {
      coordinatorLastIndex = 0;
    }
  }

  /** How many of the coordinator's entries this node does not have yet, as of the coordinator's last word. */
  long behind() {
    return Math.max(0, coordinatorLastIndex - verifiedIndex);
  }

  /** The coordinator's heartbeat: what it holds and has committed. Answered with this node's log position. */
  private void heartbeat(Heartbeat heartbeat, long term, OutputBuilder out) {
    coordinatorLastIndex = heartbeat.log().index();
    // Same index and term means the same log up to there (log matching), so this log is verified that far.
    if (log.termAt(heartbeat.log().index()) == heartbeat.log().term()) {
      verifiedIndex = Math.max(verifiedIndex, heartbeat.log().index());
    }
    commitTo(heartbeat.commitIndex(), out);
    out.send(heartbeat.from(), new Ack(me, term, log.last(), 0, heartbeat.round()));
  }

  /**
   * Entries from the coordinator of this term. The reply goes out only after the driver persisted
   * what the output says, rollback included; while paging is behind it is held back (see
   * {@link #answerHeld}).
   */
  private void append(Message.Append append, long term, long nowMs, OutputBuilder out) {
    int sender = append.from();
    coordinatorLastIndex = Math.max(coordinatorLastIndex, append.prevIndex() + append.entries().size());
    AppendResult result = log.accept(append.prevIndex(), append.prevTerm(), append.entries());
    if (result.violation() != null) {
      // A correct coordinator of this term holds every committed entry: the sender is not one. Nothing changes here.
      out.event(ProtocolEvent.violation(me, term, "APPEND", sender, result.violation()));
      return;
    }
    if (!result.ok()) {
      out.send(sender, new Message.Mismatch(me, term, result.index(), append.prevIndex()));
      return;
    }
    if (!result.removed().isEmpty()) {
      view.removedFrom(result.removed().get(0).index());
      out.event(ProtocolEvent.rolledBack(me, term, result.removed(), sender));
      out.rollback(result.removed(), term);
    }
    if (!result.appended().isEmpty() || !result.removed().isEmpty()) {
      out.append(result.appended(), log.lastIndex());
    } else if (view.durableIndex() < result.index()) {
      // A resent batch whose entries this node holds but has not yet stored durably (an earlier write is still
      // on its way): APPENDED counts toward a commit, so it must wait behind that write, like the first answer.
      out.append(List.of(), log.lastIndex());
    }
    verifiedIndex = Math.max(verifiedIndex, result.index());
    commitTo(append.commitIndex(), out);
    if (view.pagingBehind()) {
      if (heldMatchIndex < 0) {
        heldSinceMs = nowMs;
      }
      if (result.index() > heldMatchIndex) {
        heldMatchIndex = result.index();
        heldPrevIndex = append.prevIndex();
      }
      heldFor = sender;
      heldInTerm = term;
    } else {
      heldMatchIndex = -1;
      out.send(sender, new Message.Appended(me, term, result.index(), append.prevIndex()));
    }
  }

  /**
   * Sends the APPENDED that paging held back, once paging caught up, or at the latest a failure
   * timeout later (holding back slows the coordinator down, and must never stall it), and only
   * once the entries it reports are durable (it counts toward a commit), to the coordinator it was
   * for ({@code coordinatorId}, 0 when this node follows none), in the same term. Returns whether it did.
   */
  boolean answerHeld(int coordinatorId, long term, long nowMs, OutputBuilder out) {
    boolean due = !view.pagingBehind() || nowMs - heldSinceMs >= settings.failureTimeoutMs();
    if (heldMatchIndex < 0 || !due || heldMatchIndex > view.durableIndex()) {
      return false;
    }
    long match = heldMatchIndex;
    heldMatchIndex = -1;
    if (coordinatorId != heldFor || term != heldInTerm) {
      return false;
    }
    out.send(heldFor, new Message.Appended(me, term, match, heldPrevIndex));
    return true;
  }

  /** Only entries verified to match this coordinator's log may be marked committed from its word. */
  private void commitTo(long coordinatorCommit, OutputBuilder out) {
    if (log.commitTo(Math.min(coordinatorCommit, verifiedIndex))) {
      out.committed(log.commitIndex());
    }
  }
}
