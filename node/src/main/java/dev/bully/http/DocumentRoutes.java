package dev.bully.http;

import dev.bully.config.NodeConfig;
import dev.bully.data.ApplyVerticle;
import dev.bully.data.Documents;
import dev.bully.data.Operation;
import dev.bully.election.Addresses;
import dev.bully.election.Outcome;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.FindOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.UUID;

/**
 * The document API: collections of JSON documents, replicated through the log and applied on every
 * node to its own MongoDB (see docs/http-api.md).
 *
 * <ul>
 *   <li>{@code PUT /api/collections/{c}/docs/{id}} creates or replaces, {@code POST
 *       /api/collections/{c}/docs} creates with a generated id, {@code DELETE
 *       /api/collections/{c}/docs/{id}} removes; each answers {@code {collection, id, index, term,
 *       version, node}} once the operation is committed and applied on the coordinator. {@code
 *       If-Match: <version>} and {@code If-None-Match: *} are decided when the operation is applied,
 *       the same on every node: a failed condition answers 412 with the current version.</li>
 *   <li>{@code GET /api/collections/{c}/docs/{id}} and {@code GET /api/collections/{c}/docs?filter=
 *       &sort=&limit=&skip=} read this node's documents: {@code read=local} (the default) as applied
 *       here, {@code minIndex=N} once this node applied index N, {@code read=linearizable} on the
 *       coordinator once a majority confirmed that it leads ({@link ReadIndex}); a follower redirects it.
 *       Each answer says the node's {@code appliedIndex}.</li>
 *   <li>{@code GET /api/collections}: every collection with its number of documents.</li>
 * </ul>
 * Writes pass the same door as {@code POST /api/writes} (redirect, admission, body limits, {@code
 * Idempotency-Key}); {@code writes} is that endpoint's collection, readable here, written only there.
 */
final class DocumentRoutes {
  static final int MAX_LIMIT = 1000;
  static final int MAX_SKIP = 100_000;
  static final long MAX_WAIT_MS = 30_000;
  private static final long DEFAULT_WAIT_MS = 5_000;
  private static final long APPLY_TIMEOUT_MS = 10_000;
  private static final String DOC = "/api/collections/:collection/docs/:id";
  private static final String DOCS = "/api/collections/:collection/docs";
  private final NodeConfig config;
  private final Vertx vertx;
  private final WritesRoutes door;
  private final Documents documents;
  private final ApplyVerticle applier;
  private final ReadIndex readIndex;

  DocumentRoutes(NodeConfig config, Vertx vertx, WritesRoutes door, Documents documents, ApplyVerticle applier) {
    this.config = config;
    this.vertx = vertx;
    this.door = door;
    this.documents = documents;
    this.applier = applier;
    this.readIndex = new ReadIndex(vertx);
  }

  void mount(Router router) {
    door.door(router, HttpMethod.PUT, DOC);
    router.put(DOC).handler(this::put);
    door.door(router, HttpMethod.POST, DOCS);
    router.post(DOCS).handler(this::create);
    router.delete(DOC).handler(door::redirectEarly);
    router.delete(DOC).handler(this::delete);
    router.get(DOC).handler(this::get);
    router.get(DOCS).handler(this::query);
    router.get("/api/collections").handler(this::collections);
  }

  private void put(RoutingContext ctx) {
    String collection = DocumentRequests.writableCollection(ctx);
    String id = collection == null ? null : DocumentRequests.id(ctx);
    Long expect = id == null ? null : DocumentRequests.condition(ctx);
    String body = expect == null ? null : body(ctx);
    if (body != null) {
      write(ctx, collection, id, Operation.encodePut(collection, id, body, expect), 200);
    }
  }

  private void create(RoutingContext ctx) {
    String collection = DocumentRequests.writableCollection(ctx);
    String body = collection == null ? null : body(ctx);
    if (body != null) {
      String id = UUID.randomUUID().toString();
      write(ctx, collection, id, Operation.encodePut(collection, id, body, Operation.ABSENT), 201);
    }
  }

  private void delete(RoutingContext ctx) {
    String collection = DocumentRequests.writableCollection(ctx);
    String id = collection == null ? null : DocumentRequests.id(ctx);
    Long expect = id == null ? null : DocumentRequests.condition(ctx);
    if (expect != null) {
      write(ctx, collection, id, Operation.encodeDelete(collection, id, expect), 200);
    }
  }

  /** Appends the operation, waits until it is committed and applied here, and answers its outcome. */
  private void write(RoutingContext ctx, String collection, String id, String data, int writtenStatus) {
    String key = ctx.request().getHeader("Idempotency-Key");
    if (!WritesRoutes.validIdempotencyKey(ctx, key)) {
      return;
    }
    JsonObject request = new JsonObject().put("data", data).put("requestId", key).put("w", "MAJORITY");
    vertx.eventBus().<JsonObject>request(Addresses.LOCAL_WRITE, request, Addresses.local().setSendTimeout(APPLY_TIMEOUT_MS))
        .onFailure(e -> WritesRoutes.unavailable(ctx, "The write was not answered in time; retry with the same Idempotency-Key"))
        .onSuccess(message -> {
          JsonObject reply = message.body();
          switch (Outcome.take(reply)) {
            case Outcome.REDIRECT -> door.redirect(ctx, reply.getInteger("coordinatorId"));
            case Outcome.COMMITTED -> {
              long index = reply.getLong("index");
              JsonObject answer = new JsonObject().put("collection", collection).put("id", id).put("index", index)
                  .put("term", reply.getLong("term")).put("node", reply.getInteger("node"));
              applied(index, APPLY_TIMEOUT_MS)
                  .onFailure(e -> WritesRoutes.unavailable(ctx, "Committed at index " + index + " but not yet applied on node "
                      + config.nodeId() + "; retry with the same Idempotency-Key"))
                  .onSuccess(outcome -> answerWrite(ctx, answer, outcome, writtenStatus));
            }
            case Outcome.KEY_REUSED -> WritesRoutes.keyReused(ctx, reply);
            default -> WritesRoutes.unavailable(ctx, reply.getString("message"));
          }
        });
  }

  private static void answerWrite(RoutingContext ctx, JsonObject answer, dev.bully.apply.Outcome outcome, int writtenStatus) {
    switch (outcome.result()) {
      case WRITTEN, DELETED -> {
        ctx.response().setStatusCode(writtenStatus).putHeader("ETag", "\"" + outcome.version() + "\"");
        ctx.json(answer.put("version", outcome.version()).put("deleted", outcome.result() == dev.bully.apply.Outcome.Result.DELETED));
      }
      case PRECONDITION_FAILED -> ctx.response().setStatusCode(412).putHeader("Content-Type", "application/json")
          .end(answer.put("error", "precondition_failed").put("currentVersion", outcome.version())
              .put("message", outcome.version() == 0 ? "The document does not exist" : "The document's version is " + outcome.version())
              .encode());
      case NOT_FOUND -> ctx.response().setStatusCode(404).putHeader("Content-Type", "application/json")
          .end(answer.put("error", "not_found").put("message", "The document does not exist").encode());
      case NOTHING -> ctx.json(answer.putNull("version")
          .put("message", "Applied long ago, its outcome is no longer kept: read the document for its state"));
    }
  }

  private void get(RoutingContext ctx) {
    String collection = DocumentRequests.collection(ctx);
    String id = collection == null ? null : DocumentRequests.id(ctx);
    if (id == null) {
      return;
    }
    readable(ctx).onSuccess(appliedIndex -> documents.get(collection, DocumentRequests.key(collection, id)).onComplete(found -> {
      if (found.failed()) {
        ctx.fail(found.cause());
      } else if (found.result() == null) {
        ctx.response().setStatusCode(404).putHeader("Content-Type", "application/json").end(new JsonObject()
            .put("error", "not_found").put("message", "No document " + id + " in " + collection + " on node " + config.nodeId())
            .put("appliedIndex", appliedIndex).put("node", config.nodeId()).encode());
      } else {
        JsonObject doc = found.result();
        ctx.response().putHeader("ETag", "\"" + doc.getLong(Documents.VERSION, 0L) + "\"");
        ctx.json(new JsonObject().put("collection", collection).put("id", id).put("version", doc.getLong(Documents.VERSION))
            .put("document", doc).put("appliedIndex", appliedIndex).put("node", config.nodeId()));
      }
    }));
  }

  private void query(RoutingContext ctx) {
    String collection = DocumentRequests.collection(ctx);
    JsonObject filter = collection == null ? null : DocumentRequests.jsonParam(ctx, "filter");
    JsonObject sort = filter == null ? null : DocumentRequests.jsonParam(ctx, "sort");
    Long limit = sort == null ? null : HttpErrors.boundedParam(ctx, "limit", 100, 1, MAX_LIMIT);
    Long skip = limit == null ? null : HttpErrors.boundedParam(ctx, "skip", 0, 0, MAX_SKIP);
    if (skip == null) {
      return;
    }
    String refused = DocumentRequests.refusedOperator(filter);
    if (refused != null) {
      HttpErrors.send(ctx, 400, "invalid_filter", "The filter may not use " + refused + "; it may use " + new java.util.TreeSet<>(DocumentRequests.OPERATORS));
      return;
    }
    for (String field : sort.fieldNames()) {
      Object direction = sort.getValue(field);
      if (!(direction instanceof Number n) || (n.intValue() != 1 && n.intValue() != -1)) {
        HttpErrors.send(ctx, 400, "invalid_parameter", "sort gives each field 1 or -1, not " + direction + " for " + field);
        return;
      }
    }
    FindOptions options = new FindOptions().setLimit(limit.intValue()).setSkip(skip.intValue());
    if (!sort.isEmpty()) {
      options.setSort(sort);
    }
    readable(ctx).onSuccess(appliedIndex -> documents.find(collection, filter, options).onComplete(found -> {
      if (found.failed()) {
        DocumentRequests.storeRefused(ctx, found.cause());
      } else {
        ctx.json(new JsonObject().put("collection", collection).put("documents", new JsonArray(found.result()))
            .put("count", found.result().size()).put("appliedIndex", appliedIndex).put("node", config.nodeId()));
      }
    }));
  }

  private void collections(RoutingContext ctx) {
    long appliedIndex = applier.appliedIndex();
    documents.counts().onSuccess(counts -> {
      JsonObject collections = new JsonObject();
      counts.forEach(collections::put);
      ctx.json(new JsonObject().put("collections", collections).put("appliedIndex", appliedIndex).put("node", config.nodeId()));
    }).onFailure(ctx::fail);
  }

  /**
   * Waits as the read's concern asks, then completes with this node's applied index; or answers
   * the request (400, a redirect, 503) and never completes.
   */
  private Future<Long> readable(RoutingContext ctx) {
    String concern = ctx.request().getParam("read", "local");
    if (!concern.equals("local") && !concern.equals("linearizable")) {
      HttpErrors.send(ctx, 400, "invalid_read_concern", "read must be local or linearizable, not '" + concern + "'");
      return Promise.<Long>promise().future();
    }
    Long asked = HttpErrors.boundedParam(ctx, "minIndex", 0, 0, Long.MAX_VALUE);
    Long waitMs = asked == null ? null : HttpErrors.boundedParam(ctx, "timeoutMs", DEFAULT_WAIT_MS, 0, MAX_WAIT_MS);
    if (waitMs == null) {
      return Promise.<Long>promise().future();
    }
    // After a snapshot, the documents are the image of a prefix of the log again only once applied this far.
    long minIndex = Math.max(asked, applier.consistentAt());
    Promise<Long> ready = Promise.promise();
    Future<Long> due = Future.succeededFuture(minIndex);
    if (concern.equals("linearizable")) {
      int other = door.otherCoordinator();
      if (other != 0) {
        door.redirect(ctx, other);
        return ready.future();
      }
      due = readIndex.await().map(index -> Math.max(index, minIndex));
    }
    due.onFailure(failure -> {
      if (failure instanceof ReadIndex.NotConfirmed notConfirmed
          && Outcome.REDIRECT.equals(notConfirmed.reply.getString(Outcome.KEY))) {
        door.redirect(ctx, notConfirmed.reply.getInteger("coordinatorId"));
      } else {
        WritesRoutes.unavailable(ctx, "This node could not confirm that it leads: " + failure.getMessage());
      }
    }).onSuccess(index -> reached(index, waitMs).onComplete(done -> {
      if (done.succeeded()) {
        ready.complete(applier.appliedIndex());
      } else {
        ctx.response().putHeader("Retry-After", "1");
        ctx.response().setStatusCode(503).putHeader("Content-Type", "application/json").end(new JsonObject()
            .put("error", "not_applied").put("message", "Node " + config.nodeId() + " has not applied index " + index
                + " within " + waitMs + " ms").put("appliedIndex", applier.appliedIndex()).encode());
      }
    }));
    return ready.future();
  }

  /**
   * Completes once this node applied {@code index}; fails after {@code timeoutMs}. Most reads find
   * it applied already, and go on at once, without a round through the applier's thread.
   */
  private Future<?> reached(long index, long timeoutMs) {
    return index <= applier.appliedIndex() ? Future.succeededFuture() : applied(index, timeoutMs);
  }

  /** The outcome of the operation at {@code index} once applied here; fails after {@code timeoutMs}. */
  private Future<dev.bully.apply.Outcome> applied(long index, long timeoutMs) {
    if (index <= 0) {
      return Future.succeededFuture(new dev.bully.apply.Outcome(index, dev.bully.apply.Outcome.Result.NOTHING, 0));
    }
    Promise<dev.bully.apply.Outcome> result = Promise.promise();
    long timer = vertx.setTimer(Math.max(1, timeoutMs), id -> result.tryFail("not applied in time"));
    applier.whenApplied(index).onSuccess(outcome -> {
      vertx.cancelTimer(timer);
      result.tryComplete(outcome);
    });
    return result.future();
  }

  private String body(RoutingContext ctx) {
    byte[] bytes = ctx.body().buffer() == null ? new byte[0] : ctx.body().buffer().getBytes();
    WriteBody.Result body = WriteBody.check(bytes, config.writeLimits());
    if (body.refusal() != null) {
      WritesRoutes.refuse(ctx, body.refusal());
      return null;
    }
    return body.data();
  }
}
