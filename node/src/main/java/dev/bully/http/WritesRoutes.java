package dev.bully.http;

import dev.bully.config.NodeConfig;
import dev.bully.core.WriteLimits;
import dev.bully.election.Addresses;
import dev.bully.election.Outcome;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

/**
 * The write and read API.
 *
 * <ul>
 *   <li>{@code POST /api/writes} with a JSON object: 201 {@code {index, term, node}} once the write
 *       concern ({@code ?w=1|majority|all}, majority by default) is met; 307 to the coordinator's
 *       same URL on a follower (before the body is read, so the coordinator judges the body); 503 with Retry-After when there is no coordinator or it stepped down
 *       while the write waited. {@code Idempotency-Key} makes retries return the original entry.</li>
 *   <li>{@code GET /api/writes?from=1&limit=100} and {@code GET /api/writes/{index}}: this node's
 *       committed entries; any node answers. A range stops at {@code limit} entries or about 4 MiB
 *       of text, whichever comes first, and says in {@code next} where to read on.</li>
 * </ul>
 * Bad input is a JSON error before anything is appended: not JSON 415; invalid JSON, not an object,
 * nested deeper than {@code api.maxDepth} or with more keys than {@code api.maxKeys} 400; a body
 * over {@code api.maxWriteBytes} 413 (see {@link WriteBody}).
 */
final class WritesRoutes {
  static final int MAX_LIMIT = 1000;
  private static final int MAX_KEY_LENGTH = WriteLimits.MAX_KEY_CHARS;
  private static final long WRITE_TIMEOUT_MS = 10_000;

  private final NodeConfig config;
  private final Vertx vertx;
  /** How many writes may wait at the door for room ({@link #admit}). */
  static final int MAX_WAITING = 1024;
  /** The bytes of client writes this node holds now: see {@link #admit}. On this verticle's event loop only. */
  private long inFlightBytes;
  private final java.util.ArrayDeque<Admission> waiting = new java.util.ArrayDeque<>();
  /** Another node this one last heard is coordinator, 0 when it leads or knows of none: see {@link #redirectEarly}. */
  private int otherCoordinator;

  WritesRoutes(NodeConfig config, Vertx vertx) {
    this.config = config;
    this.vertx = vertx;
  }

  /** Another node this one last heard is coordinator, or 0 when this node leads or knows of none. */
  int otherCoordinator() {
    return otherCoordinator;
  }

  void mount(Router router) {
    vertx.eventBus().<JsonObject>localConsumer(Addresses.LOCAL_COORDINATOR, news -> {
      Integer coordinator = news.body().getInteger("coordinatorId");
      otherCoordinator = coordinator == null || coordinator == config.nodeId() ? 0 : coordinator;
    });
    router.post("/api/writes").handler(this::requireJson);
    router.post("/api/writes").handler(this::redirectEarly);
    router.post("/api/writes").handler(this::admit);
    router.post("/api/writes").handler(BodyHandler.create(false).setBodyLimit(config.writeLimits().maxWriteBytes()));
    router.post("/api/writes").handler(this::write);
    router.get("/api/writes").handler(this::range);
    router.get("/api/writes/:index").handler(this::one);
    router.errorHandler(413, ctx -> refuse(ctx, WriteBody.tooLarge(config.writeLimits()).refusal()));
  }

  /**
   * The door of every write with a body at {@code path} (method {@code method}): JSON only, redirected
   * early on a follower, admitted within the bytes a node holds, its body read within the limit.
   */
  void door(Router router, io.vertx.core.http.HttpMethod method, String path) {
    router.route(method, path).handler(this::requireJson);
    router.route(method, path).handler(this::redirectEarly);
    router.route(method, path).handler(this::admit);
    router.route(method, path).handler(BodyHandler.create(false).setBodyLimit(config.writeLimits().maxWriteBytes()));
  }

  void requireJson(RoutingContext ctx) {
    String type = ctx.request().getHeader("Content-Type");
    if (type == null || !type.toLowerCase().startsWith("application/json")) {
      HttpErrors.send(ctx, 415, "unsupported_media_type", "Send the write as Content-Type: application/json");
      return;
    }
    ctx.next();
  }

  /**
   * A write to a follower that knows its coordinator is redirected before its body is read: a
   * follower spends no memory or CPU on writes it cannot take, however fast clients come back (a
   * client that does not follow redirects may send one every millisecond). The connection closes,
   * as the body was not read. When this node may lead, the write goes on, and the election verticle
   * has the last word ({@link #answer}).
   */
  void redirectEarly(RoutingContext ctx) {
    if (otherCoordinator == 0) {
      ctx.next();
      return;
    }
    ctx.response().putHeader("Connection", "close");
    redirect(ctx, otherCoordinator);
  }

  /**
   * Admission at the door: the bytes of the writes this node holds, from their body's first byte
   * to their answer, stay within {@link WriteLimits#IN_FLIGHT_BYTES}. A write that would pass it
   * waits, its body unread (TCP holds the client back, and no CPU goes to bodies that cannot be
   * served yet), until others are answered; one that waits longer than a write may take, or finds
   * {@link #MAX_WAITING} waiting already, is answered 503. A body of unknown length counts as the
   * largest one allowed.
   */
  void admit(RoutingContext ctx) {
    long declared = ctx.request().headers().contains("Content-Length")
        ? parseLength(ctx.request().getHeader("Content-Length")) : -1;
    long reserved = declared < 0 || declared > config.writeLimits().maxWriteBytes() ? config.writeLimits().maxWriteBytes() : declared;
    if (waiting.isEmpty() && fits(reserved)) {
      enter(ctx, reserved);
      return;
    }
    if (waiting.size() >= MAX_WAITING) {
      overloaded(ctx);
      return;
    }
    ctx.request().pause();
    Admission admission = new Admission(ctx, reserved);
    waiting.add(admission);
    admission.timer = vertx.setTimer(WRITE_TIMEOUT_MS, id -> {
      if (waiting.remove(admission)) {
        overloaded(ctx);
      }
    });
    ctx.request().connection().closeHandler(closed -> waiting.remove(admission));
  }

  /** A write waiting at the door: its request, the bytes it will hold, and the timer that gives up on it. */
  private static final class Admission {
    final RoutingContext ctx;
    final long reserved;
    long timer;

    Admission(RoutingContext ctx, long reserved) {
      this.ctx = ctx;
      this.reserved = reserved;
    }
  }

  private boolean fits(long reserved) {
    return inFlightBytes == 0 || inFlightBytes + reserved <= WriteLimits.IN_FLIGHT_BYTES;
  }

  private void enter(RoutingContext ctx, long reserved) {
    inFlightBytes += reserved;
    // Called once, when the answer is sent or the connection closed before it: the next waiting writes go in.
    ctx.addEndHandler(done -> {
      inFlightBytes -= reserved;
      while (!waiting.isEmpty() && fits(waiting.peek().reserved)) {
        Admission next = waiting.poll();
        vertx.cancelTimer(next.timer);
        enter(next.ctx, next.reserved);
      }
    });
    ctx.next();
  }

  private static void overloaded(RoutingContext ctx) {
    ctx.response().putHeader("Retry-After", "1").putHeader("Connection", "close");
    HttpErrors.send(ctx, 503, "overloaded", "This node holds as many writes as it may (" + WriteLimits.IN_FLIGHT_BYTES
        + " bytes) and more are waiting; retry");
  }

  private static long parseLength(String value) {
    try {
      return Long.parseLong(value.trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private void write(RoutingContext ctx) {
    byte[] bytes = ctx.body().buffer() == null ? new byte[0] : ctx.body().buffer().getBytes();
    WriteBody.Result body = WriteBody.check(bytes, config.writeLimits());
    if (body.refusal() != null) {
      refuse(ctx, body.refusal());
      return;
    }
    String concern = switch (ctx.request().getParam("w", "majority")) {
      case "1" -> "ONE";
      case "majority" -> "MAJORITY";
      case "all" -> "ALL";
      default -> null;
    };
    if (concern == null) {
      HttpErrors.send(ctx, 400, "invalid_write_concern", "w must be 1, majority or all");
      return;
    }
    String key = ctx.request().getHeader("Idempotency-Key");
    if (!validIdempotencyKey(ctx, key)) {
      return;
    }
    JsonObject request = new JsonObject().put("data", body.data()).put("requestId", key).put("w", concern);
    vertx.eventBus().<JsonObject>request(Addresses.LOCAL_WRITE, request, Addresses.local().setSendTimeout(WRITE_TIMEOUT_MS))
        .onSuccess(reply -> answer(ctx, reply.body()))
        .onFailure(e -> unavailable(ctx, "The write was not answered in time; retry with the same Idempotency-Key"));
  }

  /** Whether {@code key} (the Idempotency-Key header, maybe absent) may be used; false after answering 400. */
  static boolean validIdempotencyKey(RoutingContext ctx, String key) {
    if (key != null && (key.isBlank() || key.length() > MAX_KEY_LENGTH)) {
      HttpErrors.send(ctx, 400, "invalid_idempotency_key", "Idempotency-Key must be 1 to " + MAX_KEY_LENGTH + " characters");
      return false;
    }
    return true;
  }

  private void answer(RoutingContext ctx, JsonObject reply) {
    switch (Outcome.take(reply)) {
      case Outcome.REDIRECT -> redirect(ctx, reply.getInteger("coordinatorId"));
      case Outcome.COMMITTED -> ctx.response().setStatusCode(201).putHeader("Content-Type", "application/json").end(reply.encode());
      case Outcome.KEY_REUSED -> keyReused(ctx, reply);
      default -> unavailable(ctx, reply.getString("message"));
    }
  }

  /** 307 to the same URL on the coordinator: the client sends the same write there. */
  void redirect(RoutingContext ctx, int coordinatorId) {
    String location = config.member(coordinatorId).orElseThrow().httpUrl() + ctx.request().uri();
    ctx.response().setStatusCode(307).putHeader("Location", location).putHeader("Content-Type", "application/json")
        .end(new JsonObject().put("coordinatorId", coordinatorId).put("location", location).encode());
  }

  static void refuse(RoutingContext ctx, WriteBody.Refusal refusal) {
    HttpErrors.send(ctx, refusal.status(), refusal.error(), refusal.message());
  }

  /** 422: the Idempotency-Key names an entry written for another request. */
  static void keyReused(RoutingContext ctx, JsonObject reply) {
    HttpErrors.send(ctx, 422, reply.getString("error"), reply.getString("message"));
  }

  static void unavailable(RoutingContext ctx, String message) {
    ctx.response().putHeader("Retry-After", "1");
    HttpErrors.send(ctx, 503, "unavailable", message);
  }

  private void range(RoutingContext ctx) {
    Long from = positive(ctx, "from", 1);
    Long limit = positive(ctx, "limit", 100);
    if (from == null || limit == null) {
      return;
    }
    if (limit > MAX_LIMIT) {
      HttpErrors.send(ctx, 400, "invalid_parameter", "limit must be at most " + MAX_LIMIT);
      return;
    }
    vertx.eventBus().<String>request(Addresses.LOCAL_READ, new JsonObject().put("from", from).put("limit", limit.intValue()), Addresses.local())
        .onSuccess(reply -> ctx.response().putHeader("Content-Type", "application/json").end(reply.body()))
        .onFailure(failure -> failedRead(ctx, failure));
  }

  private void one(RoutingContext ctx) {
    long index;
    try {
      index = Long.parseLong(ctx.pathParam("index"));
    } catch (NumberFormatException e) {
      index = 0;
    }
    if (index < 1) {
      HttpErrors.send(ctx, 400, "invalid_parameter", "The index must be a positive integer");
      return;
    }
    long wanted = index;
    vertx.eventBus().<JsonObject>request(Addresses.LOCAL_READ, new JsonObject().put("index", index), Addresses.local()).onSuccess(reply -> {
      String entry = reply.body().getString("entry");
      if (entry == null) {
        HttpErrors.send(ctx, 404, "not_found", "No committed entry " + wanted + " on this node (commit index "
            + reply.body().getLong("commitIndex") + ")");
      } else {
        ctx.response().putHeader("Content-Type", "application/json").end(entry);
      }
    }).onFailure(failure -> failedRead(ctx, failure));
  }

  /**
   * Entries this node compacted (it applied them, and more than {@code log.retainEntries} newer ones
   * followed): 410 with the first index the log still holds. Their operations live on in the
   * documents ({@code data.writesCollection} keeps appends there too).
   */
  private static void failedRead(RoutingContext ctx, Throwable failure) {
    if (failure instanceof io.vertx.core.eventbus.ReplyException reply && reply.failureCode() == Outcome.COMPACTED) {
      long first = Long.parseLong(reply.getMessage());
      ctx.response().setStatusCode(410).putHeader("Content-Type", "application/json").end(new JsonObject()
          .put("error", "compacted").put("message", "This node's log holds no entry before " + first + " any more: entries it applied that"
              + " more than log.retainEntries newer ones follow leave its store")
          .put("firstIndex", first).encode());
    } else {
      ctx.fail(failure);
    }
  }

  /** A positive integer query parameter, or null after answering 400. */
  static Long positive(RoutingContext ctx, String name, long fallback) {
    String raw = ctx.request().getParam(name);
    if (raw == null) {
      return fallback;
    }
    try {
      long value = Long.parseLong(raw);
      if (value >= 1) {
        return value;
      }
    } catch (NumberFormatException e) {
      // answered below
    }
    HttpErrors.send(ctx, 400, "invalid_parameter", name + " must be a positive integer, got '" + raw + "'");
    return null;
  }
}
