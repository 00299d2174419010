package dev.bully.http;

import dev.bully.cluster.ClusterView;
import dev.bully.config.NodeConfig;
import dev.bully.data.ApplyVerticle;
import dev.bully.election.Addresses;
import dev.bully.metrics.NodeMetrics;
import dev.bully.store.EntryCodec;
import dev.bully.store.NodeStore;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.Status;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.bridge.PermittedOptions;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.CorsHandler;
import io.vertx.ext.web.handler.StaticHandler;
import io.vertx.ext.web.handler.sockjs.SockJSBridgeOptions;
import io.vertx.ext.web.handler.sockjs.SockJSHandler;
import io.vertx.ext.web.healthchecks.HealthCheckHandler;
import io.vertx.micrometer.PrometheusScrapingHandler;
import java.io.IOException;
import java.net.BindException;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's HTTP API: status, the cluster snapshot, writes and reads, health, and admin. Routes answer JSON, and anything the router
 * cannot serve (unknown path, wrong method, a failure) is a JSON error, so a client never sees a
 * stack trace and the node keeps serving.
 */
public final class HttpVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(HttpVerticle.class);
  private static final long HEALTH_CHECK_TIMEOUT_MS = 2_000;
  private static final int MAX_ROLLBACK_LIMIT = 10_000;
  /** A browser sends the bridge only small frames (register, ping); anything larger is refused. */
  private static final long SOCKJS_FRAME_BYTES = 64 * 1024;
  /** The dashboard in the jar (from web/). */
  private static final String WEBROOT = "webroot";
  /** The SockJS browser client from its WebJar; the version is sockjs-client.version in pom.xml. */
  private static final String SOCKJS_CLIENT = "META-INF/resources/webjars/sockjs-client/1.6.1/dist";

  private final NodeConfig config;
  private final NodeStore store;
  private final ClusterView cluster;
  private final NodeMetrics metrics;
  private final ApplyVerticle applier;
  private HttpServer server;
  private StatusBoard board;

  public HttpVerticle(NodeConfig config, NodeStore store, ClusterView cluster, NodeMetrics metrics, ApplyVerticle applier) {
    this.config = config;
    this.applier = applier;
    this.metrics = metrics;
    this.store = store;
    this.cluster = cluster;
  }

  @Override
  public Future<?> start() {
    board = new StatusBoard(vertx);
    Router router = Router.router(vertx);
    // The dashboard may be served by any node and talk to the others (reconnecting, chaos buttons): only this
    // cluster's own nodes are allowed origins.
    CorsHandler cors = CorsHandler.create().addOrigins(config.members().stream().map(m -> m.httpUrl()).toList())
        .allowedMethod(HttpMethod.GET).allowedMethod(HttpMethod.POST).allowedMethod(HttpMethod.PUT).allowedMethod(HttpMethod.DELETE)
        .allowedHeader("Authorization").allowedHeader("Content-Type")
        .allowCredentials(true); // SockJS sends its cross-origin requests with credentials
    router.route().handler(cors);
    // Client data (writes, reads, rolled-back entries) needs api.token when one is set; status, health and the
    // dashboard carry none and stay open.
    router.route("/api/writes*").handler(BearerToken.require(config.apiToken(), "api.token", "Writes and reads"));
    router.route("/api/collections*").handler(BearerToken.require(config.apiToken(), "api.token", "Writes and reads"));
    router.route("/api/rollback").handler(BearerToken.require(config.apiToken(), "api.token", "Writes and reads"));
    router.get("/api/status").handler(this::status);
    String openApi = openApi();
    router.get("/api/openapi.json").handler(ctx -> ctx.response().putHeader("Content-Type", "application/json").end(openApi));
    router.get("/api/cluster").handler(this::cluster);
    router.get("/api/rollback").handler(this::rollback);
    router.get("/metrics").handler(PrometheusScrapingHandler.create(metrics.registry()));
    // The xhr fallback's sends (where websockets are blocked) are POSTs whose bodies SockJS reads from the body handler.
    router.post("/eventbus/*").handler(BodyHandler.create(false).setBodyLimit(SOCKJS_FRAME_BYTES));
    router.post("/eventbus/*").handler(HttpVerticle::requireSockJsFrames);
    router.route("/eventbus/*").subRouter(SockJSHandler.create(vertx).bridge(outboundOnly()));
    WritesRoutes writes = new WritesRoutes(config, vertx);
    writes.mount(router);
    new DocumentRoutes(config, vertx, writes, store.documents(), applier).mount(router);
    new AdminRoutes(config).mount(vertx, router);
    router.get("/health/live").handler(HealthCheckHandler.create(vertx)
        .register("event-loop", promise -> promise.complete(Status.OK())));
    router.get("/health/ready").handler(HealthCheckHandler.create(vertx)
        .register("cluster", HEALTH_CHECK_TIMEOUT_MS, promise -> promise.complete(
            cluster.isJoined() ? Status.OK() : Status.KO(new JsonObject().put("reason", "not joined"))))
        .register("store", HEALTH_CHECK_TIMEOUT_MS, promise -> store.ping()
            .onSuccess(v -> promise.complete(store.retry().trouble()
                .map(trouble -> Status.KO(new JsonObject().put("reason", trouble)))
                .orElse(Status.OK())))
            .onFailure(e -> promise.complete(Status.KO(new JsonObject().put("reason", e.getMessage()))))));
    // The dashboard's files last: a GET that reached a static handler first was looked up in the jar (a scan of its
    // entries on a worker thread, every time, for a file that is not there) before its route answered it.
    router.get("/vendor/sockjs/*").handler(StaticHandler.create(SOCKJS_CLIENT));
    router.get("/*").handler(StaticHandler.create(WEBROOT).setCachingEnabled(false));

    router.errorHandler(404, ctx -> HttpErrors.send(ctx, 404, "not_found", "No resource at " + ctx.request().path()));
    router.errorHandler(405, ctx -> HttpErrors.send(ctx, 405, "method_not_allowed",
        ctx.request().method() + " is not allowed on " + ctx.request().path()));
    router.errorHandler(500, ctx -> {
      log.error("Request {} {} failed", ctx.request().method(), ctx.request().path(), ctx.failure());
      HttpErrors.send(ctx, 500, "internal_error", "The node could not complete the request");
    });

    HttpServerOptions options = new HttpServerOptions().setHost(config.httpHost()).setPort(config.httpPort());
    config.httpTls().ifPresent(tls -> options.setSsl(true).setKeyCertOptions(tls.keyCertOptions()));
    board.start();
    return vertx.createHttpServer(options).requestHandler(router).listen()
        .recover(failure -> Future.failedFuture(isAddressInUse(failure)
            ? new IllegalStateException("HTTP port " + config.httpPort() + " on " + config.httpHost() + " is already in use")
            : failure))
        .onSuccess(s -> {
          server = s;
          log.info("HTTP API listening on {}://{}:{}/", config.httpTls().isPresent() ? "https" : "http", config.httpHost(),
              s.actualPort());
        });
  }

  /** The API's OpenAPI description, from the jar. */
  private static String openApi() {
    try (java.io.InputStream in = HttpVerticle.class.getResourceAsStream("openapi.json")) {
      if (in == null) {
        throw new IllegalStateException("openapi.json is not in the jar");
      }
      return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /**
   * An xhr send must carry a JSON array of strings (SockJS frames). SockJS itself answers anything
   * else with a 500; a client's bad frame is a 400 here, logged briefly at debug level.
   */
  private static void requireSockJsFrames(RoutingContext ctx) {
    if (!ctx.request().path().endsWith("/xhr_send")) {
      ctx.next();
      return;
    }
    Object frames;
    try {
      frames = Json.decodeValue(ctx.body().buffer() == null ? "" : ctx.body().asString());
    } catch (DecodeException e) {
      frames = null;
    }
    if (frames instanceof JsonArray array && array.stream().allMatch(String.class::isInstance)) {
      ctx.next();
      return;
    }
    log.debug("Refused a SockJS send from {}: not a JSON array of strings", ctx.request().remoteAddress());
    HttpErrors.send(ctx, 400, "invalid_frame", "A SockJS send is a JSON array of strings");
  }

  private void status(RoutingContext ctx) {
    vertx.eventBus().<JsonObject>request(Addresses.LOCAL_STATUS, null, Addresses.local()).onSuccess(reply -> {
      Set<Integer> members = cluster.memberIds();
      JsonArray peers = new JsonArray();
      config.peers().forEach(peer -> peers.add(new JsonObject()
          .put("id", peer.id())
          .put("url", peer.httpUrl())
          .put("member", members.contains(peer.id()))));
      ctx.json(reply.body().copy().put("peers", peers));
    }).onFailure(ctx::fail);
  }

  /**
   * The bridge lets browsers listen on the two published addresses and nothing else: no inbound
   * address is permitted, so nothing a browser sends reaches the protocol.
   */
  private static SockJSBridgeOptions outboundOnly() {
    return new SockJSBridgeOptions()
        .addOutboundPermitted(new PermittedOptions().setAddress(Addresses.STATUS))
        .addOutboundPermitted(new PermittedOptions().setAddress(Addresses.EVENTS));
  }

  /** What this node heard from the whole cluster, and the configured nodes, for the dashboard's first paint. */
  private void cluster(RoutingContext ctx) {
    JsonArray configured = new JsonArray();
    config.members().forEach(m -> configured.add(new JsonObject().put("id", m.id()).put("url", m.httpUrl())));
    ctx.json(board.snapshot()
        .put("cluster", config.clusterName())
        .put("servedBy", config.nodeId())
        .put("chaosEnabled", config.chaosEnabled())
        .put("configured", configured));
  }

  /** Entries this node moved to its rollback collection, oldest first: {@code {entries: [...]}}. */
  private void rollback(RoutingContext ctx) {
    Long limit = HttpErrors.boundedParam(ctx, "limit", 1000, 1, MAX_ROLLBACK_LIMIT);
    if (limit == null) {
      return;
    }
    store.rolledBack(limit.intValue()).onSuccess(rolledBack -> {
      // As JSON text, each entry's data as it was written: nothing is parsed into a tree.
      StringBuilder text = new StringBuilder("{\"entries\":[");
      for (NodeStore.RolledBack each : rolledBack) {
        if (text.charAt(text.length() - 1) != '[') {
          text.append(',');
        }
        EntryCodec.append(text, each.entry(), ",\"replacedInTerm\":" + each.replacedInTerm() + ",\"rolledBackAt\":" + each.rolledBackAt());
      }
      ctx.response().putHeader("Content-Type", "application/json").end(text.append("]}").toString());
    }).onFailure(ctx::fail);
  }

  @Override
  public Future<?> stop() {
    return server == null ? Future.succeededFuture() : server.close();
  }

  /**
   * Java's sockets say so with a {@link BindException}; Linux's native transport, which the nodes
   * prefer, with an {@link IOException} of errno EADDRINUSE.
   */
  private static boolean isAddressInUse(Throwable failure) {
    return failure instanceof BindException
        || failure instanceof IOException && String.valueOf(failure.getMessage()).contains("Address already in use");
  }
}
