package dev.bully.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bully.tools.Await;
import dev.bully.tools.LocalCluster;
import dev.bully.tools.NodeProcess;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Writes at every limit the door admits by default (1 MiB, 64 deep, 100,000 keys) on three real
 * nodes that keep only four entries in memory: they commit, leave memory into the store's pages,
 * are served by the read API on every node (a page of it stops at its byte budget and says where
 * to go on), survive restarts, and a coordinator that holds some it could not replicate moves them
 * to its rollback whole, and restarts.
 */
@ExtendWith(NodeLogsOnFailure.class)
class LargeWritesIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(60);
  private static final int MAX_WRITE_BYTES = 1024 * 1024;
  /** Long enough that a cut-off coordinator still leads when the writes reach it. */
  private static final int FAILURE_TIMEOUT_MS = 1_000;

  @TempDir
  Path dir;

  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  /** A body of exactly {@code bytes} bytes of UTF-8: a string of {@code unit} (one or three bytes) with the key's name. */
  static String sized(String name, int bytes, String unit) {
    String head = "{\"" + name + "\":\"";
    int room = bytes - head.length() - 2;
    int unitBytes = unit.getBytes(StandardCharsets.UTF_8).length;
    String body = head + unit.repeat(room / unitBytes) + "x".repeat(room % unitBytes) + "\"}";
    assertEquals(bytes, body.getBytes(StandardCharsets.UTF_8).length);
    return body;
  }

  /** Objects and arrays nested {@code depth} deep, the body's own object being the first. */
  static String deep(int depth) {
    StringBuilder text = new StringBuilder();
    for (int level = 1; level < depth; level++) {
      text.append(level % 2 == 1 ? "{\"d\":" : "[");
    }
    text.append("{}");
    for (int level = depth - 1; level >= 1; level--) {
      text.append(level % 2 == 1 ? "}" : "]");
    }
    return text.toString();
  }

  /** One object of {@code keys} keys. */
  static String manyKeys(int keys) {
    StringBuilder text = new StringBuilder("{");
    for (int k = 0; k < keys; k++) {
      text.append(k == 0 ? "" : ",").append('"').append(k).append("\":").append(k % 10);
    }
    return text.append('}').toString();
  }

  static Map<String, String> bodies() {
    Map<String, String> bodies = new LinkedHashMap<>();
    bodies.put("ascii-max", sized("s", MAX_WRITE_BYTES, "x"));
    bodies.put("euro-max", sized("s", MAX_WRITE_BYTES, "\u20ac"));
    bodies.put("deepest", deep(64));
    bodies.put("most-keys", manyKeys(100_000));
    bodies.put("quotes-max", sized("q", MAX_WRITE_BYTES, "\\\""));
    bodies.put("small", "{\"n\":1}");
    return bodies;
  }

  @Test
  void writesAtEveryLimitCommitPageAndAreServedByEveryNodeAcrossRestarts() throws Exception {
    try (LocalCluster cluster = new LocalCluster(dir, 3, new JsonObject().put("log", new JsonObject().put("memoryEntries", 4)))) {
      cluster.startAll();
      cluster.awaitCoordinator(3, cluster.ids(), TIMEOUT);
      Map<Long, JsonObject> written = new LinkedHashMap<>();
      for (int round = 0; round < 3; round++) {
        for (Map.Entry<String, String> body : bodies().entrySet()) {
          HttpResponse<String> response = post(cluster.node(3), body.getKey() + "-" + round, body.getValue());
          assertEquals(201, response.statusCode(), body.getKey() + ": " + response.body());
          written.put(new JsonObject(response.body()).getLong("index"), new JsonObject(body.getValue()));
        }
      }
      assertEquals(400, post(cluster.node(3), "too-deep", deep(65)).statusCode());
      assertEquals(400, post(cluster.node(3), "too-many-keys", manyKeys(100_001)).statusCode());
      assertEquals(413, post(cluster.node(3), "too-large", sized("s", MAX_WRITE_BYTES + 1, "x")).statusCode());
      long last = written.keySet().stream().mapToLong(Long::longValue).max().orElseThrow();

      assertServedEverywhere(cluster, written, last);
      // A follower killed and the coordinator stopped cleanly: both come back and serve the same.
      cluster.node(1).signal("KILL");
      assertEquals(143, cluster.node(3).terminate(TIMEOUT));
      cluster.start(1).awaitReady(LocalCluster.READY_TIMEOUT);
      cluster.start(3).awaitReady(LocalCluster.READY_TIMEOUT);
      cluster.awaitCoordinator(3, cluster.ids(), TIMEOUT);
      assertEquals(201, post(cluster.node(3), "after-restart", sized("s", MAX_WRITE_BYTES, "x")).statusCode());
      assertServedEverywhere(cluster, written, last);
      for (int id : cluster.ids()) {
        assertTrue(cluster.logLines(id).stream().noneMatch(line -> line.contains("OutOfMemoryError") || line.contains(" stops:")),
            "node " + id + " neither ran out of memory nor stopped");
      }
    }
  }

  private void assertServedEverywhere(LocalCluster cluster, Map<Long, JsonObject> written, long last) {
    for (int id : cluster.ids()) {
      NodeProcess node = cluster.node(id);
      Await.until(TIMEOUT, "node " + id + " has committed index " + last, () -> node.status().getLong("commitIndex") >= last);
      Map<Long, JsonObject> served = new LinkedHashMap<>();
      int pages = 0;
      Long from = 1L;
      while (from != null && from <= last) {
        JsonObject page = new JsonObject(node.get("/api/writes?from=" + from + "&limit=1000").body());
        page.getJsonArray("entries").forEach(e -> served.put(((JsonObject) e).getLong("index"), ((JsonObject) e).getJsonObject("data")));
        assertTrue(page.getJsonArray("entries").size() > 0, "a page of the read API holds at least one entry");
        from = page.getLong("next");
        pages++;
      }
      // About 9.7 Mi characters of entries in all, at most about 4 Mi to a page of the read API.
      assertTrue(pages >= 3, "about 4 MiB to a page of the read API, not " + pages + " page(s) for the whole log");
      for (Map.Entry<Long, JsonObject> entry : written.entrySet()) {
        assertEquals(entry.getValue(), served.get(entry.getKey()), "node " + id + " serves entry " + entry.getKey() + " as written");
        JsonObject one = new JsonObject(node.get("/api/writes/" + entry.getKey()).body());
        assertEquals(entry.getValue(), one.getJsonObject("data"), "node " + id + " serves entry " + entry.getKey() + " alone");
      }
    }
  }

  @Test
  void aCoordinatorHoldingLargestWritesItCouldNotReplicateRollsThemBackWholeAndRestarts() throws Exception {
    String token = UUID.randomUUID().toString();
    JsonObject extra = new JsonObject()
        .put("failureTimeoutMs", FAILURE_TIMEOUT_MS)
        .put("chaos", new JsonObject().put("enabled", true))
        .put("admin", new JsonObject().put("token", token));
    try (LocalCluster cluster = new LocalCluster(dir, 3, extra)) {
      cluster.startAll();
      cluster.awaitCoordinator(3, cluster.ids(), TIMEOUT);
      NodeProcess zombie = cluster.node(3);
      assertEquals(201, post(zombie, "before", deep(64)).statusCode());

      assertEquals(200, zombie.admin("/admin/chaos/isolate", token).statusCode());
      long lastBefore = zombie.status().getLong("lastIndex");
      Map<String, String> held = new LinkedHashMap<>();
      held.put("held-ascii", sized("s", MAX_WRITE_BYTES, "x"));
      held.put("held-euro", sized("s", MAX_WRITE_BYTES, "\u20ac"));
      held.put("held-deep", deep(64));
      List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
      held.forEach((key, body) -> answers.add(postAsync(zombie, key, body)));
      Await.until(TIMEOUT, "node 3 appended the writes it cannot replicate",
          () -> zombie.status().getLong("lastIndex") >= lastBefore + held.size());
      zombie.pause();
      cluster.awaitCoordinator(2, List.of(1, 2), TIMEOUT);
      for (int i = 0; i < held.size() + 1; i++) {
        assertEquals(201, post(cluster.node(2), "after-" + i, sized("s", MAX_WRITE_BYTES, "y")).statusCode());
      }
      zombie.resume();
      assertEquals(200, zombie.admin("/admin/chaos/heal", token).statusCode());
      long lastOf2 = cluster.node(2).status().getLong("lastIndex");
      // Once it holds node 2's log, node 3 may also take the lead back within takeoverDelayMs, as the highest node.
      Await.until(TIMEOUT, "node 3 follows node 2 (or has taken over from it) and has its log up to " + lastOf2, () -> {
        JsonObject status = zombie.status();
        Integer coordinator = status.getInteger("coordinatorId");
        return (Integer.valueOf(2).equals(coordinator) || Integer.valueOf(3).equals(coordinator))
            && status.getLong("term") > 1 && status.getLong("commitIndex") >= lastOf2;
      });
      for (CompletableFuture<HttpResponse<String>> answer : answers) {
        assertNotEquals(201, answer.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS).statusCode());
      }
      assertRolledBackWhole(zombie, held);

      // The node that rolled them back restarts, rejoins and still has them in its rollback.
      assertEquals(143, zombie.terminate(TIMEOUT));
      cluster.start(3).awaitReady(LocalCluster.READY_TIMEOUT);
      long lastNow = cluster.node(2).status().getLong("lastIndex");
      Await.until(TIMEOUT, "node 3 is back and has committed index " + lastNow,
          () -> cluster.node(3).status().getLong("commitIndex") >= lastNow);
      assertRolledBackWhole(cluster.node(3), held);
    }
  }

  private static void assertRolledBackWhole(NodeProcess node, Map<String, String> held) {
    Map<String, JsonObject> rolledBack = new LinkedHashMap<>();
    for (Object item : new JsonObject(node.get("/api/rollback").body()).getJsonArray("entries")) {
      JsonObject entry = (JsonObject) item;
      rolledBack.put(entry.getString("requestId"), entry.getJsonObject("data"));
    }
    held.forEach((key, body) -> assertEquals(new JsonObject(body), rolledBack.get(key), key + " is in node 3's rollback, whole"));
  }

  /** Posts as a client would: a 503 is retried with the same key (at most twice), so the write is taken once. */
  private HttpResponse<String> post(NodeProcess node, String key, String body) throws Exception {
    HttpResponse<String> response = postAsync(node, key, body).get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    for (int retry = 0; retry < 2 && response.statusCode() == 503; retry++) {
      Thread.sleep(500);
      response = postAsync(node, key, body).get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    }
    return response;
  }

  private CompletableFuture<HttpResponse<String>> postAsync(NodeProcess node, String key, String body) {
    HttpRequest request = HttpRequest.newBuilder(URI.create(node.baseUrl() + "/api/writes"))
        .header("Content-Type", "application/json")
        .header("Idempotency-Key", key)
        .timeout(TIMEOUT)
        .POST(HttpRequest.BodyPublishers.ofString(body))
        .build();
    return http.sendAsync(request, HttpResponse.BodyHandlers.ofString());
  }
}
