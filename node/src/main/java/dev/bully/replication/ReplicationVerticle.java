package dev.bully.replication;

import dev.bully.core.DurableState;
import dev.bully.core.LogEntry;
import dev.bully.core.LogWrite;
import dev.bully.core.SnapshotStep;
import dev.bully.driver.Storage;
import dev.bully.store.NodeStorage;
import dev.bully.store.NodeStore;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import java.util.List;

/**
 * The store side of a node: every store call the driver makes (log writes, the term and promise,
 * pages, reads of entries for followers that are behind and for clients) runs on this verticle's
 * event loop, with its retries ({@link NodeStorage}), and its answer goes back to the caller's
 * event loop. The election verticle keeps the replica and the driver's ordering (persist, then
 * send); encoding entries, the MongoDB client and the embedded store's commits run here, beside it.
 */
public final class ReplicationVerticle extends VerticleBase {
  private final Storage local;

  public ReplicationVerticle(NodeStore store) {
    this.local = new NodeStorage(store);
  }

  @Override
  public Future<?> start() {
    return Future.succeededFuture();
  }

  /**
   * The driver's {@link Storage} for a caller on {@code caller}'s event loop: each call runs on this
   * verticle's, and its callback on the caller's. Calls run in the order they were made.
   */
  public Storage storageFor(Context caller) {
    return new StoreSide(context, caller, local);
  }

  private record StoreSide(Context side, Context caller, Storage local) implements Storage {
    @Override
    public void writeLog(LogWrite write, Callback<Void> done) {
      side.runOnContext(v -> local.writeLog(write, back(done)));
    }

    @Override
    public void saveState(DurableState state, Callback<Void> done) {
      side.runOnContext(v -> local.saveState(state, back(done)));
    }

    @Override
    public void writePage(List<LogEntry> entries, Callback<Void> done) {
      side.runOnContext(v -> local.writePage(entries, back(done)));
    }

    @Override
    public void readEntries(long from, int count, long maxChars, Callback<List<LogEntry>> done) {
      side.runOnContext(v -> local.readEntries(from, count, maxChars, back(done)));
    }

    @Override
    public long durableAppliedIndex() {
      return local.durableAppliedIndex();
    }

    @Override
    public void compact(long index, long term, Callback<Long> done) {
      side.runOnContext(v -> local.compact(index, term, back(done)));
    }

    @Override
    public void installSnapshot(SnapshotStep step, Callback<Void> done) {
      side.runOnContext(v -> local.installSnapshot(step, back(done)));
    }

    @Override
    public void readSnapshot(int follower, long index, long seq, long maxChars, Callback<SnapshotRead> done) {
      side.runOnContext(v -> local.readSnapshot(follower, index, seq, maxChars, back(done)));
    }

    private <T> Callback<T> back(Callback<T> done) {
      return (result, failure) -> caller.runOnContext(v -> done.done(result, failure));
    }
  }
}
