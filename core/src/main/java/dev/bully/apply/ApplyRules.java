package dev.bully.apply;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How a batch of committed operations changes the documents, given what the store holds of the
 * documents they touch: pure, so that every node decides the same from the same log.
 *
 * <p>A document's state is its version (the index of the operation that last wrote it) and whether
 * it exists; a deleted document leaves a tombstone with the delete's index. An operation whose index
 * is not above that version was applied before (a node that crashed in the middle of a batch applies
 * it again from its applied index): it is passed over, and the state already includes it. Otherwise
 * its condition is checked against the state, which then holds exactly the operations before it.
 *
 * <p>The rules are the node's ({@code dev.bully.data.ApplyVerticle} and {@code Documents} run them
 * against MongoDB) and the simulator's, which runs them against a model store it crashes at every
 * step.
 */
public final class ApplyRules {
  private ApplyRules() {
  }

  /** A document's state: its version and whether it exists (a version with {@code exists} false is a tombstone's). */
  public record State(long version, boolean exists) {
    public static final State NEVER = new State(0, false);
  }

  /**
   * What the store holds of a document: the version of its copy and of its tombstone (0: none).
   * A tombstone newer than a copy is a delete cut short by a crash (the tombstone is written first):
   * the document is deleted, and its copy is still to be removed.
   */
  public record Stored(long copy, long tombstone) {
    /** The document's state as the rules decide on it. */
    public State state() {
      return copy > tombstone ? new State(copy, true) : tombstone > 0 ? new State(tombstone, false) : State.NEVER;
    }

    /** Whether a copy is left behind a newer tombstone. */
    public boolean leftover() {
      return copy > 0 && tombstone > copy;
    }
  }

  /** A document's key: its collection and id. */
  public record Key(String collection, Object id) {
  }

  /** What a batch does: each operation's outcome, in order, and each touched document's state afterwards. */
  public record Batch(List<Outcome> outcomes, Map<Key, State> states) {
  }

  /**
   * Applies {@code ops} (their entries' indexes in {@code indexes}) to {@code stored}, what the
   * store holds of the documents they touch (absent: never written). A copy left behind a newer
   * tombstone is removed again, whatever the batch does.
   */
  public static Batch apply(List<? extends Change> ops, long[] indexes, Map<Key, Stored> stored) {
    Map<Key, State> states = new LinkedHashMap<>();
    Map<Key, State> now = new HashMap<>();
    stored.forEach((key, held) -> {
      now.put(key, held.state());
      if (held.leftover()) {
        states.put(key, held.state());
      }
    });
    Outcome[] outcomes = new Outcome[ops.size()];
    for (int i = 0; i < ops.size(); i++) {
      Change op = ops.get(i);
      long index = indexes[i];
      if (op.kind() == Change.Kind.NONE) {
        outcomes[i] = new Outcome(index, Outcome.Result.NOTHING, 0);
        continue;
      }
      Key key = new Key(op.collection(), op.id());
      State state = now.getOrDefault(key, State.NEVER);
      Outcome outcome = decide(op, index, state);
      outcomes[i] = outcome;
      if (state.version() >= index) {
        continue; // applied before this batch
      }
      State after = switch (outcome.result()) {
        case WRITTEN -> new State(index, true);
        case DELETED -> new State(index, false);
        default -> null;
      };
      if (after != null) {
        now.put(key, after);
        states.put(key, after);
      }
    }
    return new Batch(List.of(outcomes), states);
  }

  /**
   * The operation that wrote each document the batch leaves existing: the one whose index is the
   * document's new version, whose fields the document then has. An operation whose condition
   * failed, or that a later one of the batch overwrote, wrote none.
   */
  public static <C extends Change> Map<Key, C> writers(List<C> ops, long[] indexes, Batch batch) {
    Map<Key, C> writers = new HashMap<>();
    for (int i = 0; i < ops.size(); i++) {
      C op = ops.get(i);
      if (op.kind() != Change.Kind.PUT && op.kind() != Change.Kind.APPEND) {
        continue;
      }
      Key key = new Key(op.collection(), op.id());
      State after = batch.states().get(key);
      if (after != null && after.exists() && after.version() == indexes[i]) {
        writers.put(key, op);
      }
    }
    return writers;
  }

  /** One store write of a batch, in the order {@link #plan} gives. */
  public sealed interface Step {
  }

  /** Record that {@code key} was deleted at {@code version}. */
  public record Tombstone(Key key, long version) implements Step {
  }

  /** Write the document {@code key} as the operation at {@code version} made it. */
  public record Replace(Key key, long version) implements Step {
  }

  /** Remove the document {@code key}. */
  public record Remove(Key key) implements Step {
  }

  /** Record that every operation up to {@code index} is applied. */
  public record Applied(long index) implements Step {
  }

  /**
   * The store writes of {@code batch}, in an order in which a crash after any of them leaves states
   * from which applying the batch again ends as applying it once: tombstones first (a document then
   * reads as deleted at its delete's index, though its old copy is still there), then the documents
   * (each one write, a copy of one version), then the applied index.
   */
  public static List<Step> plan(Batch batch, long appliedIndex) {
    List<Step> steps = documentWrites(batch);
    steps.add(new Applied(appliedIndex));
    return steps;
  }

  /** The steps of {@link #plan} before the applied index: a node that records it later writes only these. */
  public static List<Step> documentWrites(Batch batch) {
    List<Step> steps = new ArrayList<>();
    batch.states().forEach((key, state) -> {
      if (!state.exists()) {
        steps.add(new Tombstone(key, state.version()));
      }
    });
    batch.states().forEach((key, state) -> steps.add(state.exists() ? new Replace(key, state.version()) : new Remove(key)));
    return steps;
  }

  /** The outcome of {@code op} at {@code index} on a document in {@code state}. */
  static Outcome decide(Change op, long index, State state) {
    long current = state.exists() ? state.version() : 0;
    if (state.version() >= index) {
      // Applied already: its outcome then is not known any more; the state includes it.
      return new Outcome(index, op.kind() == Change.Kind.DELETE ? Outcome.Result.DELETED : Outcome.Result.WRITTEN, current);
    }
    boolean holds = op.expect() == Change.ANY || op.expect() == current;
    if (!holds) {
      return new Outcome(index, Outcome.Result.PRECONDITION_FAILED, current);
    }
    return switch (op.kind()) {
      case PUT, APPEND -> new Outcome(index, Outcome.Result.WRITTEN, index);
      case DELETE -> state.exists() ? new Outcome(index, Outcome.Result.DELETED, 0) : new Outcome(index, Outcome.Result.NOT_FOUND, 0);
      case NONE -> new Outcome(index, Outcome.Result.NOTHING, 0);
    };
  }
}
