package dev.bully.http;

import dev.bully.config.NodeConfig;
import dev.bully.election.Addresses;
import dev.bully.election.Outcome;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.Set;

/**
 * The admin API. {@code POST /admin/stepdown} hands a coordinator's leadership over gracefully (for
 * maintenance); {@code POST /admin/chaos/{fault}} makes faults that no signal can, for the
 * scenarios and the chaos script. The routes exist only when {@code admin.token} is set (chaos also
 * needs {@code chaos.enabled}), and every request must carry {@code Authorization: Bearer <admin.token>}.
 */
final class AdminRoutes {
  private static final Set<String> FAULTS = Set.of("start-election", "die-during-announcement", "die-during-election",
      "isolate", "drop", "heal", "die", "pause");

  private static final long STEP_DOWN_TIMEOUT_MS = 15_000;

  private final NodeConfig config;

  AdminRoutes(NodeConfig config) {
    this.config = config;
  }

  void mount(Vertx vertx, Router router) {
    if (config.adminToken().isEmpty()) {
      return; // absent, not forbidden: unknown paths answer 404
    }
    router.post("/admin/*").handler(BearerToken.require(config.adminToken(), "admin.token", "Admin endpoints"));
    router.post("/admin/stepdown").handler(ctx -> vertx.eventBus()
        .<JsonObject>request(Addresses.LOCAL_STEP_DOWN, new JsonObject(), Addresses.local().setSendTimeout(STEP_DOWN_TIMEOUT_MS))
        .onSuccess(reply -> {
          JsonObject body = reply.body().copy();
          int status = switch (Outcome.take(body)) {
            case Outcome.HANDED_OVER -> 200;
            case Outcome.REFUSED -> 409;
            default -> 503;
          };
          if (status == 503) {
            ctx.response().putHeader("Retry-After", "1");
          }
          ctx.response().setStatusCode(status);
          ctx.json(body);
        })
        .onFailure(ctx::fail));
    if (!config.chaosEnabled()) {
      return;
    }
    router.post("/admin/chaos/:fault").handler(ctx -> {
      String fault = ctx.pathParam("fault");
      if (!FAULTS.contains(fault)) {
        HttpErrors.send(ctx, 404, "unknown_fault", "No chaos fault '" + fault + "'; known: " + FAULTS);
        return;
      }
      JsonObject command = new JsonObject().put("fault", fault);
      if (fault.equals("pause")) {
        Long ms = HttpErrors.boundedParam(ctx, "ms", 3_000, 100, 600_000);
        if (ms == null) {
          return;
        }
        command.put("ms", ms);
      }
      if (fault.equals("drop")) {
        try {
          command.put("to", nodeIds(ctx.request().getParam("to"))).put("from", nodeIds(ctx.request().getParam("from")));
        } catch (IllegalArgumentException e) {
          HttpErrors.send(ctx, 400, "invalid_parameter", e.getMessage());
          return;
        }
      }
      vertx.eventBus().<JsonObject>request(Addresses.LOCAL_CHAOS, command, Addresses.local())
          .onSuccess(reply -> ctx.json(reply.body()))
          .onFailure(ctx::fail);
    });
  }

  /** {@code "2,3"} as node ids of this cluster; empty when absent. */
  private JsonArray nodeIds(String list) {
    JsonArray ids = new JsonArray();
    if (list == null || list.isBlank()) {
      return ids;
    }
    for (String item : list.split(",")) {
      int id;
      try {
        id = Integer.parseInt(item.trim());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("'" + item.trim() + "' is not a node id; expected e.g. to=2,3");
      }
      if (config.member(id).isEmpty()) {
        throw new IllegalArgumentException("Node " + id + " is not in cluster.nodes");
      }
      ids.add(id);
    }
    return ids;
  }
}
