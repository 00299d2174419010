package dev.bully.store;

import dev.bully.core.DurableState;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.mongo.UpdateOptions;
import io.vertx.ext.mongo.WriteOption;
import java.util.function.Supplier;

/**
 * The node's own small state in collection {@code meta}, each a document of its own: the term and
 * promise ({@code election}), the start's incarnation ({@code incarnation}) and where the log
 * begins ({@code logBase}). Every write completes once durable.
 */
final class Meta {
  static final String META = NodeStore.META;
  private static final JsonObject STATE_ID = new JsonObject().put("_id", "election");
  /** Where the log begins: {@code {_id: "logBase", index, term}}, once entries left the store. */
  private static final JsonObject BASE_ID = new JsonObject().put("_id", "logBase");

  private final MongoClient mongo;
  private final WriteOption writeOption;
  private final Supplier<Future<Void>> durable;

  Meta(MongoClient mongo, WriteOption writeOption, Supplier<Future<Void>> durable) {
    this.mongo = mongo;
    this.writeOption = writeOption;
    this.durable = durable;
  }

  /**
   * The persisted term and promise, or {@link DurableState#INITIAL} on a fresh store. A term at the
   * protocol's limit ({@link dev.bully.core.Message#MAX_NUMBER}) fails the start with how to recover:
   * no node could ever claim a term after it, so the node would stay a candidate for ever.
   */
  Future<DurableState> loadState() {
    return mongo.findOne(META, STATE_ID, null).compose(doc -> {
      if (doc == null) {
        return Future.succeededFuture(DurableState.INITIAL);
      }
      long term = doc.getLong("term", 0L);
      if (term < 0 || term >= dev.bully.core.Message.MAX_NUMBER) {
        return Future.failedFuture(new IllegalStateException("the stored term " + term + " is at or beyond the"
            + " protocol's limit of 2^53, so no later term can be claimed. This node's data cannot rejoin: stop it,"
            + " move its data folder aside and start it empty, and it catches up from the others"));
      }
      return Future.succeededFuture(new DurableState(term, doc.getInteger("promisedTo", 0)));
    });
  }

  /**
   * This start's incarnation: above the last start's, durable before it is returned. It numbers
   * the node's protocol messages with their sequence, so a peer can tell a replayed old message from
   * a new one even across this node's restarts. It is at least the clock's milliseconds: a node
   * whose store is gone (a new disk, a data folder removed, and it catches up from a snapshot) has
   * no last start to count from, and counting from 1 again its peers would refuse every message
   * of it as a replay until they restarted themselves.
   */
  Future<Long> nextIncarnation() {
    JsonObject id = new JsonObject().put("_id", "incarnation");
    return mongo.findOne(META, id, null).compose(doc -> {
      long next = Math.max((doc == null ? 0 : doc.getLong("value", 0L)) + 1, System.currentTimeMillis());
      UpdateOptions options = new UpdateOptions().setUpsert(true).setWriteOption(writeOption);
      return mongo.updateCollectionWithOptions(META, id, new JsonObject().put("$set", new JsonObject().put("value", next)), options)
          .compose(r -> durable.get())
          .map(v -> next);
    });
  }

  /** Persists the term and promise; completes once they are durable. */
  Future<Void> saveState(DurableState state) {
    JsonObject update = new JsonObject().put("$set", new JsonObject()
        .put("term", state.term())
        .put("promisedTo", state.promisedTo()));
    UpdateOptions options = new UpdateOptions().setUpsert(true).setWriteOption(writeOption);
    return mongo.updateCollectionWithOptions(META, STATE_ID, update, options).compose(r -> durable.get());
  }

  /** Where the log begins, as the last compaction or snapshot left it. */
  Future<NodeStore.Base> loadBase() {
    return mongo.findOne(META, BASE_ID, null)
        .map(doc -> doc == null ? NodeStore.Base.NONE : new NodeStore.Base(doc.getLong("index"), doc.getLong("term")));
  }

  /** The log begins after {@code index}, of {@code term}: durable before any entry up to it leaves the store. */
  Future<Void> saveBase(long index, long term) {
    UpdateOptions options = new UpdateOptions().setUpsert(true).setWriteOption(writeOption);
    return mongo.updateCollectionWithOptions(META, BASE_ID,
        new JsonObject().put("$set", new JsonObject().put("index", index).put("term", term)), options).compose(r -> durable.get());
  }
}
