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
 * then carry fewer entries: the follower's answer says how far it got, and the batches after it
 * that no longer fit answer MISMATCH, which sends the rest again).
 *
 * <p>An entry is committed once it is durable on a majority and belongs to the current term (an
 * entry of an older term is committed only by a later one of this term, as in Raft); this node
 * counts only once its own store reported the entry durable.
 */
final class Leader {
  static final int MAX_BATCH = 1000;
  static final int MAX_IN_FLIGHT = 4;
  static final int RESEND_AFTER_FAILURE_TIMEOUTS = 2;

  private final ElectionSettings settings;
  private final ReplicatedLog log;
  private final long term;
  private final Map<Integer, Progress> followers = new HashMap<>();
  private long persistedIndex;

  private static final class Progress {
    long nextIndex;
    long matchIndex;
    int inFlight;
    /** When this follower last answered an APPEND, or when one went to it after none was in flight. */
    long lastProgressMs;
    /**
     * Since a MISMATCH, until the follower accepts a batch: one APPEND at a time. Every batch in flight
     * past the follower's log answers MISMATCH; if each answer sent the rest of the log again, as
     * several batches, their answers would multiply without end.
     */
    boolean probing;
  }

  Leader(ElectionSettings settings, ReplicatedLog log, long term, long persistedIndex, long nowMs) {
    this.settings = settings;
    this.log = log;
    this.term = term;
    this.persistedIndex = persistedIndex;
    for (int id : settings.memberIds()) {
      if (id != settings.nodeId()) {
        Progress progress = new Progress();
        progress.nextIndex = log.lastIndex() + 1;
        progress.lastProgressMs = nowMs;
        followers.put(id, progress);
      }
    }
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
    if (progress.matchIndex < log.lastIndex() && nowMs - progress.lastProgressMs >= resendAfterMs()) {
      // No answer for a while: a batch was lost (counting replies cannot tell, since replies can be duplicated), the
      // follower restarted, or it is slow. Start again from what it is known to have, one batch at a time until it
      // answers: a follower that is only slow then gets one batch more, not a pipeline's worth of each.
      progress.nextIndex = progress.matchIndex + 1;
      progress.inFlight = 0;
      progress.probing = true;
      progress.lastProgressMs = nowMs;
    }
    List<Envelope> out = new ArrayList<>();
    while (progress.inFlight < (progress.probing ? 1 : MAX_IN_FLIGHT) && progress.nextIndex <= log.lastIndex()) {
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
      if (progress.inFlight == 0) {
        progress.lastProgressMs = nowMs; // the wait for this follower starts now, not when it last made progress
      }
      progress.inFlight++;
    }
    return out;
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

  /** A follower's log matches up to {@code matchIndex}; returns whether the commit index moved. */
  boolean appended(int follower, long matchIndex, long nowMs) {
    Progress progress = followers.get(follower);
    if (matchIndex > progress.matchIndex) {
      progress.matchIndex = matchIndex;
    }
    progress.lastProgressMs = nowMs; // it answers: it works through what it was sent
    if (progress.probing) {
      // The probe fitted: go on right after it. Batches sent before the MISMATCH, past a gap, are not there.
      progress.nextIndex = progress.matchIndex + 1;
    }
    progress.probing = false;
    progress.nextIndex = Math.max(progress.nextIndex, progress.matchIndex + 1);
    progress.inFlight = Math.max(0, progress.inFlight - 1);
    return advanceCommit();
  }

  /** A follower could not place a batch; resend from after {@code backUpTo}. */
  void mismatched(int follower, long backUpTo, long nowMs) {
    Progress progress = followers.get(follower);
    progress.probing = true;
    progress.nextIndex = Math.max(progress.matchIndex + 1, Math.min(progress.nextIndex, backUpTo + 1));
    progress.inFlight = 0;
    progress.lastProgressMs = nowMs;
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
