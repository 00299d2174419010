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

  /**
   * A whole-number query parameter from {@code min} to {@code max} ({@code fallback} when absent),
   * or null after answering 400 with what was expected.
   */
  static Long boundedParam(RoutingContext ctx, String name, long fallback, long min, long max) {
    String raw = ctx.request().getParam(name);
    if (raw == null) {
      return fallback;
    }
    try {
      long value = Long.parseLong(raw);
      if (value >= min && value <= max) {
        return value;
      }
    } catch (NumberFormatException e) {
      // answered below
    }
    send(ctx, 400, "invalid_parameter", name + " must be a whole number from " + min + " to " + max + ", not '" + raw + "'");
    return null;
  }
}
