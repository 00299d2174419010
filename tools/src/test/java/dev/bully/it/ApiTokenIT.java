package dev.bully.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bully.tools.LocalCluster;
import dev.bully.tools.NodeProcess;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** With {@code api.token}, client data needs the bearer token; status, health and the dashboard stay open. */
@ExtendWith(NodeLogsOnFailure.class)
class ApiTokenIT {
  private static final String TOKEN = "an-api-token-for-this-test";

  @TempDir
  Path dir;

  @Test
  void writesAndReadsNeedTheTokenAndNothingElseDoes() {
    JsonObject extra = new JsonObject().put("api", new JsonObject().put("token", TOKEN));
    try (LocalCluster cluster = new LocalCluster(dir, 1, extra)) {
      cluster.startAll();
      cluster.awaitCoordinator(1, cluster.ids(), Duration.ofSeconds(30));
      NodeProcess node = cluster.node(1);

      assertUnauthorized(node.write("no-token", "{\"a\":1}"));
      assertUnauthorized(node.send(post(node, "Bearer wrong-" + TOKEN)));
      assertUnauthorized(node.get("/api/writes?from=1"));
      assertUnauthorized(node.get("/api/writes/1"));
      assertUnauthorized(node.get("/api/rollback"));

      assertEquals(201, node.send(post(node, "Bearer " + TOKEN)).statusCode());
      HttpResponse<String> read = node.send(HttpRequest.newBuilder(URI.create(node.baseUrl() + "/api/writes?from=1"))
          .header("Authorization", "Bearer " + TOKEN).GET());
      assertEquals(200, read.statusCode());
      assertTrue(read.body().contains("with-token"), read.body());

      for (String open : new String[] {"/api/status", "/api/cluster", "/health/ready", "/metrics", "/"}) {
        assertEquals(200, node.get(open).statusCode(), open + " needs no token");
      }
    }
  }

  private static HttpRequest.Builder post(NodeProcess node, String authorization) {
    return HttpRequest.newBuilder(URI.create(node.baseUrl() + "/api/writes"))
        .header("Content-Type", "application/json").header("Idempotency-Key", "with-token")
        .header("Authorization", authorization)
        .POST(HttpRequest.BodyPublishers.ofString("{\"b\":2}"));
  }

  private static void assertUnauthorized(HttpResponse<String> response) {
    assertEquals(401, response.statusCode(), response.body());
    JsonObject error = new JsonObject(response.body());
    assertEquals("unauthorized", error.getString("error"));
    assertEquals("Writes and reads need 'Authorization: Bearer <api.token>'", error.getString("message"));
    assertEquals("Bearer", response.headers().firstValue("WWW-Authenticate").orElse(null));
  }
}
