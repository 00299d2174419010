package dev.bully.http;

import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Optional;

/**
 * A route that needs {@code Authorization: Bearer <token>} when a token is configured: anything
 * else gets 401 with a JSON error naming the configuration key. The comparison takes the same time
 * wherever the tokens differ, so the answer's timing tells nothing of the token.
 */
final class BearerToken {
  private BearerToken() {
  }

  /** {@code key}: the configuration key that sets the token, for the error message. */
  static Handler<RoutingContext> require(Optional<String> token, String key, String what) {
    if (token.isEmpty()) {
      return RoutingContext::next;
    }
    byte[] expected = ("Bearer " + token.get()).getBytes(StandardCharsets.UTF_8);
    return ctx -> {
      String header = ctx.request().getHeader("Authorization");
      if (header == null || !MessageDigest.isEqual(header.getBytes(StandardCharsets.UTF_8), expected)) {
        ctx.response().putHeader("WWW-Authenticate", "Bearer");
        HttpErrors.send(ctx, 401, "unauthorized", what + " need 'Authorization: Bearer <" + key + ">'");
        return;
      }
      ctx.next();
    };
  }
}
