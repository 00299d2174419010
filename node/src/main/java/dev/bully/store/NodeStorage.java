package dev.bully.store;

import dev.bully.core.DurableState;
import dev.bully.core.LogEntry;
import dev.bully.core.LogWrite;
import dev.bully.core.SnapshotStep;
import dev.bully.driver.Storage;
import io.vertx.core.Future;
import java.util.List;

/**
 * The node's store as the driver uses it: each write is tried again while its failure may pass
 * ({@link StoreRetry}) and answered only once durable, or once it has failed for good. Answers come
 * on the caller's event loop, as the MongoDB client's futures do.
 */
public final class NodeStorage implements Storage {
  private final NodeStore store;

  public NodeStorage(NodeStore store) {
    this.store = store;
  }

  @Override
  public void writeLog(LogWrite write, Callback<Void> done) {
    answer(store.retry().run("writing the log up to entry " + write.lastIndex(), tries -> store.write(write)), done);
  }

  @Override
  public void saveState(DurableState state, Callback<Void> done) {
    answer(store.retry().run("saving the term and promise", tries -> store.saveState(state)), done);
  }

  @Override
  public void writePage(List<LogEntry> entries, Callback<Void> done) {
    long first = entries.get(0).index();
    long last = entries.get(entries.size() - 1).index();
    answer(store.retry().run("writing entries " + first + ".." + last + " into a page",
        tries -> store.writePage(entries, tries > 0)), done);
  }

  @Override
  public void readEntries(long from, int count, long maxChars, Callback<List<LogEntry>> done) {
    answer(store.entries(from, count, maxChars), done);
  }

  @Override
  public long durableAppliedIndex() {
    return store.snapshots().durableAppliedIndex();
  }

  @Override
  public void compact(long index, long term, Callback<Long> done) {
    answer(store.retry().run("removing the log's entries up to " + index, tries -> store.compact(index, term)), done);
  }

  @Override
  public void installSnapshot(SnapshotStep step, Callback<Void> done) {
    String what = step.begins() ? "beginning to install a snapshot up to entry " + step.index()
        : "installing chunk " + step.chunk().seq() + " of the snapshot up to entry " + step.index();
    answer(store.retry().run(what, tries -> store.snapshots().install(step)), done);
  }

  @Override
  public void readSnapshot(int follower, long index, long seq, long maxChars, Callback<SnapshotRead> done) {
    answer(store.snapshots().read(follower, index, seq, maxChars), done);
  }

  private static <T> void answer(Future<T> result, Callback<T> done) {
    result.onComplete(outcome -> done.done(outcome.result(), outcome.cause()));
  }
}
