package dev.bully.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bully.tools.Await;
import dev.bully.tools.LocalCluster;
import dev.bully.tools.NodeProcess;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The write and read API on three real nodes: redirects, replication, idempotency, and every bad input. */
@ExtendWith(NodeLogsOnFailure.class)
class WritesIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  @TempDir
  static Path dir;
  static LocalCluster cluster;
  static int coordinator;
  static int follower;

  @BeforeAll
  static void startCluster() {
    cluster = new LocalCluster(dir, 3);
    cluster.startAll();
    // Node 3, the highest, ends as coordinator (a lower node that won first hands over after takeoverDelayMs,
    // answering 503 meanwhile); the tests expect a coordinator that stays.
    cluster.awaitCoordinator(3, cluster.ids(), TIMEOUT);
    coordinator = 3;
    follower = 1;
  }

  @AfterAll
  static void stopCluster() {
    cluster.close();
  }

  private static HttpResponse<String> post(int node, String path, String contentType, String body, String key) {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(cluster.node(node).baseUrl() + path))
        .POST(HttpRequest.BodyPublishers.ofString(body));
    if (contentType != null) {
      request.header("Content-Type", contentType);
    }
    if (key != null) {
      request.header("Idempotency-Key", key);
    }
    return cluster.node(node).send(request);
  }

  private static void assertError(HttpResponse<String> response, int status, String error) {
    assertEquals(status, response.statusCode(), response.body());
    JsonObject body = new JsonObject(response.body());
    assertEquals(error, body.getString("error"));
    assertTrue(body.getString("message").length() > 5, "a readable message");
  }

  @Test
  void writesToTheCoordinatorAreCommittedOnEveryNode() {
    List<Long> indexes = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      HttpResponse<String> response = post(coordinator, "/api/writes", "application/json", "{\"n\":" + i + "}", null);
      assertEquals(201, response.statusCode(), response.body());
      JsonObject created = new JsonObject(response.body());
      assertEquals(coordinator, created.getInteger("node"));
      indexes.add(created.getLong("index"));
    }
    long last = indexes.get(indexes.size() - 1);
    for (int id : cluster.ids()) {
      NodeProcess node = cluster.node(id);
      Await.until(TIMEOUT, "node " + id + " has committed index " + last,
          () -> node.status().getLong("commitIndex") >= last);
      JsonArray entries = new JsonObject(node.get("/api/writes?from=" + indexes.get(0) + "&limit=20").body()).getJsonArray("entries");
      assertEquals(20, entries.size());
      assertEquals(19, entries.getJsonObject(19).getJsonObject("data").getInteger("n"));
      assertEquals(last, new JsonObject(node.get("/api/writes/" + last).body()).getLong("index"));
    }
  }

  @Test
  void aFollowerRedirectsToTheCoordinator() {
    HttpResponse<String> response = post(follower, "/api/writes?w=all", "application/json", "{\"via\":\"follower\"}", null);
    assertEquals(307, response.statusCode(), response.body());
    String location = response.headers().firstValue("Location").orElseThrow();
    assertEquals(cluster.node(coordinator).baseUrl() + "/api/writes?w=all", location);
    HttpResponse<String> followed = cluster.node(coordinator).send(HttpRequest.newBuilder(URI.create(location))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"via\":\"follower\"}")));
    assertEquals(201, followed.statusCode(), followed.body());
  }

  @Test
  void aRetryWithTheSameIdempotencyKeyReturnsTheOriginalEntry() {
    HttpResponse<String> first = post(coordinator, "/api/writes", "application/json", "{\"pay\":1}", "order-17");
    HttpResponse<String> again = post(coordinator, "/api/writes", "application/json", "{\"pay\":1}", "order-17");
    assertEquals(201, first.statusCode(), first.body());
    assertEquals(201, again.statusCode(), again.body());
    assertEquals(new JsonObject(first.body()).getLong("index"), new JsonObject(again.body()).getLong("index"));
  }

  /** A key used again for another request is refused, not answered with the first request's entry; the first stays usable. */
  @Test
  void anIdempotencyKeyUsedForAnotherRequestIsRefused() {
    HttpResponse<String> first = post(coordinator, "/api/writes", "application/json", "{\"pay\":1}", "order-18");
    HttpResponse<String> other = post(coordinator, "/api/writes", "application/json", "{\"pay\":2}", "order-18");
    HttpResponse<String> again = post(coordinator, "/api/writes", "application/json", "{\"pay\":1}", "order-18");
    assertEquals(201, first.statusCode(), first.body());
    assertError(other, 422, "idempotency_key_reused");
    assertEquals(201, again.statusCode(), again.body());
    assertEquals(new JsonObject(first.body()).getLong("index"), new JsonObject(again.body()).getLong("index"));
  }

  @Test
  void badInputGetsAClearJsonErrorAndTheNodeKeepsServing() {
    assertError(post(coordinator, "/api/writes", "application/json", "{\"broken\":", null), 400, "invalid_json");
    assertError(post(coordinator, "/api/writes", "application/json", "[1,2]", null), 400, "not_an_object");
    assertError(post(coordinator, "/api/writes", "text/plain", "{}", null), 415, "unsupported_media_type");
    assertError(post(coordinator, "/api/writes", null, "{}", null), 415, "unsupported_media_type");
    assertError(post(coordinator, "/api/writes?w=two", "application/json", "{}", null), 400, "invalid_write_concern");
    String big = "{\"x\":\"" + "a".repeat(1024 * 1024) + "\"}";
    assertError(post(coordinator, "/api/writes", "application/json", big, null), 413, "too_large");
    assertError(cluster.node(coordinator).get("/api/writes?limit=1001"), 400, "invalid_parameter");
    assertError(cluster.node(coordinator).get("/api/writes?from=zero"), 400, "invalid_parameter");
    assertError(cluster.node(coordinator).get("/api/writes/999999"), 404, "not_found");
    assertError(cluster.node(coordinator).get("/api/nothing"), 404, "not_found");
    assertError(cluster.node(coordinator).send(HttpRequest.newBuilder(URI.create(cluster.node(coordinator).baseUrl() + "/api/writes"))
        .DELETE()), 405, "method_not_allowed");
    assertEquals(201, post(coordinator, "/api/writes", "application/json", "{\"still\":\"serving\"}", null).statusCode());
  }
}
