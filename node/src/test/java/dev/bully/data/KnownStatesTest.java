package dev.bully.data;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.bully.apply.ApplyRules;
import dev.bully.apply.ApplyRules.Key;
import dev.bully.apply.ApplyRules.Stored;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class KnownStatesTest {
  private static final String C = "c";

  /**
   * Random batches on a few documents, applied as the applier does: from what it knows when it
   * knows every document of the batch, else from a read of the store; some batches' writes fail
   * part-way. Whatever it knows is always what the store holds, so every batch is decided as from
   * the store itself.
   */
  @Test
  void whatIsKnownIsAlwaysWhatTheStoreHolds() {
    long seed = new SplittableRandom().nextLong();
    SplittableRandom random = new SplittableRandom(seed);
    for (int run = 0; run < 500; run++) {
      Map<Key, Stored> store = new HashMap<>();
      KnownStates known = new KnownStates();
      long index = 0;
      for (int batchNo = 0; batchNo < 30; batchNo++) {
        List<Operation> ops = new ArrayList<>();
        int size = 1 + random.nextInt(5);
        long[] indexes = new long[size];
        for (int i = 0; i < size; i++) {
          String id = "d" + random.nextInt(3);
          long expect = switch (random.nextInt(3)) {
            case 0 -> Operation.ANY;
            case 1 -> Operation.ABSENT;
            default -> 1 + random.nextInt((int) index + 1);
          };
          ops.add(random.nextInt(3) == 0 ? Operation.delete(C, id, expect) : Operation.put(C, id, expect));
          indexes[i] = ++index;
        }
        Map<Key, Stored> fromStore = storedFor(ops, store);
        Map<Key, Stored> fromMemory = known.lookup(ops);
        if (fromMemory != null) {
          assertEquals(fromStore, fromMemory, "seed " + seed + ": what is known of " + ops);
        } else {
          known.read(ops, fromStore);
        }
        ApplyRules.Batch batch = ApplyRules.apply(ops, indexes, fromStore);
        List<ApplyRules.Step> steps = ApplyRules.plan(batch, index);
        boolean fails = random.nextInt(5) == 0;
        int done = fails ? random.nextInt(steps.size()) : steps.size();
        steps.subList(0, done).forEach(step -> run(step, store));
        if (fails) {
          // The applier writes the decided batch again until it passes, before it decides another.
          steps.forEach(step -> run(step, store));
        }
        known.written(batch);
      }
    }
  }

  private static Map<Key, Stored> storedFor(List<Operation> ops, Map<Key, Stored> store) {
    Map<Key, Stored> found = new HashMap<>();
    for (Operation op : ops) {
      Key key = new Key(op.collection(), op.id());
      Stored stored = store.get(key);
      if (stored != null && (stored.copy() != 0 || stored.tombstone() != 0)) {
        found.put(key, stored);
      }
    }
    return found;
  }

  private static void run(ApplyRules.Step step, Map<Key, Stored> store) {
    if (step instanceof ApplyRules.Tombstone t) {
      Stored before = store.getOrDefault(t.key(), new Stored(0, 0));
      store.put(t.key(), new Stored(before.copy(), t.version()));
    } else if (step instanceof ApplyRules.Replace r) {
      Stored before = store.getOrDefault(r.key(), new Stored(0, 0));
      store.put(r.key(), new Stored(r.version(), before.tombstone()));
    } else if (step instanceof ApplyRules.Remove r) {
      Stored before = store.getOrDefault(r.key(), new Stored(0, 0));
      store.put(r.key(), new Stored(0, before.tombstone()));
    }
  }
}
