package dev.bully.election;

import dev.bully.core.LogEntry;
import io.vertx.core.Context;
import java.util.List;
import java.util.function.Consumer;

/**
 * Committed entries for the applier, as they commit: {@link #next} answers as soon as the entry at
 * {@code from} is committed on this node, with as many committed entries from there as one read
 * holds. The election verticle serves it on its own thread; one request waits at a time.
 */
public final class CommittedFeed {
  private Context context;
  private CommittedLog log;
  private Waiting waiting;
  private volatile long appliedIndex;
  private volatile long snapshotIndex;

  private record Waiting(long from, int limit, Consumer<List<LogEntry>> done) {
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

  /** The election verticle serves the feed from now on (on its context). */
  void attach(Context context, CommittedLog log) {
    this.context = context;
    this.log = log;
  }

  /**
   * Committed entries from {@code from} on, at most {@code limit}, given to {@code done} on the
   * election verticle's thread once there is at least one (never an empty list).
   */
  public void next(long from, int limit, Consumer<List<LogEntry>> done) {
    context.runOnContext(v -> {
      waiting = new Waiting(from, limit, done);
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
      if (read.succeeded() && !read.result().isEmpty()) {
        request.done.accept(read.result());
      } else {
        waiting = request; // the store did not serve them yet: asked again at the next poke
      }
    });
  }
}
