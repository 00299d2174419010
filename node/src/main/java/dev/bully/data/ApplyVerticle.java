package dev.bully.data;

import dev.bully.core.LogEntry;
import dev.bully.apply.ApplyRules;
import dev.bully.apply.ApplyRules.Key;
import dev.bully.apply.Outcome;
import dev.bully.election.CommittedFeed;
import dev.bully.metrics.NodeMetrics;
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
 * {@link CommittedFeed}, reads the states of the documents the batch touches (unless it knows them from
 * the batches before, {@link KnownStates}), decides every
 * operation ({@link ApplyRules}), writes the result, and once the store acknowledged it (every read
 * of the store then sees it) tells whoever waits for those indexes: the coordinator's answers to
 * document writes, and reads that wait for an index ({@code minIndex}, linearizable reads). Behind,
 * at most every {@link #FORCE_EVERY_MS}, it records the applied index in the store and forces the
 * documents to the device, one group commit for all the batches since the last: nothing waits for
 * that, because the documents are derived from the log, which is durable on a majority before an
 * entry is applied. A crash loses at most the batches written since the last force, or leaves
 * documents ahead of the recorded index, and the start applies from that index again
 * ({@link ApplyRules} makes that idempotent).
 */
public final class ApplyVerticle extends VerticleBase implements Snapshots.Applier {
  private static final Logger log = LoggerFactory.getLogger(ApplyVerticle.class);
  /** Entries per batch at most (the feed also stops at about 4 MiB of text). */
  static final int BATCH_ENTRIES = 1000;
  /** How many recent outcomes of document writes are kept for answers that come after their apply. */
  static final int KEPT_OUTCOMES = 100_000;
  private static final long RETRY_MS = 200;

  /**
   * The documents are forced to the device at most this often. Nothing waits for it (see the class
   * comment): it bounds what a crash makes the start apply again, and how far behind the applied
   * index compaction and snapshots stay. Forcing after every batch cost, at one client, a commit of
   * the store's pages and an fsync per write on every node, as much CPU as the write itself.
   */
  static final long FORCE_EVERY_MS = 100;

  /**
   * Batches that change no document record the applied index only this long after the last force:
   * applying no-ops again costs nothing.
   */
  private static final long IDLE_PERSIST_MS = 1_000;

  private final Documents documents;
  private final CommittedFeed feed;
  private final boolean writesCollection;
  private final NodeMetrics metrics;
  /** Applied: written to the store, which every read of it sees; what reads and answers rely on, and where the next batch starts. */
  private volatile long applied;
  /** A force of the documents is running; another was asked for meanwhile; one waits for its turn ({@link #FORCE_EVERY_MS}). */
  private boolean forcing;
  private boolean forceAgain;
  private boolean forceTimer;
  private long lastForceNs = System.nanoTime() - FORCE_EVERY_MS * 1_000_000;
  private final NavigableMap<Long, List<Promise<Outcome>>> waiting = new TreeMap<>();
  /** The documents' states as this applier read and wrote them: a batch of known documents reads nothing first. */
  private final KnownStates known = new KnownStates();
  private final LinkedHashMap<Long, Outcome> recent = new LinkedHashMap<>(1024, 0.75f, false) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Long, Outcome> eldest) {
      return size() > KEPT_OUTCOMES;
    }
  };
  private volatile boolean stopped;
  private long failures;
  /** The applied index last recorded in the store, and the one last forced to the device with it. */
  private long storedApplied;
  private volatile long durableApplied;
  /** The last index of the batch being written, while its writes may be in the store before the applied index is. */
  private volatile long writingUpTo;
  /** After a snapshot: the documents are the image of a prefix of the log again once applied up to here. */
  private volatile long consistentAt;
  /** A snapshot's documents are being swapped in: nothing is applied, and {@link #idle} completes once no batch is written. */
  private boolean pausedForSwap;
  private boolean batchInFlight;
  private Promise<Void> idle;
  private final Snapshots snapshots;

  /** {@code writesCollection}: whether appends of {@code POST /api/writes} become documents ({@code data.writesCollection}). */
  public ApplyVerticle(Documents documents, Snapshots snapshots, CommittedFeed feed, boolean writesCollection, NodeMetrics metrics) {
    this.documents = documents;
    this.snapshots = snapshots;
    this.feed = feed;
    this.writesCollection = writesCollection;
    this.metrics = metrics;
  }

  @Override
  public Future<?> start() {
    // A snapshot's swap that a stop cut short is finished before anything reads the documents.
    return snapshots.finishSwapIfMarked().compose(v -> documents.applied()).onSuccess(state -> {
      applied = state.index();
      storedApplied = state.index();
      durableApplied = state.index();
      consistentAt = state.consistentAt();
      feed.applied(applied);
      feed.snapshotInstalled(state.snapshotIndex());
      snapshots.applier(this);
      log.info("Documents applied up to index {}", applied);
      pull();
    });
  }

  @Override
  public long durableAppliedIndex() {
    return durableApplied;
  }

  @Override
  public long reflectsUpTo() {
    return Math.max(applied, writingUpTo);
  }

  /** After a snapshot was installed: reads see the image of a prefix of the log once this node applied up to here. */
  public long consistentAt() {
    return consistentAt;
  }

  @Override
  public Future<Void> pauseForSwap() {
    Promise<Void> paused = Promise.promise();
    context.runOnContext(v -> {
      pausedForSwap = true;
      documents.replaced();
      if (batchInFlight || forcing) {
        idle = paused;
      } else {
        paused.complete();
      }
    });
    return paused.future();
  }

  @Override
  public void resumeAfterSwap(long index, long whole) {
    context.runOnContext(v -> {
      applied = index;
      storedApplied = index;
      durableApplied = index;
      writingUpTo = 0;
      consistentAt = whole;
      known.clear();
      documents.replaced();
      feed.applied(index);
      feed.snapshotInstalled(index);
      pausedForSwap = false;
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
    if (stopped || pausedForSwap) {
      return;
    }
    feed.next(applied + 1, BATCH_ENTRIES, entries -> context.runOnContext(v -> apply(entries)));
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
    if (pausedForSwap) {
      return; // a snapshot replaces the documents; the applier asks again from its index once it is in
    }
    if (entries.get(0).index() != applied + 1) {
      log.warn("The feed answered from index {}, expected {}; asking again", entries.get(0).index(), applied + 1);
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
    batchInFlight = true;
    writingUpTo = last;
    // Through a future from the start: whatever fails, even at once, is retried below.
    long startNs = System.nanoTime();
    Future<ApplyRules.Batch> decision = decided != null ? Future.succeededFuture(decided)
        : Future.succeededFuture().compose(v -> stored(ops)).map(states -> ApplyRules.apply(ops, indexes, states));
    long[] decidedNs = new long[1];
    decision
        .compose(batch -> {
          decidedNs[0] = System.nanoTime();
          metrics.applyStage("read", decidedNs[0] - startNs);
          Map<Key, JsonObject> docs = new HashMap<>();
          ApplyRules.writers(ops, indexes, batch).forEach((key, op) -> docs.put(key, op.doc()));
          if (batch.states().isEmpty()) {
            return Future.succeededFuture(new Written(batch, false));
          }
          return documents.write(batch, docs).map(new Written(batch, true));
        })
        .onSuccess(done -> {
          batchDone();
          metrics.applyBatch(entries.size());
          failures = 0;
          applied = last;
          feed.applied(last);
          if (done.stored) {
            metrics.applyStage("write", System.nanoTime() - decidedNs[0]);
            known.written(done.batch);
          }
          if (done.stored || System.nanoTime() - lastForceNs >= IDLE_PERSIST_MS * 1_000_000) {
            forceSoon();
          }
          for (Outcome outcome : done.batch.outcomes()) {
            if (outcome.result() != Outcome.Result.NOTHING) {
              recent.put(outcome.index(), outcome);
            }
          }
          answer(done.batch.outcomes());
          pull();
        })
        .onFailure(failure -> {
          batchDone();
          if (stopped || pausedForSwap) {
            return;
          }
          if (failures++ % 50 == 0) {
            log.warn("Applying entries {} to {} failed ({}); retrying", indexes[0], last, failure.toString());
          }
          vertx.setTimer(RETRY_MS, id -> apply(entries, decision.succeeded() ? decision.result() : null));
        });
  }

  /** No batch is being written now: a swap that waits for that (and for a force) may go on. */
  private void batchDone() {
    batchInFlight = false;
    idleIfQuiet();
  }

  /** A swap waiting for the applier to be quiet goes on once no batch and no force is under way. */
  private void idleIfQuiet() {
    if (idle != null && !batchInFlight && !forcing) {
      Promise<Void> waiting = idle;
      idle = null;
      waiting.complete();
    }
  }

  /** What the store holds of the documents {@code ops} touch: known from the batches before, or read. */
  private Future<Map<Key, ApplyRules.Stored>> stored(List<Operation> ops) {
    Map<Key, ApplyRules.Stored> fromMemory = known.lookup(ops);
    if (fromMemory != null) {
      return Future.succeededFuture(fromMemory);
    }
    return documents.states(ops).onSuccess(found -> known.read(ops, found));
  }

  /** A batch written to the store ({@code stored}: false when it changed no document and its index could wait). */
  private record Written(ApplyRules.Batch batch, boolean stored) {
  }

  /**
   * Forces what was written so far to the device, in the background: one force at a time, at most
   * one every {@link #FORCE_EVERY_MS}, and one more after it if batches were written meanwhile (the
   * store's group commit covers them all). A force that fails is tried again with the next batch,
   * or after {@link #RETRY_MS}.
   */
  private void forceSoon() {
    if (pausedForSwap) {
      return; // the swap writes the applied index of the snapshot's documents
    }
    if (forcing) {
      forceAgain = true;
      return;
    }
    if (forceTimer) {
      return; // the force it waits for covers this batch
    }
    long startNs = System.nanoTime();
    long waitMs = (lastForceNs + FORCE_EVERY_MS * 1_000_000 - startNs) / 1_000_000;
    if (waitMs > 0) {
      forceTimer = true;
      vertx.setTimer(waitMs, id -> {
        forceTimer = false;
        if (!stopped) {
          forceSoon();
        }
      });
      return;
    }
    lastForceNs = startNs;
    forcing = true;
    forceAgain = false;
    long forcedUpTo = applied;
    Future<Void> recorded = forcedUpTo == storedApplied ? Future.succeededFuture() : documents.writeApplied(forcedUpTo);
    recorded.compose(v -> documents.durable()).onComplete(done -> {
      forcing = false;
      if (done.succeeded() && !pausedForSwap) {
        storedApplied = forcedUpTo;
        durableApplied = Math.max(durableApplied, forcedUpTo);
      }
      idleIfQuiet();
      metrics.applyStage("force", System.nanoTime() - startNs);
      if (stopped) {
        return;
      }
      if (done.failed()) {
        log.warn("Forcing the applied documents to the device failed ({}); retrying", done.cause().toString());
        vertx.setTimer(RETRY_MS, id -> forceSoon());
      } else if (forceAgain) {
        forceSoon();
      }
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
