package dev.bully.data;

import dev.bully.apply.ApplyRules;
import dev.bully.apply.ApplyRules.Key;
import dev.bully.apply.ApplyRules.Stored;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.BulkOperation;
import io.vertx.ext.mongo.BulkWriteOptions;
import io.vertx.ext.mongo.FindOptions;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.mongo.UpdateOptions;
import io.vertx.ext.mongo.WriteOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The node's documents in its own MongoDB: the collections of database {@code <db_name>_data},
 * ordinary documents any MongoDB client reads, each with its {@code _id} and {@code _version} (the
 * index of the log entry that last wrote it). Beside them, in the node's own database: the applied
 * index ({@code meta}, {@code {_id: "applied", index}}) and the tombstones of deleted documents
 * ({@code tombstones}, {@code {_id: "<collection>/<id>", version}}), which keep a delete's version so
 * that applying a batch again after a crash decides every condition as the first time did.
 */
public final class Documents {
  public static final String VERSION = "_version";
  static final String TOMBSTONES = "tombstones";
  static final String META = "meta";
  private static final int DUPLICATE_KEY = 11000;
  static final JsonObject APPLIED_ID = new JsonObject().put("_id", "applied");

  private final MongoClient data;
  private final MongoClient node;
  private final WriteOption writeOption;
  private final Supplier<Future<Void>> durable;
  private final DocumentCache cache;

  /**
   * {@code data}: the client of the documents' database; {@code node}: of the node's own;
   * {@code durable}: completes once everything written so far is durable (the store's group commit);
   * {@code cache}: the documents read by id lately, which this keeps as the store holds them.
   */
  public Documents(MongoClient data, MongoClient node, WriteOption writeOption, Supplier<Future<Void>> durable, DocumentCache cache) {
    this.data = data;
    this.node = node;
    this.writeOption = writeOption;
    this.durable = durable;
    this.cache = cache;
  }

  /** The index up to which the documents include every committed operation (0 on a fresh store). */
  public Future<Long> appliedIndex() {
    return applied().map(Applied::index);
  }

  /**
   * The applied index, from which index on the documents are the image of a prefix of the log again
   * after a snapshot was installed (0 when none was: read while they changed), and that snapshot's.
   */
  public record Applied(long index, long consistentAt, long snapshotIndex) {
  }

  public Future<Applied> applied() {
    return node.findOne(META, APPLIED_ID, null).map(doc -> doc == null ? new Applied(0, 0, 0)
        : new Applied(doc.getLong("index", 0L), doc.getLong("consistentAt", 0L), doc.getLong("snapshotIndex", 0L)));
  }

  /**
   * Removes the tombstones of deletes up to {@code index}, which the log up to there left the store
   * with: an operation applied again after a crash is later than that, and decides the same on a
   * document deleted at any earlier index as on one never written.
   */
  public Future<Void> forgetTombstones(long index) {
    return node.removeDocumentsWithOptions(TOMBSTONES, new JsonObject().put("version", new JsonObject().put("$lte", index)),
        writeOption).mapEmpty();
  }

  /**
   * What the store holds of the documents {@code ops} touch, copy and tombstone (appends excepted:
   * each writes a document of its own index).
   */
  public Future<Map<Key, Stored>> states(List<Operation> ops) {
    // Each id once: a batch often writes one document many times.
    Map<String, Set<Object>> byCollection = new LinkedHashMap<>();
    Set<Object> tombstoneSet = new LinkedHashSet<>();
    for (Operation op : ops) {
      if (op.decidedOnState()) {
        byCollection.computeIfAbsent(op.collection(), c -> new LinkedHashSet<>()).add(op.id());
        tombstoneSet.add(op.collection() + "/" + op.id());
      }
    }
    Map<Key, Stored> stored = new HashMap<>();
    if (byCollection.isEmpty()) {
      return Future.succeededFuture(stored);
    }
    FindOptions versionOnly = new FindOptions().setFields(new JsonObject().put(VERSION, 1));
    List<Future<?>> reads = new ArrayList<>();
    reads.add(node.find(TOMBSTONES, new JsonObject().put("_id", new JsonObject().put("$in", new JsonArray(new ArrayList<>(tombstoneSet)))))
        .onSuccess(found -> found.forEach(t -> {
          String[] parts = t.getString("_id").split("/", 2);
          stored.merge(new Key(parts[0], parts[1]), new Stored(0, t.getLong("version")), Documents::both);
        })));
    byCollection.forEach((collection, inBatch) -> reads.add(data.findWithOptions(collection,
            new JsonObject().put("_id", new JsonObject().put("$in", new JsonArray(new ArrayList<>(inBatch)))), versionOnly)
        .onSuccess(found -> found.forEach(doc -> stored.merge(new Key(collection, doc.getValue("_id")),
            new Stored(doc.getLong(VERSION, 0L), 0), Documents::both)))));
    return Future.all(reads).map(stored);
  }

  private static Stored both(Stored a, Stored b) {
    return new Stored(Math.max(a.copy(), b.copy()), Math.max(a.tombstone(), b.tombstone()));
  }

  /**
   * Writes what a batch did, in the order of {@link ApplyRules#documentWrites} (consecutive writes
   * to one collection go as one ordered bulk write); the applied index goes later, with
   * {@link #writeApplied}, once for many batches. Completes once the store acknowledged them all,
   * before they are durable ({@link #durable}). {@code docs}: each written document's fields, by key.
   */
  public Future<Void> write(ApplyRules.Batch batch, Map<Key, JsonObject> docs) {
    BulkWriteOptions ordered = new BulkWriteOptions().setOrdered(true).setWriteOption(writeOption);
    List<BulkOperation> appends = new ArrayList<>();
    Future<Void> written = Future.succeededFuture();
    String target = null;
    List<BulkOperation> run = new ArrayList<>();
    for (ApplyRules.Step step : ApplyRules.documentWrites(batch)) {
      String collection;
      BulkOperation op;
      if (step instanceof ApplyRules.Tombstone t) {
        collection = null; // the node's own database
        op = BulkOperation.createUpdate(new JsonObject().put("_id", t.key().collection() + "/" + t.key().id()),
            new JsonObject().put("$set", new JsonObject().put("version", t.version())), true, false);
      } else if (step instanceof ApplyRules.Replace r) {
        collection = r.key().collection();
        JsonObject doc = docs.get(r.key()).copy().put("_id", r.key().id()).put(VERSION, r.version());
        // An append's document is written once, at its own index: an insert (a second one, after a crash, is a
        // duplicate that changes nothing). Any other document is replaced whole, or created.
        if (r.key().id() instanceof Long) {
          appends.add(BulkOperation.createInsert(doc));
          continue;
        }
        op = BulkOperation.createReplace(new JsonObject().put("_id", r.key().id()), doc, true);
      } else {
        ApplyRules.Remove r = (ApplyRules.Remove) step;
        collection = r.key().collection();
        op = BulkOperation.createDelete(new JsonObject().put("_id", r.key().id()));
      }
      if (!run.isEmpty() && !java.util.Objects.equals(collection, target)) {
        written = flush(written, target, run, ordered);
        run = new ArrayList<>();
      }
      target = collection;
      run.add(op);
    }
    // Appends touch no other document and no condition reads them: one unordered insert, after the rest.
    Future<Void> rest = flush(written, target, run, ordered);
    Future<Void> all = appends.isEmpty() ? rest : rest.compose(v -> data.bulkWriteWithOptions(Operation.WRITES, appends,
        new BulkWriteOptions().setOrdered(false).setWriteOption(writeOption)).<Void>mapEmpty().recover(Documents::duplicatesOnly));
    return all.andThen(done -> {
      if (done.succeeded()) {
        cache.written(batch, docs);
      }
    });
  }

  /** The documents read by id lately, for its figures. */
  public DocumentCache cache() {
    return cache;
  }

  /** A snapshot's documents are taking, or took, the place of the ones there were: none is cached any more. */
  public void replaced() {
    cache.clear();
  }

  /**
   * Records that the documents include every operation up to {@code index}: written after the
   * batches up to there were acknowledged ({@link #write}), so a crash leaves the documents at or
   * ahead of the recorded index, never behind it, and the start applies the rest again.
   */
  public Future<Void> writeApplied(long index) {
    return node.updateCollectionWithOptions(META, APPLIED_ID, new JsonObject().put("$set", new JsonObject().put("index", index)),
        new UpdateOptions().setUpsert(true).setWriteOption(writeOption)).mapEmpty();
  }

  /** After {@code before}, the bulk write of {@code ops} to {@code collection} (null: the node's tombstones). */
  private Future<Void> flush(Future<Void> before, String collection, List<BulkOperation> ops, BulkWriteOptions options) {
    if (ops.isEmpty()) {
      return before;
    }
    return before.compose(v -> (collection == null ? node.bulkWriteWithOptions(TOMBSTONES, ops, options)
        : data.bulkWriteWithOptions(collection, ops, options)).mapEmpty());
  }

  /**
   * An unordered insert of appends that failed only on documents that exist already: appends
   * inserted again after a crash (applied before the applied index was written). Every other
   * document of it was inserted.
   */
  private static Future<Void> duplicatesOnly(Throwable failure) {
    if (failure instanceof com.mongodb.MongoBulkWriteException bulk
        && bulk.getWriteErrors().stream().allMatch(e -> e.getCode() == DUPLICATE_KEY)) {
      return Future.succeededFuture();
    }
    return Future.failedFuture(failure);
  }

  /** Completes once everything written so far is durable (one group commit covers many batches). */
  public Future<Void> durable() {
    return durable.get();
  }

  /**
   * One document, or null: from the cache when it holds it, else from the store (and then kept,
   * unless something was applied meanwhile). The document answered may be shared: it must not be changed.
   */
  public Future<JsonObject> get(String collection, Object id) {
    Key key = new Key(collection, id);
    JsonObject cached = cache.get(key);
    if (cached != null) {
      return Future.succeededFuture(cached);
    }
    long stamp = cache.stamp();
    return data.findOne(collection, new JsonObject().put("_id", id), null).andThen(found -> {
      if (found.succeeded() && found.result() != null) {
        cache.fill(key, found.result(), stamp);
      }
    });
  }

  /** The documents matching {@code filter}, as MongoDB's find runs it. */
  public Future<List<JsonObject>> find(String collection, JsonObject filter, FindOptions options) {
    return data.findWithOptions(collection, filter, options);
  }

  /** Every collection and how many documents it holds. */
  public Future<Map<String, Long>> counts() {
    return data.getCollections().compose(names -> {
      Map<String, Long> counts = new java.util.TreeMap<>();
      List<Future<?>> all = new ArrayList<>();
      for (String name : names) {
        all.add(data.count(name, new JsonObject()).onSuccess(n -> counts.put(name, n)));
      }
      return Future.all(all).map(counts);
    });
  }
}
