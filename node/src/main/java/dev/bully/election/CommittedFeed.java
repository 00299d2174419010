package dev.bully.election;

import dev.bully.core.LogEntry;
import io.vertx.core.Future;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.function.Consumer;

/**
 * Committed entries for the applier, as they commit: {@link #next} answers as soon as the entry at
 * {@code from} is committed on this node, with as many committed entries from there as one read
 * holds. The election verticle serves it on its own thread. One request waits at a time, and the
 * newest replaces any before it, even one whose read is under way: after a snapshot the applier
 * asks again from the snapshot's index, and the older request (for entries the snapshot replaced,
 * which no read will ever find) must neither be answered nor come back in its place.
 */
public final class CommittedFeed {
  /** Where the feed reads: this node's committed log ({@link CommittedLog}). */
  interface Source {
    long commitIndex();

    /** Up to {@code limit} committed entries from {@code from} on (fewer, or none, if the store has not served them). */
    Future<List<LogEntry>> entries(long from, int limit);
  }

  private Executor electionThread;
  private Source log;
  private Waiting waiting;
  /** The number of the newest request: an answer read for an older one is dropped. */
  private long newest;
  private volatile long appliedIndex;
  private volatile long snapshotIndex;

  private record Waiting(long number, long from, int limit, Consumer<List<LogEntry>> done) {
  }

  /** How far the applier has applied what the feed gave it (any thread): for the status. */
  public void applied(long index) {
    appliedIndex = index;
  }

  public long appliedIndex() {
    return appliedIndex;
  }

  /** The applier's documents came from a snapshot up to {@code index} (any thread): for the status. */
  public void snapshotInstalled(long index) {
    snapshotIndex = index;
  }

  /** The index of the last snapshot this node's documents came from, 0 if none. */
  public long snapshotIndex() {
    return snapshotIndex;
  }

  /** The election verticle serves the feed from now on, on its thread ({@code electionThread} runs a task there). */
  void attach(Executor electionThread, Source log) {
    this.electionThread = electionThread;
    this.log = log;
  }

  /**
   * Committed entries from {@code from} on, at most {@code limit}, given to {@code done} on the
   * election verticle's thread once there is at least one (never an empty list). It replaces the
   * request before it, which is then never answered.
   */
  public void next(long from, int limit, Consumer<List<LogEntry>> done) {
    electionThread.execute(() -> {
      waiting = new Waiting(++newest, from, limit, done);
      poke();
    });
  }

  /** The commit index may have moved: answer the waiting request if it can be. On the election verticle's thread. */
  void poke() {
    Waiting request = waiting;
    if (request == null || log == null || log.commitIndex() < request.from) {
      return;
    }
    waiting = null;
    log.entries(request.from, request.limit).onComplete(read -> {
      if (request.number != newest) {
        return; // a newer request came while this one was read: that one is answered instead
      }
      if (read.succeeded() && !read.result().isEmpty()) {
        request.done.accept(read.result());
      } else {
        waiting = request; // the store did not serve them yet: asked again at the next poke
      }
    });
  }
}
