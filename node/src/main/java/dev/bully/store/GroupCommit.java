package dev.bully.store;

import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.WorkerExecutor;
import java.util.ArrayList;
import java.util.List;

/**
 * Makes writes durable in groups: many callers, one commit.
 *
 * <p>A caller asks for {@link #sync()} after its write was acknowledged by the store. If no commit
 * is running, one starts at once and covers that write. If one is running, it may have started
 * before the caller's write, so the caller waits for the next commit, which every caller that
 * arrives meanwhile shares. At most one commit runs at a time, so under load the store commits back
 * to back and each commit carries every write that arrived during the previous one.
 *
 * <p>Each caller gets its own promise, created on its own context, so its continuation runs on its
 * own event loop whichever thread finished the commit.
 */
final class GroupCommit {
  private final WorkerExecutor executor;
  private final Runnable commit;

  private boolean running;
  private List<Promise<Void>> waitingForNext = new ArrayList<>();

  GroupCommit(WorkerExecutor executor, Runnable commit) {
    this.executor = executor;
    this.commit = commit;
  }

  /** Completes once every write acknowledged before this call is durable. */
  Future<Void> sync() {
    Promise<Void> promise = Promise.promise();
    boolean startNow;
    synchronized (this) {
      startNow = !running;
      if (startNow) {
        running = true;
      } else {
        waitingForNext.add(promise);
      }
    }
    if (startNow) {
      run(List.of(promise));
    }
    return promise.future();
  }

  private void run(List<Promise<Void>> group) {
    executor.<Void>executeBlocking(() -> {
      commit.run();
      return null;
    }, true).onComplete(result -> {
      List<Promise<Void>> next;
      synchronized (this) {
        next = waitingForNext;
        waitingForNext = new ArrayList<>();
        running = !next.isEmpty();
      }
      if (!next.isEmpty()) {
        run(next);
      }
      complete(group, result);
    });
  }

  private static void complete(List<Promise<Void>> group, AsyncResult<Void> result) {
    for (Promise<Void> promise : group) {
      promise.handle(result);
    }
  }
}
