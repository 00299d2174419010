package dev.bully.sim;

import dev.bully.apply.Outcome;
import dev.bully.core.LogEntry;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.LongFunction;

/**
 * The documents as applying every committed operation once, in log order, makes them, after each
 * prefix of the log: a plain interpreter of the operations, written apart from the rules it checks.
 */
final class DocumentImages {
  /** Each document's copies by the index that wrote them; an empty one where a delete removed it. */
  private final Map<Object, NavigableMap<Long, Optional<SimDocuments.Copy>>> history = new HashMap<>();
  private final List<Outcome> outcomes = new ArrayList<>();

  /** How many entries the images cover. */
  long through() {
    return outcomes.size();
  }

  /** Extends the images over the committed entries up to {@code index}; {@code committed} gives each. */
  void extendTo(long index, LongFunction<LogEntry> committed) {
    while (through() < index) {
      LogEntry entry = committed.apply(through() + 1);
      if (entry == null) {
        throw new IllegalStateException("entry " + (through() + 1) + " is not known to be committed");
      }
      outcomes.add(interpret(SimOp.of(entry), entry.index()));
    }
  }

  private Outcome interpret(SimOp op, long index) {
    if (op.kind() == SimOp.Kind.NONE) {
      return new Outcome(index, Outcome.Result.NOTHING, 0);
    }
    Optional<SimDocuments.Copy> now = at(op.id(), index - 1);
    long current = now.map(SimDocuments.Copy::version).orElse(0L);
    if (op.expect() != SimOp.ANY && op.expect() != current) {
      return new Outcome(index, Outcome.Result.PRECONDITION_FAILED, current);
    }
    NavigableMap<Long, Optional<SimDocuments.Copy>> copies = history.computeIfAbsent(op.id(), id -> new TreeMap<>());
    if (op.kind() == SimOp.Kind.PUT) {
      copies.put(index, Optional.of(new SimDocuments.Copy(index, op.fields())));
      return new Outcome(index, Outcome.Result.WRITTEN, index);
    }
    if (now.isEmpty()) {
      return new Outcome(index, Outcome.Result.NOT_FOUND, 0);
    }
    copies.put(index, Optional.empty());
    return new Outcome(index, Outcome.Result.DELETED, 0);
  }

  /** Document {@code id} after the first {@code index} entries. */
  Optional<SimDocuments.Copy> at(Object id, long index) {
    NavigableMap<Long, Optional<SimDocuments.Copy>> copies = history.get(id);
    Map.Entry<Long, Optional<SimDocuments.Copy>> last = copies == null ? null : copies.floorEntry(index);
    return last == null ? Optional.empty() : last.getValue();
  }

  /** Whether document {@code id} is as the image of some prefix from {@code from} to {@code to} entries leaves it. */
  boolean someImageHas(Object id, Optional<SimDocuments.Copy> copy, long from, long to) {
    if (at(id, from).equals(copy)) {
      return true;
    }
    NavigableMap<Long, Optional<SimDocuments.Copy>> copies = history.get(id);
    return copies != null && copies.subMap(from, false, to, true).containsValue(copy);
  }

  /** Every document ever written. */
  Set<Object> ids() {
    return history.keySet();
  }

  /** What applying once decides for the entry at {@code index}. */
  Outcome outcome(long index) {
    return outcomes.get((int) index - 1);
  }
}
