package dev.bully.data;

import dev.bully.core.LogEntry;
import dev.bully.apply.ApplyRules;
import dev.bully.apply.ApplyRules.Key;
import dev.bully.apply.Outcome;
import dev.bully.election.CommittedFeed;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies committed entries, in log order, to the node's documents ({@link Documents}), one batch
 * at a time on its own event loop: it takes what has committed since the last batch from the
 * {@link CommittedFeed}, reads the states of the documents the batch touches, decides every
 * operation ({@link ApplyRules}), writes the result with the new applied index, and once that is
 * durable tells whoever waits for those indexes: the coordinator's answers to document writes, and
 * reads that wait for an index ({@code minIndex}, linearizable reads).
 */
public final class ApplyVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(ApplyVerticle.class);
  /** Entries per batch at most (the feed also stops at about 4 MiB of text). */
  static final int BATCH_ENTRIES = 1000;
  /** How many recent outcomes of document writes are kept for answers that come after their apply. */
  static final int KEPT_OUTCOMES = 100_000;
  private static final long RETRY_MS = 200;

  /** A batch that changes no document writes the applied index only this often: applying no-ops again costs nothing. */
  private static final long IDLE_PERSIST_MS = 1_000;

  private final Documents documents;
  private final CommittedFeed feed;
  private final boolean writesCollection;
  private long persistedAtMs;
  /** Applied and durable: what reads and answers may rely on. */
  private volatile long applied;
  /** Written to the store, perhaps not yet durable: the next batch starts after it. */
  private long written;
  /** Completes once the last batch written is durable and answered; each batch's durability waits for the one before. */
  private Future<Void> answered = Future.succeededFuture();
  private final NavigableMap<Long, List<Promise<Outcome>>> waiting = new TreeMap<>();
  private final LinkedHashMap<Long, Outcome> recent = new LinkedHashMap<>(1024, 0.75f, false) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Long, Outcome> eldest) {
      return size() > KEPT_OUTCOMES;
    }
  };
  private volatile boolean stopped;
  private long failures;

  /** {@code writesCollection}: whether appends of {@code POST /api/writes} become documents ({@code data.writesCollection}). */
  public ApplyVerticle(Documents documents, CommittedFeed feed, boolean writesCollection) {
    this.documents = documents;
    this.feed = feed;
    this.writesCollection = writesCollection;
  }

  @Override
  public Future<?> start() {
    return documents.appliedIndex().onSuccess(index -> {
      applied = index;
      written = index;
      feed.applied(index);
      log.info("Documents applied up to index {}", index);
      pull();
    });
  }

  /** The index up to which this node's documents include every committed operation. */
  public long appliedIndex() {
    return applied;
  }

  /**
   * The outcome of the operation at {@code index} once this node applied it, on the caller's
   * context. An outcome no longer kept (long applied before) is {@link Outcome.Result#NOTHING}.
   */
  public Future<Outcome> whenApplied(long index) {
    Context caller = Vertx.currentContext();
    Promise<Outcome> promise = Promise.promise();
    context.runOnContext(v -> {
      Promise<Outcome> here = Promise.promise();
      here.future().onComplete(done -> {
        if (caller == null) {
          promise.handle(done);
        } else {
          caller.runOnContext(w -> promise.handle(done));
        }
      });
      if (index <= applied) {
        here.complete(recent.getOrDefault(index, new Outcome(index, Outcome.Result.NOTHING, 0)));
      } else {
        waiting.computeIfAbsent(index, i -> new ArrayList<>()).add(here);
      }
    });
    return promise.future();
  }

  /** Asks the feed for what committed after the applied index; applies it when it comes. */
  private void pull() {
    if (stopped) {
      return;
    }
    feed.next(written + 1, BATCH_ENTRIES, entries -> context.runOnContext(v -> apply(entries)));
  }

  private void apply(List<LogEntry> entries) {
    apply(entries, null);
  }

  /**
   * Applies {@code entries}; {@code decided} is the batch as decided by an earlier attempt whose
   * store writes failed. A retry writes that batch again and never decides anew: the failed
   * attempt may have written some documents, and deciding against them would report, say, a
   * compare-and-set that failed as written (its document now carries a later version).
   */
  private void apply(List<LogEntry> entries, ApplyRules.Batch decided) {
    if (entries.get(0).index() != written + 1) {
      log.warn("The feed answered from index {}, expected {}; asking again", entries.get(0).index(), written + 1);
      vertx.setTimer(RETRY_MS, id -> pull());
      return;
    }
    List<Operation> ops = new ArrayList<>(entries.size());
    long[] indexes = new long[entries.size()];
    for (int i = 0; i < entries.size(); i++) {
      Operation op = Operation.of(entries.get(i), writesCollection);
      if (op.problem() != null) {
        log.warn("Node applies nothing for {}", op.problem());
      }
      ops.add(op);
      indexes[i] = entries.get(i).index();
    }
    long last = indexes[indexes.length - 1];
    // Through a future from the start: whatever fails, even at once, is retried below.
    Future<ApplyRules.Batch> decision = decided != null ? Future.succeededFuture(decided)
        : Future.succeededFuture().compose(v -> documents.states(ops)).map(states -> ApplyRules.apply(ops, indexes, states));
    decision
        .compose(batch -> {
          Map<Key, JsonObject> docs = new HashMap<>();
          ApplyRules.writers(ops, indexes, batch).forEach((key, op) -> docs.put(key, op.doc()));
          long nowMs = System.nanoTime() / 1_000_000;
          if (batch.states().isEmpty() && nowMs - persistedAtMs < IDLE_PERSIST_MS) {
            return Future.succeededFuture(new Written(batch, false));
          }
          persistedAtMs = nowMs;
          return documents.write(batch, docs, last).map(new Written(batch, true));
        })
        .onSuccess(done -> {
          failures = 0;
          written = last;
          // The next batch is read and written while this one is forced: one group commit then covers several.
          pull();
          answered = answered.compose(v -> done.stored ? forced() : Future.succeededFuture())
              .onSuccess(v -> {
                applied = last;
                feed.applied(last);
                for (Outcome outcome : done.batch.outcomes()) {
                  if (outcome.result() != Outcome.Result.NOTHING) {
                    recent.put(outcome.index(), outcome);
                  }
                }
                answer(done.batch.outcomes());
              });
        })
        .onFailure(failure -> {
          if (stopped) {
            return;
          }
          if (failures++ % 50 == 0) {
            log.warn("Applying entries {} to {} failed ({}); retrying", indexes[0], last, failure.toString());
          }
          vertx.setTimer(RETRY_MS, id -> apply(entries, decision.succeeded() ? decision.result() : null));
        });
  }

  /** A batch written to the store ({@code stored}: false when it changed no document and its index could wait). */
  private record Written(ApplyRules.Batch batch, boolean stored) {
  }

  /** The store's force of what was written so far, tried again until it passes (a store that cannot force holds all back). */
  private Future<Void> forced() {
    return documents.durable().recover(failure -> {
      if (stopped) {
        return Future.failedFuture(failure);
      }
      log.warn("Forcing the applied documents to the device failed ({}); retrying", failure.toString());
      io.vertx.core.Promise<Void> again = io.vertx.core.Promise.promise();
      vertx.setTimer(RETRY_MS, id -> forced().onComplete(again));
      return again.future();
    });
  }

  private void answer(List<Outcome> outcomes) {
    Map<Long, Outcome> byIndex = new HashMap<>();
    outcomes.forEach(o -> byIndex.put(o.index(), o));
    NavigableMap<Long, List<Promise<Outcome>>> due = waiting.headMap(applied, true);
    due.forEach((index, promises) -> {
      Outcome outcome = byIndex.getOrDefault(index, recent.getOrDefault(index, new Outcome(index, Outcome.Result.NOTHING, 0)));
      promises.forEach(p -> p.complete(outcome));
    });
    due.clear();
  }

  @Override
  public Future<?> stop() {
    stopped = true;
    return Future.succeededFuture();
  }
}
