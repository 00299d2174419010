package dev.bully.http;

import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** Every error the HTTP API answers is JSON, {@code {"error": code, "message": text}}, never a stack trace. */
final class HttpErrors {
  private HttpErrors() {
  }

  static void send(RoutingContext ctx, int status, String error, String message) {
    if (ctx.response().ended()) {
      return;
    }
    ctx.response()
        .setStatusCode(status)
        .putHeader("Content-Type", "application/json")
        .end(new JsonObject().put("error", error).put("message", message).encode());
  }
}
