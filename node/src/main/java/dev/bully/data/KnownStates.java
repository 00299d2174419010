package dev.bully.data;

import dev.bully.apply.ApplyRules;
import dev.bully.apply.ApplyRules.Key;
import dev.bully.apply.ApplyRules.State;
import dev.bully.apply.ApplyRules.Stored;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the store holds (copy and tombstone versions) of the documents the applier touched lately,
 * as it read or wrote them, so that a batch of documents it knows is decided without reading the
 * store first: the applier is the only writer of the documents, and it writes a batch whose writes
 * failed again, as decided, before it decides the next; a restart starts with none known. At most
 * {@link #MAX} documents, the least recently used leaving first.
 */
final class KnownStates {
  static final int MAX = 100_000;

  private final LinkedHashMap<Key, Stored> states = new LinkedHashMap<>(1024, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Key, Stored> eldest) {
      return size() > MAX;
    }
  };

  /** Forgets every state: a snapshot's documents took the place of the ones they described. */
  void clear() {
    states.clear();
  }

  /** What the store holds of every document {@code ops} touch (appends aside), or null if one of them is not known. */
  Map<Key, Stored> lookup(List<Operation> ops) {
    Map<Key, Stored> found = new HashMap<>();
    for (Operation op : ops) {
      if (op.decidedOnState()) {
        Key key = new Key(op.collection(), op.id());
        Stored stored = states.get(key);
        if (stored == null) {
          return null;
        }
        if (stored.copy() != 0 || stored.tombstone() != 0) {
          found.put(key, stored);
        }
      }
    }
    return found;
  }

  /** What a read of the store found for the documents {@code ops} touch: those it did not find were never written. */
  void read(List<Operation> ops, Map<Key, Stored> found) {
    for (Operation op : ops) {
      if (op.decidedOnState()) {
        Key key = new Key(op.collection(), op.id());
        states.put(key, found.getOrDefault(key, new Stored(0, 0)));
      }
    }
  }

  /** The store now holds what {@code batch} wrote: a new copy keeps the tombstone there was, a delete leaves a tombstone only. */
  void written(ApplyRules.Batch batch) {
    batch.states().forEach((key, state) -> {
      Stored before = states.get(key);
      if (before == null) {
        states.remove(key);
      } else {
        states.put(key, after(before, state));
      }
    });
  }

  static Stored after(Stored before, State state) {
    return state.exists() ? new Stored(state.version(), before.tombstone()) : new Stored(0, state.version());
  }
}
