package dev.bully.store;

import dev.bully.core.LogEntry;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.BulkOperation;
import io.vertx.ext.mongo.BulkWriteOptions;
import io.vertx.ext.mongo.FindOptions;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.mongo.WriteOption;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Collection {@code rollback}: entries a newer coordinator's log replaced, each with the term that
 * replaced it and when, kept for ever (never lost silently). Written durably before the log
 * drops them, so an entry is in the log or here, never in neither.
 */
final class Rollbacks {
  static final String ROLLBACK = NodeStore.ROLLBACK;

  private final MongoClient mongo;
  private final WriteOption writeOption;
  private final Supplier<Future<Void>> durable;

  Rollbacks(MongoClient mongo, WriteOption writeOption, Supplier<Future<Void>> durable) {
    this.mongo = mongo;
    this.writeOption = writeOption;
    this.durable = durable;
  }

  /** Keeps {@code removed}, replaced in term {@code replacedInTerm}; completes once durable. */
  Future<Void> keep(List<LogEntry> removed, long replacedInTerm) {
    long now = System.currentTimeMillis();
    List<BulkOperation> kept = new ArrayList<>();
    for (LogEntry entry : removed) {
      // The entry as its JSON text, as the log held it: never parsed into a document tree, whatever its depth or keys.
      kept.add(BulkOperation.createInsert(new JsonObject()
          .put("_id", entry.index() + ":" + entry.term() + ":" + now)
          .put("index", entry.index())
          .put("term", entry.term())
          .put("entry", EntryCodec.toStored(List.of(entry)))
          .put("replacedInTerm", replacedInTerm)
          .put("rolledBackAt", now)));
    }
    return mongo.bulkWriteWithOptions(ROLLBACK, kept, new BulkWriteOptions().setOrdered(true).setWriteOption(writeOption))
        .compose(r -> durable.get());
  }

  /** What this node moved out of its log, oldest first, at most {@code limit}. */
  Future<List<NodeStore.RolledBack>> read(int limit) {
    FindOptions options = new FindOptions().setSort(new JsonObject().put("rolledBackAt", 1).put("index", 1)).setLimit(limit);
    return mongo.findWithOptions(ROLLBACK, new JsonObject(), options).map(docs -> docs.stream()
        .map(doc -> new NodeStore.RolledBack(EntryCodec.fromStored(doc.getValue("entry")).get(0),
            doc.getLong("replacedInTerm"), doc.getLong("rolledBackAt")))
        .toList());
  }
}
