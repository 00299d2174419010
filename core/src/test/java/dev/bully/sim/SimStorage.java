package dev.bully.sim;

import dev.bully.core.DurableState;
import dev.bully.core.LogEntry;
import dev.bully.core.LogWrite;
import dev.bully.core.SnapshotStep;
import dev.bully.core.WriteLimits;
import dev.bully.driver.Storage;
import java.util.ArrayList;
import java.util.List;

/**
 * A simulated node's store ({@link SimNode} holds what it stores, which survives crashes): each
 * call answers after a random while, unless the process that made it died meanwhile. What the node
 * asks of it is checked against what it holds: pages of committed entries only, no read of entries
 * it no longer holds, no compaction past what the documents applied.
 */
final class SimStorage implements Storage {
  private final SimNode node;
  private final int process;

  SimStorage(SimNode node, int process) {
    this.node = node;
    this.process = process;
  }

  private void later(Runnable answer) {
    node.later(process, answer);
  }

  @Override
  public void writeLog(LogWrite write, Callback<Void> done) {
    later(() -> {
      node.applyLogWrite(node.log, write, node.rolledBack);
      node.storedCommit = Math.max(node.storedCommit, write.commitIndex());
      if (write.resets()) {
        node.storedBase = write.resetIndex();
        node.storedPaged = write.resetIndex();
        node.storedCommit = Math.max(node.storedCommit, write.resetIndex());
        node.sim().coverage().snapshotInstalled();
      }
      done.done(null, null);
    });
  }

  @Override
  public void saveState(DurableState state, Callback<Void> done) {
    later(() -> {
      node.sim().invariants().checkPromise(node, state);
      node.durable = state;
      node.highestTerm = Math.max(node.highestTerm, state.term());
      done.done(null, null);
    });
  }

  @Override
  public void writePage(List<LogEntry> page, Callback<Void> done) {
    long first = page.get(0).index();
    long last = page.get(page.size() - 1).index();
    if (first != node.storedPaged + 1 || last > node.log.size() || !node.log.subList((int) first - 1, (int) last).equals(page)) {
      throw node.sim().violation("node " + node.id + " pages entries " + first + ".." + last + " that its store does not hold as they are"
          + " (paged up to " + node.storedPaged + ", store ends at " + node.log.size() + ")");
    }
    node.sim().invariants().checkCommitted(node, page);
    if (page.size() < SimNode.PAGE_ENTRIES && page.stream().mapToLong(WriteLimits::entryChars).sum() > node.limits.pageChars() / 2) {
      node.sim().coverage().cutOneBySize();
    }
    later(() -> {
      node.storedPaged = last;
      done.done(null, null);
    });
  }

  @Override
  public void readEntries(long from, int count, long maxChars, Callback<List<LogEntry>> done) {
    long last = from + count - 1;
    if (last > node.log.size()) {
      throw node.sim().violation("node " + node.id + " reads entries " + from + ".." + last + " from its store, which ends at " + node.log.size());
    }
    if (from <= node.storedBase) {
      throw node.sim().violation("node " + node.id + " reads entries " + from + ".." + last + " from its store, which holds none up to "
          + node.storedBase + " any more");
    }
    node.sim().coverage().appendFromStore();
    later(() -> {
      // Committed entries, which never change in the store: within the budget of text, one entry at least.
      List<LogEntry> entries = new ArrayList<>();
      long chars = 0;
      for (LogEntry entry : node.log.subList((int) from - 1, (int) last)) {
        chars += WriteLimits.entryChars(entry);
        if (chars > maxChars && !entries.isEmpty()) {
          node.sim().coverage().cutOneBySize();
          break;
        }
        entries.add(entry);
      }
      done.done(entries, null);
    });
  }

  @Override
  public long durableAppliedIndex() {
    return node.documents.applied;
  }

  /** Two store writes, as the node's: the log's new base, then the tombstones that no operation to apply needs. */
  @Override
  public void compact(long index, long term, Callback<Long> done) {
    if (index > node.storedPaged || index > node.documents.applied) {
      throw node.sim().violation("node " + node.id + " compacts its log up to " + index + ", past its pages (" + node.storedPaged
          + ") or what its documents applied (" + node.documents.applied + ")");
    }
    later(() -> {
      node.storedBase = Math.max(node.storedBase, index);
      node.sim().coverage().compacted();
      later(() -> {
        node.documents.forgetTombstonesUpTo(index);
        done.done(index, null);
      });
    });
  }

  @Override
  public void installSnapshot(dev.bully.core.SnapshotStep step, Callback<Void> done) {
    node.documents.install(process, step, () -> done.done(null, null));
  }

  @Override
  public void readSnapshot(int follower, long index, long seq, long maxChars, Callback<SnapshotRead> done) {
    if (index < node.storedBase) {
      throw node.sim().violation("node " + node.id + " reads a snapshot up to entry " + index + " for node " + follower
          + ", but its log begins after " + node.storedBase + ": the follower could not go on from it");
    }
    later(() -> {
      Storage.SnapshotRead read;
      try {
        read = node.documents.readSnapshot(follower, index, seq, maxChars);
      } catch (IllegalStateException e) {
        done.done(null, e); // a pull of a read this process never began (it restarted since): a lost chunk
        return;
      }
      done.done(read, null);
    });
  }
}
