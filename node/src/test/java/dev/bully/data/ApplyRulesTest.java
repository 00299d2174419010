package dev.bully.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bully.apply.ApplyRules;
import dev.bully.apply.ApplyRules.Key;
import dev.bully.apply.ApplyRules.State;
import dev.bully.apply.ApplyRules.Stored;
import dev.bully.apply.Outcome;
import dev.bully.apply.Outcome.Result;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class ApplyRulesTest {
  private static final String C = "c";

  @Test
  void conditionsAreDecidedOnTheStateBeforeTheOperation() {
    List<Operation> ops = List.of(
        Operation.put(C, "a", 0),            // 1: If-None-Match: * on a new document
        Operation.put(C, "a", 0),            // 2: again: it exists now
        Operation.put(C, "a", 1),            // 3: If-Match 1
        Operation.put(C, "a", 1),            // 4: If-Match 1, stale
        Operation.delete(C, "a", 3),         // 5: If-Match 3
        Operation.delete(C, "a", Operation.ANY), // 6: gone already
        Operation.put(C, "a", 0));           // 7: created again
    ApplyRules.Batch batch = ApplyRules.apply(ops, indexes(1, ops.size()), Map.of());
    assertEquals(List.of(Result.WRITTEN, Result.PRECONDITION_FAILED, Result.WRITTEN, Result.PRECONDITION_FAILED,
        Result.DELETED, Result.NOT_FOUND, Result.WRITTEN), batch.outcomes().stream().map(Outcome::result).toList());
    assertEquals(1, batch.outcomes().get(1).version(), "a failed condition says the current version");
    assertEquals(3, batch.outcomes().get(3).version());
    assertEquals(Map.of(new Key(C, "a"), new State(7, true)), batch.states());
  }

  @Test
  void anOperationAtOrBelowTheStoredVersionIsPassedOver() {
    Key a = new Key(C, "a");
    ApplyRules.Batch batch = ApplyRules.apply(List.of(Operation.put(C, "a", 0), Operation.delete(C, "a", Operation.ANY)),
        indexes(5, 2), Map.of(a, new Stored(0, 6)));
    assertTrue(batch.states().isEmpty(), "nothing to write: the store holds the delete at 6 already");
  }

  /**
   * A compare-and-set that fails behind a write of the same batch leaves the write's fields: the
   * chaos run's register history found a failed compare-and-set's value read back when each
   * operation's fields were written regardless of its outcome.
   */
  @Test
  void aFailedConditionLeavesTheFieldsOfTheWriteBeforeItInTheBatch() {
    Key a = new Key(C, "a");
    List<Operation> ops = List.of(Operation.put(C, "a", new JsonObject().put("value", "written"), Operation.ANY),
        Operation.put(C, "a", new JsonObject().put("value", "refused"), 3));
    long[] at = indexes(5, 2);
    ApplyRules.Batch batch = ApplyRules.apply(ops, at, Map.of(a, new Stored(3, 0)));
    assertEquals(Result.PRECONDITION_FAILED, batch.outcomes().get(1).result());
    assertEquals(new State(5, true), batch.states().get(a));
    assertEquals(Map.of(a, ops.get(0)), ApplyRules.writers(ops, at, batch));
  }

  /**
   * Random operations on a few documents, applied in random batches by a node that crashes after
   * any single store write of a batch and applies again from its applied index: the documents end
   * as applying every operation once, in order, makes them. Also each first outcome is that order's.
   */
  @Test
  void applyingAgainAfterACrashAtAnyWriteEndsAsApplyingOnce() {
    long seed = new SplittableRandom().nextLong();
    for (int run = 0; run < 5_000; run++) {
      String divergence = crashRun(seed + run, true);
      assertEquals(null, divergence, "seed " + (seed + run));
    }
  }

  /**
   * The check above catches a store without tombstones (a delete's version lost, a condition then
   * decided again differently): some crash run diverges, typically within a few hundred.
   */
  @Test
  void withoutTombstonesSomeCrashRunDiverges() {
    long seed = new SplittableRandom().nextLong();
    for (int run = 0; run < 100_000; run++) {
      if (crashRun(seed + run, false) != null) {
        return;
      }
    }
    throw new AssertionError("seed " + seed + ": no run of 100,000 diverged without tombstones");
  }

  @Test
  void aDeleteThatLeftNoTombstoneIsDecidedAgainDifferently() {
    // 1 creates d0; 2 (create only) fails as d0 exists; 3 deletes d0 at version 1. A crash after the delete's removal,
    // before the applied index, applies 2 and 3 again: without the tombstone, 2 now creates d0 and 3 then fails.
    List<Operation> ops = List.of(Operation.put(C, "d0", Operation.ANY), Operation.put(C, "d0", Operation.ABSENT),
        Operation.delete(C, "d0", 1));
    for (boolean tombstones : new boolean[] {true, false}) {
      Model store = new Model(tombstones);
      ApplyRules.plan(ApplyRules.apply(ops.subList(0, 1), indexes(1, 1), store.states()), 1).forEach(store::run);
      List<ApplyRules.Step> steps = ApplyRules.plan(ApplyRules.apply(ops.subList(1, 3), indexes(2, 2), store.states()), 3);
      steps.subList(0, steps.size() - 1).forEach(store::run); // the crash: everything but the applied index
      ApplyRules.plan(ApplyRules.apply(ops.subList(1, 3), indexes(2, 2), store.states()), 3).forEach(store::run);
      assertEquals(tombstones ? Map.of() : Map.of(new Key(C, "d0"), 2L), store.live(), "tombstones " + tombstones);
    }
  }

  /**
   * A crash between a delete's tombstone and its copy's removal: applied again, the batch passes the
   * delete over (the tombstone says it is done), yet the copy must still go, or every MongoDB client
   * of this node reads a document the others deleted. The crash runs above found it.
   */
  @Test
  void aCopyLeftBehindItsTombstoneIsRemovedWhenTheBatchIsAppliedAgain() {
    Key a = new Key(C, "a");
    Model store = new Model(true);
    ApplyRules.plan(ApplyRules.apply(List.of(Operation.put(C, "a", Operation.ANY)), indexes(1, 1), store.states()), 1)
        .forEach(store::run);
    List<Operation> delete = List.of(Operation.delete(C, "a", Operation.ANY));
    List<ApplyRules.Step> steps = ApplyRules.plan(ApplyRules.apply(delete, indexes(2, 1), store.states()), 2);
    assertEquals(new ApplyRules.Tombstone(a, 2), steps.get(0));
    store.run(steps.get(0)); // the crash: after the tombstone
    assertEquals(Map.of(a, new Stored(1, 2)), store.states());
    ApplyRules.plan(ApplyRules.apply(delete, indexes(2, 1), store.states()), 2).forEach(store::run);
    assertEquals(Map.of(), store.live());
    assertEquals(2, store.applied);
  }

  /** One crash run against the sequential reference; what differs, or null. */
  private static String crashRun(long seed, boolean tombstones) {
    SplittableRandom random = new SplittableRandom(seed);
    int count = 2 + random.nextInt(20);
    List<Operation> ops = new ArrayList<>();
    Map<String, List<Long>> puts = new HashMap<>();
    for (int i = 1; i <= count; i++) {
      String id = "d" + random.nextInt(2);
      List<Long> earlier = puts.computeIfAbsent(id, k -> new ArrayList<>());
      long expect = switch (random.nextInt(4)) {
        case 0 -> Operation.ANY;
        case 1 -> Operation.ABSENT;
        // A version this document may have had: current, stale, or never its own.
        default -> earlier.isEmpty() || random.nextInt(5) == 0 ? 1 + random.nextInt(i) : earlier.get(random.nextInt(earlier.size()));
      };
      boolean delete = random.nextInt(3) == 0;
      ops.add(delete ? Operation.delete(C, id, expect) : Operation.put(C, id, expect));
      if (!delete) {
        earlier.add((long) i);
      }
    }
    // The reference: one operation per batch, no crash.
    Map<Key, State> reference = new HashMap<>();
    List<Result> firstOutcomes = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      Map<Key, Stored> held = new HashMap<>();
      reference.forEach((k, st) -> held.put(k, st.exists() ? new Stored(st.version(), 0) : new Stored(0, st.version())));
      ApplyRules.Batch one = ApplyRules.apply(List.of(ops.get(i)), new long[] {i + 1}, held);
      firstOutcomes.add(one.outcomes().get(0).result());
      reference.putAll(one.states());
    }
    Model store = new Model(tombstones);
    Map<Long, Result> seen = new TreeMap<>();
    long attempted = 0; // the highest index an attempt began to write
    while (store.applied < count) {
      int from = (int) store.applied;
      int size = 1 + random.nextInt(count - from);
      List<Operation> batchOps = ops.subList(from, from + size);
      ApplyRules.Batch batch = ApplyRules.apply(batchOps, indexes(from + 1, size), store.states());
      List<ApplyRules.Step> steps = ApplyRules.plan(batch, from + size);
      // A crash after any write of the batch, often after all but the applied index (the most left to apply again).
      int crashAfter = switch (random.nextInt(4)) {
        case 0 -> random.nextInt(steps.size());
        case 1 -> steps.size() - 1;
        default -> steps.size();
      };
      for (int s = 0; s < crashAfter; s++) {
        store.run(steps.get(s));
      }
      // A batch over what a crashed attempt may have written knows no outcome of what it passes over: only first attempts count.
      if (crashAfter == steps.size() && from >= attempted) {
        for (Outcome outcome : batch.outcomes()) {
          seen.put(outcome.index(), outcome.result());
        }
      }
      attempted = Math.max(attempted, from + size);
    }
    Map<Key, Long> expected = live(reference);
    Map<Key, Long> actual = store.live();
    if (!expected.equals(actual)) {
      return "ops " + ops + ": documents " + actual + ", applying once gives " + expected;
    }
    for (Map.Entry<Long, Result> outcome : seen.entrySet()) {
      Result once = firstOutcomes.get((int) (long) outcome.getKey() - 1);
      if (outcome.getValue() != once) {
        return "ops " + ops + ": operation " + outcome.getKey() + " was " + outcome.getValue() + ", applying once gives " + once;
      }
    }
    return null;
  }

  private static Map<Key, Long> live(Map<Key, State> states) {
    Map<Key, Long> live = new TreeMap<>(java.util.Comparator.comparing(k -> k.id().toString()));
    states.forEach((k, s) -> {
      if (s.exists()) {
        live.put(k, s.version());
      }
    });
    return live;
  }

  /** A store as {@link Documents} keeps it: live documents with their versions, tombstones, the applied index. */
  private static final class Model {
    final boolean tombstones;
    final Map<Key, Long> docs = new HashMap<>();
    final Map<Key, Long> deleted = new HashMap<>();
    long applied;

    Model(boolean tombstones) {
      this.tombstones = tombstones;
    }

    Map<Key, Stored> states() {
      Map<Key, Stored> states = new HashMap<>();
      deleted.forEach((k, v) -> states.put(k, new Stored(0, v)));
      docs.forEach((k, v) -> states.merge(k, new Stored(v, 0), (a, b) -> new Stored(b.copy(), a.tombstone())));
      return states;
    }

    void run(ApplyRules.Step step) {
      if (step instanceof ApplyRules.Tombstone t) {
        if (tombstones) {
          deleted.put(t.key(), t.version());
        }
      } else if (step instanceof ApplyRules.Replace r) {
        docs.put(r.key(), r.version());
      } else if (step instanceof ApplyRules.Remove r) {
        docs.remove(r.key());
      } else {
        applied = ((ApplyRules.Applied) step).index();
      }
    }

    /** What a MongoDB client reads: the documents' copies, whatever the tombstones say. */
    Map<Key, Long> live() {
      Map<Key, Long> live = new TreeMap<>(java.util.Comparator.comparing(k -> k.id().toString()));
      live.putAll(docs);
      return live;
    }
  }

  private static long[] indexes(long from, int count) {
    long[] indexes = new long[count];
    for (int i = 0; i < count; i++) {
      indexes[i] = from + i;
    }
    return indexes;
  }
}
