package dev.bully.sim;

import dev.bully.apply.ApplyRules;
import dev.bully.apply.ApplyRules.Key;
import dev.bully.apply.ApplyRules.Stored;
import dev.bully.core.LogEntry;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A node's documents as its MongoDB holds them, and the applier that writes them: the production
 * rules ({@link ApplyRules}) decide each batch of committed entries against what the store holds,
 * and the batch's store writes ({@link ApplyRules#plan}) reach the store one at a time, each after
 * a random while, as the node's {@code ApplyVerticle} and {@code Documents} do against MongoDB. A
 * crash loses the writes not yet done, so every crash point of a batch occurs in some history; the
 * process that starts again applies from the stored applied index.
 */
final class SimDocuments {
  /** A document's copy: its version and its fields. */
  record Copy(long version, String fields) {
    @Override
    public String toString() {
      return "version " + version + " " + (fields.length() > 40 ? fields.substring(0, 40) + "..." : fields);
    }
  }

  private final SimNode node;
  private final Simulation sim;
  /** Entries per batch at most: one to 64, as the history draws it (a batch also ends where the commit index does). */
  private final int batchEntries;
  /** How long each store write takes: a generator of its own, so that applying leaves the protocol's history as it was. */
  private final SplittableRandom delays;

  // What the store holds: it survives crashes.
  final Map<Object, Copy> copies = new HashMap<>();
  final Map<Object, Long> tombstones = new HashMap<>();
  long applied;
  /**
   * The checker's knowledge, not the store's: the highest index a batch began to write. Between
   * {@link #applied} and it the store may hold part of a batch.
   */
  long attempted;

  /** A fault for the test that shows the checks catch it: the store drops tombstones. */
  boolean dropsTombstones;
  /** Chaos: how likely the process dies right after each store write of a batch. */
  double diesAfterWriteRate;

  // The applying process.
  private long written;
  private boolean busy;
  private int process;

  SimDocuments(SimNode node, Simulation sim, int batchEntries, SplittableRandom delays) {
    this.node = node;
    this.sim = sim;
    this.batchEntries = batchEntries;
    this.delays = delays;
  }

  @Override
  public String toString() {
    return "applied " + applied + ", written " + written + ", attempted " + attempted + (busy ? ", writing a batch" : "");
  }

  /** A new process: it applies from the stored applied index on. */
  void start(int incarnation) {
    process = incarnation;
    written = applied;
    busy = false;
  }

  /** Applies the next batch of what the node knows is committed, unless a batch is being written. */
  void poll() {
    if (busy || !node.running() || process != node.incarnation) {
      return;
    }
    long commit = node.replica().status().commitIndex();
    if (commit <= written) {
      return;
    }
    sim.invariants().check(node); // the entries committed up to here are known to the checks
    // Far behind (a restart, a partition healed), half of what is left at once, as the node's feed hands it out.
    long behind = commit - written;
    int count = (int) Math.min(behind, Math.max(batchEntries, behind / 2));
    List<SimOp> ops = new ArrayList<>(count);
    long[] indexes = new long[count];
    for (int i = 0; i < count; i++) {
      LogEntry entry = node.intendedLog.get((int) written + i);
      ops.add(SimOp.of(entry));
      indexes[i] = entry.index();
    }
    long last = indexes[count - 1];
    ApplyRules.Batch batch = ApplyRules.apply(ops, indexes, stored(ops));
    if (written >= attempted) {
      // No earlier attempt wrote any of it: every outcome is decided afresh, and must be what applying once decides.
      sim.invariants().checkOutcomes(node, batch.outcomes());
    } else {
      sim.coverage().batchAppliedAgain();
    }
    attempted = Math.max(attempted, last);
    Map<Key, SimOp> writers = ApplyRules.writers(ops, indexes, batch);
    busy = true;
    write(ApplyRules.plan(batch, last), 0, writers, last);
  }

  /** What the store holds of the documents {@code ops} touch, as {@code Documents.states} reads it. */
  private Map<Key, Stored> stored(List<SimOp> ops) {
    Map<Key, Stored> stored = new HashMap<>();
    for (SimOp op : ops) {
      if (op.decidedOnState()) {
        Copy copy = copies.get(op.id());
        long tombstone = tombstones.getOrDefault(op.id(), 0L);
        if (copy != null || tombstone > 0) {
          stored.put(new Key(op.collection(), op.id()), new Stored(copy == null ? 0 : copy.version(), tombstone));
        }
      }
    }
    return stored;
  }

  /** The store write {@code steps[at]}, after a random while; the rest after it; once the applied index is written, the next batch. */
  private void write(List<ApplyRules.Step> steps, int at, Map<Key, SimOp> writers, long last) {
    int started = process;
    node.later(started, delays.nextLong(sim.persistMaxMs + 1), () -> {
      ApplyRules.Step step = steps.get(at);
      if (step instanceof ApplyRules.Tombstone t) {
        if (!dropsTombstones) {
          tombstones.put(t.key().id(), t.version());
        }
      } else if (step instanceof ApplyRules.Replace r) {
        copies.put(r.key().id(), new Copy(r.version(), writers.get(r.key()).fields()));
      } else if (step instanceof ApplyRules.Remove r) {
        copies.remove(r.key().id());
      } else {
        applied = ((ApplyRules.Applied) step).index();
      }
      sim.invariants().checkDocuments(node);
      if (diesAfterWriteRate > 0 && delays.nextDouble() < diesAfterWriteRate) {
        sim.crash(node.id, "dies while applying (chaos), after " + step);
        return;
      }
      if (at + 1 < steps.size()) {
        write(steps, at + 1, writers, last);
      } else {
        written = last;
        busy = false;
        poll();
      }
    });
  }
}
