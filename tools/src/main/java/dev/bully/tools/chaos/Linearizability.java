package dev.bully.tools.chaos;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Whether a history of register operations is linearizable: the search of Wing and Gong with
 * Lowe's memoization (as Knossos and Porcupine run it), one key at a time (a register's operations
 * touch only their key, so a history is linearizable exactly when each key's is).
 *
 * <p>The search walks the history in time order; at each call it tries to take the operation
 * effect now (the register's state must explain what the operation saw), and at a return of an
 * operation it has not taken, it backs up. A set of taken operations with a state it has been in
 * before is not tried twice. An operation whose outcome the client does not know (a timeout, a
 * lost answer) has no return: it may take effect at any time after its call, or never, which is
 * the same as at the very end.
 */
public final class Linearizability {
  private Linearizability() {
  }

  public enum Kind { READ, WRITE, CAS }

  /**
   * One client operation on a register.
   *
   * @param key      the register
   * @param kind     read, write, or compare-and-set
   * @param expected a CAS's expected value; a read's value seen (null: absent)
   * @param value    what a write or CAS writes
   * @param ok       a CAS's answer (true: it wrote); ignored for reads and writes
   * @param known    false when the client does not know whether it took effect (then no return)
   * @param callNs   when the client sent it
   * @param returnNs when the answer came (ignored when not known)
   * @param client   who sent it, for the report
   */
  public record Op(String key, Kind kind, String expected, String value, boolean ok, boolean known, long callNs,
                   long returnNs, int client) {
    public static Op read(String key, String seen, long callNs, long returnNs, int client) {
      return new Op(key, Kind.READ, seen, null, true, true, callNs, returnNs, client);
    }

    public static Op write(String key, String value, boolean known, long callNs, long returnNs, int client) {
      return new Op(key, Kind.WRITE, null, value, true, known, callNs, returnNs, client);
    }

    public static Op cas(String key, String expected, String value, boolean ok, boolean known, long callNs, long returnNs,
                         int client) {
      return new Op(key, Kind.CAS, expected, value, ok, known, callNs, returnNs, client);
    }

    @Override
    public String toString() {
      String what = switch (kind) {
        case READ -> "read " + expected;
        case WRITE -> "write " + value;
        case CAS -> "cas " + expected + "->" + value + (known ? (ok ? " ok" : " failed") : "");
      };
      return "client " + client + " " + what + (known ? "" : " (unknown)") + " [" + callNs + ", " + (known ? returnNs : "∞") + "]";
    }
  }

  /**
   * How many steps the search may take on one key. A history that is not linearizable makes the
   * search try every order it cannot rule out, which grows exponentially with the operations that
   * overlap; past this budget the verdict is inconclusive, and says so.
   */
  static final long SEARCH_BUDGET = 2_000_000;

  /**
   * A key whose history is not linearizable, with its operations; or, when not {@code conclusive},
   * one the search gave up on within {@link #SEARCH_BUDGET}.
   */
  public record Violation(String key, List<Op> ops, String why, boolean conclusive, Op stuck) {
  }

  /** The first key whose history is not linearizable, if any; keys are checked in the order they first appear. */
  public static Optional<Violation> check(List<Op> history) {
    Map<String, List<Op>> byKey = new LinkedHashMap<>();
    history.forEach(op -> byKey.computeIfAbsent(op.key(), k -> new ArrayList<>()).add(op));
    Violation inconclusive = null;
    for (Map.Entry<String, List<Op>> key : byKey.entrySet()) {
      List<Op> ops = withoutUnseenUnknowns(key.getValue());
      Failure failure = checkKey(ops);
      if (failure != null && failure.stuck() != null) {
        return Optional.of(new Violation(key.getKey(), ops, failure.why(), true, failure.stuck()));
      }
      if (failure != null && inconclusive == null) {
        inconclusive = new Violation(key.getKey(), ops, failure.why(), false, null);
      }
    }
    return Optional.ofNullable(inconclusive);
  }

  /** Why a key's search failed: the operation no order could explain, or null when it gave up at the budget. */
  private record Failure(String why, Op stuck) {
  }

  /**
   * The history without the writes and compare-and-sets of unknown outcome whose value nothing
   * saw and that no failed compare-and-set could need: each may take effect at the very end, where
   * it changes nothing any operation saw, so the history is linearizable with them exactly when it
   * is without them. A failed compare-and-set that returned after such an operation's call might be
   * explained only by it (the register held its value then), so then it stays. Fewer operations
   * that overlap everything after them keep the search small.
   */
  static List<Op> withoutUnseenUnknowns(List<Op> ops) {
    Set<String> seen = new HashSet<>();
    long lastFailedCasReturn = Long.MIN_VALUE;
    for (Op op : ops) {
      if (op.kind() == Kind.READ || (op.kind() == Kind.CAS && op.known() && op.ok())) {
        seen.add(op.expected());
      }
      if (op.kind() == Kind.CAS && op.known() && !op.ok()) {
        lastFailedCasReturn = Math.max(lastFailedCasReturn, op.returnNs());
      }
    }
    List<Op> kept = new ArrayList<>();
    for (Op op : ops) {
      if (op.known() || op.kind() == Kind.READ || seen.contains(op.value()) || op.callNs() <= lastFailedCasReturn) {
        kept.add(op);
      }
    }
    return kept;
  }

  /** Null if one register's history, starting absent, is linearizable; else why not, or that the search gave up. */
  private static Failure checkKey(List<Op> ops) {
    Entry head = entries(ops);
    String state = null;
    BitSet taken = new BitSet(ops.size());
    Set<Memo> seen = new HashSet<>();
    Deque<Frame> stack = new ArrayDeque<>();
    Entry entry = head.next;
    Op stuck = null;
    long steps = 0;
    while (head.next != null) {
      if (++steps > SEARCH_BUDGET) {
        return new Failure("inconclusive: the search stopped after " + SEARCH_BUDGET + " steps on " + ops.size() + " operations",
            null);
      }
      if (entry.call) {
        Step step = step(state, entry.op);
        if (step.legal) {
          BitSet next = (BitSet) taken.clone();
          next.set(entry.id);
          if (seen.add(new Memo(next, step.state))) {
            stack.push(new Frame(entry, state));
            state = step.state;
            taken = next;
            entry.lift();
            entry = head.next;
            continue;
          }
        }
        entry = entry.next;
      } else {
        if (stuck == null || entry.op.returnNs() > stuck.returnNs()) {
          stuck = entry.op;
        }
        if (stack.isEmpty()) {
          return new Failure("no order of the operations explains " + stuck, stuck);
        }
        Frame top = stack.pop();
        state = top.state;
        taken = (BitSet) taken.clone();
        taken.clear(top.entry.id);
        top.entry.unlift();
        entry = top.entry.next;
      }
    }
    return null;
  }

  private record Step(boolean legal, String state) {
  }

  /** The register's step: whether {@code op} may take effect in {@code state}, and the state after. */
  private static Step step(String state, Op op) {
    return switch (op.kind()) {
      case READ -> new Step(Objects.equals(state, op.expected()), state);
      case WRITE -> new Step(true, op.value());
      case CAS -> {
        boolean matches = Objects.equals(state, op.expected());
        if (!op.known()) {
          yield new Step(true, matches ? op.value() : state);
        }
        yield new Step(matches == op.ok(), matches ? op.value() : state);
      }
    };
  }

  private record Memo(BitSet taken, String state) {
  }

  private record Frame(Entry entry, String state) {
  }

  /** A call or a return in the doubly linked list of the history's events, in time order. */
  private static final class Entry {
    final boolean call;
    final int id;
    final Op op;
    final long time;
    Entry match;
    Entry prev;
    Entry next;

    Entry(boolean call, int id, Op op, long time) {
      this.call = call;
      this.id = id;
      this.op = op;
      this.time = time;
    }

    /** Takes this call and its return out of the list. */
    void lift() {
      prev.next = next;
      if (next != null) {
        next.prev = prev;
      }
      match.prev.next = match.next;
      if (match.next != null) {
        match.next.prev = match.prev;
      }
    }

    /** Puts this call and its return back where they were (the reverse of {@link #lift}). */
    void unlift() {
      match.prev.next = match;
      if (match.next != null) {
        match.next.prev = match;
      }
      prev.next = this;
      if (next != null) {
        next.prev = this;
      }
    }
  }

  /** The events in time order behind a head; at equal times calls first (operations that touch are concurrent). */
  private static Entry entries(List<Op> ops) {
    List<Entry> events = new ArrayList<>();
    for (int i = 0; i < ops.size(); i++) {
      Op op = ops.get(i);
      Entry call = new Entry(true, i, op, op.callNs());
      Entry ret = new Entry(false, i, op, op.known() ? op.returnNs() : Long.MAX_VALUE);
      call.match = ret;
      ret.match = call;
      events.add(call);
      events.add(ret);
    }
    events.sort(Comparator.comparingLong((Entry e) -> e.time).thenComparing(e -> !e.call));
    Entry head = new Entry(true, -1, null, Long.MIN_VALUE);
    Entry last = head;
    for (Entry e : events) {
      last.next = e;
      e.prev = last;
      last = e;
    }
    return head;
  }
}
