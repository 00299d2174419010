package dev.bully.sim;

import dev.bully.apply.ApplyRules;
import dev.bully.apply.ApplyRules.Key;
import dev.bully.apply.ApplyRules.Stored;
import dev.bully.core.LogEntry;
import dev.bully.core.SnapshotItem;
import dev.bully.core.SnapshotStep;
import dev.bully.driver.Storage;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;

/**
 * A node's documents as its MongoDB holds them, and the applier that writes them: the production
 * rules ({@link ApplyRules}) decide each batch of committed entries against what the store holds,
 * and the batch's store writes ({@link ApplyRules#plan}) reach the store one at a time, each after
 * a random while, as the node's {@code ApplyVerticle} and {@code Documents} do against MongoDB. A
 * crash loses the writes not yet done, so every crash point of a batch occurs in some history; the
 * process that starts again applies from the stored applied index.
 *
 * <p>A snapshot from the coordinator is installed as the node's store does it: its chunks are
 * staged apart from the documents (an install cut short leaves the documents as they were); once
 * every chunk is staged, a mark says the staged documents replace the live ones, the swap runs one
 * store write at a time (a restart finishes it), and the applied index becomes the snapshot's. A
 * batch being applied meanwhile writes nothing more. The coordinator reads its documents for a
 * snapshot chunk by chunk while it applies, as the node reads them.
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
  /** Installed from a snapshot read while its coordinator applied: the documents are the image of a prefix again from here on. */
  long consistentAt;
  /** A snapshot being installed, apart from the documents. */
  final Map<Object, Copy> stagedCopies = new HashMap<>();
  final Map<Object, Long> stagedTombstones = new HashMap<>();
  /** The store's mark that the staged snapshot replaces the documents; null when no swap is due. */
  private SnapshotStep swapping;

  /** A fault for the test that shows the checks catch it: the store drops tombstones. */
  boolean dropsTombstones;
  /** A fault for the test that shows the checks catch it: snapshots read from this store leave the tombstones out. */
  boolean snapshotsWithoutTombstones;
  /** Chaos: how likely the process dies right after each store write of a batch. */
  double diesAfterWriteRate;

  // The applying process.
  private long written;
  private boolean busy;
  private int process;
  /** Bumped when a snapshot's swap begins: a batch begun before writes nothing more. */
  private int generation;
  /** Per follower, the last document id a snapshot read handed out (null: from the first). */
  private final Map<Integer, Object> snapshotCursors = new HashMap<>();
  /** Per follower, the last chunk read, by its snapshot's base and number: a repeated pull gets it again. */
  private final Map<Integer, LastChunk> lastChunks = new HashMap<>();

  private record LastChunk(long index, long seq, Storage.SnapshotRead read) {
  }

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

  /** A new process: it finishes a swap a crash cut short, then applies from the stored applied index on. */
  void start(int incarnation) {
    process = incarnation;
    if (swapping != null) {
      swap(swapping);
    }
    written = applied;
    busy = false;
    generation++;
    snapshotCursors.clear();
    lastChunks.clear();
  }

  /** Whether a snapshot's swap is marked and not yet done: the documents are then neither the old nor the new. */
  boolean swapping() {
    return swapping != null;
  }

  /** Applies the next batch of what the node knows is committed, unless a batch is being written. */
  void poll() {
    if (busy || swapping != null || !node.running() || process != node.incarnation) {
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
    if (written + 1 <= node.storedBase) {
      throw sim.violation("node " + node.id + " applies entry " + (written + 1) + ", which left its store (its log begins after "
          + node.storedBase + ")");
    }
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
    write(ApplyRules.plan(batch, last), 0, writers, last, generation);
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
  private void write(List<ApplyRules.Step> steps, int at, Map<Key, SimOp> writers, long last, int batchGeneration) {
    int started = process;
    node.later(started, delays.nextLong(sim.persistMaxMs + 1), () -> {
      if (generation != batchGeneration) {
        return; // a snapshot replaced the documents this batch was applied to
      }
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
        write(steps, at + 1, writers, last, batchGeneration);
      } else {
        written = last;
        busy = false;
        poll();
      }
    });
  }

  /** Tombstones of deletes up to {@code index}, which the log before it left the store with: no operation to apply needs them. */
  void forgetTombstonesUpTo(long index) {
    tombstones.values().removeIf(version -> version <= index);
  }

  /** The highest index a document may reflect: a batch being written may have written some of its documents. */
  long reflectsUpTo() {
    return Math.max(applied, attempted);
  }

  /**
   * Chunk {@code seq} of a snapshot for {@code follower}: the documents (and tombstones) after the
   * last one the chunk before handed out, by id, as they are now, within about {@code maxChars}.
   */
  Storage.SnapshotRead readSnapshot(int follower, long index, long seq, long maxChars) {
    LastChunk previous = lastChunks.get(follower);
    if (previous != null && previous.index() == index && previous.seq() == seq) {
      return previous.read();
    }
    if (seq == 0) {
      snapshotCursors.remove(follower);
    } else if (previous == null || previous.index() != index || previous.seq() != seq - 1) {
      throw new IllegalStateException("chunk " + seq + " of the snapshot up to " + index + " asked for after " + previous);
    }
    TreeSet<Object> ids = new TreeSet<>((a, b) -> a.toString().compareTo(b.toString()));
    ids.addAll(copies.keySet());
    ids.addAll(tombstones.keySet());
    Object after = snapshotCursors.get(follower);
    List<SnapshotItem> items = new ArrayList<>();
    long chars = 0;
    for (Object id : after == null ? ids : ids.tailSet(after, false)) {
      if (!items.isEmpty() && chars >= maxChars) {
        break;
      }
      Copy copy = copies.get(id);
      Long tombstone = tombstones.get(id);
      if (copy != null) {
        items.add(new SnapshotItem(SimOp.COLLECTION, id, copy.version(), false, copy.fields()));
        chars += copy.fields().length();
      }
      if (tombstone != null && !snapshotsWithoutTombstones) {
        items.add(new SnapshotItem(SimOp.COLLECTION, id, tombstone, true, null));
      }
      snapshotCursors.put(follower, id);
    }
    Object cursor = snapshotCursors.get(follower);
    boolean last = cursor == null || ids.tailSet(cursor, false).isEmpty();
    sim.coverage().snapshotChunkRead();
    Storage.SnapshotRead read = new Storage.SnapshotRead(items, last, reflectsUpTo());
    lastChunks.put(follower, new LastChunk(index, seq, read));
    return read;
  }

  /**
   * A step of installing a snapshot, as the node's store writes it: staged, then (after the last
   * chunk) swapped in under a durable mark, each a store write of its own that a crash may cut short.
   */
  void install(int started, SnapshotStep step, Runnable done) {
    node.later(started, delays.nextLong(sim.persistMaxMs + 1), () -> {
      if (step.begins()) {
        stagedCopies.clear();
        stagedTombstones.clear();
        done.run();
        return;
      }
      for (SnapshotItem item : step.chunk().items()) {
        if (item.deleted()) {
          stagedTombstones.put(item.id(), item.version());
        } else {
          stagedCopies.put(item.id(), new Copy(item.version(), item.fields()));
        }
      }
      if (!step.finishes()) {
        done.run();
        return;
      }
      node.later(started, delays.nextLong(sim.persistMaxMs + 1), () -> {
        swapping = step;
        generation++;
        busy = false;
        swapInSteps(started, done);
      });
    });
  }

  /** The swap, one store write at a time: the copies, the tombstones, then the applied index with the mark cleared. */
  private void swapInSteps(int started, Runnable done) {
    node.later(started, delays.nextLong(sim.persistMaxMs + 1), () -> {
      copies.clear();
      copies.putAll(stagedCopies);
      sim.invariants().checkDocuments(node);
      node.later(started, delays.nextLong(sim.persistMaxMs + 1), () -> {
        tombstones.clear();
        tombstones.putAll(stagedTombstones);
        node.later(started, delays.nextLong(sim.persistMaxMs + 1), () -> {
          finishSwap(swapping);
          written = applied;
          sim.invariants().checkDocuments(node);
          done.run();
          poll();
        });
      });
    });
  }

  /** What a restart does with a swap a crash cut short: all of it again (each step replaces what it writes). */
  private void swap(SnapshotStep step) {
    copies.clear();
    copies.putAll(stagedCopies);
    tombstones.clear();
    tombstones.putAll(stagedTombstones);
    finishSwap(step);
  }

  private void finishSwap(SnapshotStep step) {
    applied = step.index();
    consistentAt = step.chunk().consistentAt();
    // Up to there the documents may reflect operations already: applying them again may find them applied.
    attempted = Math.max(step.index(), consistentAt);
    swapping = null;
    stagedCopies.clear();
    stagedTombstones.clear();
  }
}
