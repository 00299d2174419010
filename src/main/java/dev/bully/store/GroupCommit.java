package dev.bully.store;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.WorkerExecutor;

/**
 * Makes writes durable in groups: many callers, one commit.
 *
 * <p>A caller asks for {@link #sync()} after its write was acknowledged by the store. If no commit
 * is running, one starts at once and covers that write. If one is running, it may have started
 * before the caller's write, so the caller waits for the next commit, which every caller that
 * arrives meanwhile shares. At most one commit runs at a time and at most one more is queued, so
 * under load the store commits back to back and each commit carries every write that arrived
 * during the previous one.
 */
final class GroupCommit {
  private final WorkerExecutor executor;
  private final Runnable commit;

  private boolean running;
  private Promise<Void> queued;

  GroupCommit(WorkerExecutor executor, Runnable commit) {
    this.executor = executor;
    this.commit = commit;
  }

  /** Completes once every write acknowledged before this call is durable. */
  synchronized Future<Void> sync() {
    if (!running) {
      running = true;
      Promise<Void> promise = Promise.promise();
      run(promise);
      return promise.future();
    }
    if (queued == null) {
      queued = Promise.promise();
    }
    return queued.future();
  }

  private void run(Promise<Void> promise) {
    executor.<Void>executeBlocking(() -> {
      commit.run();
      return null;
    }, true).onComplete(result -> {
      Promise<Void> next;
      synchronized (this) {
        next = queued;
        queued = null;
        running = next != null;
      }
      if (next != null) {
        run(next);
      }
      promise.handle(result);
    });
  }
}
