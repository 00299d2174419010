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
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The zombie coordinator: coordinator 3 is cut off from its followers (chaos: it drops all protocol
 * traffic), takes writes it cannot replicate, and is paused (SIGSTOP). Nodes 1 and 2 elect node 2,
 * which commits writes of its own at the same indexes. When node 3 resumes and its network heals,
 * it steps down, follows node 2, and moves its unreplicated entries to its {@code rollback}
 * collection: they are not in its log, no node has them, and no client was told they succeeded.
 */
@ExtendWith(NodeLogsOnFailure.class)
class ZombieCoordinatorIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);
  private static final int ZOMBIE_WRITES = 5;
  /** Long enough that the cut-off coordinator still leads when the writes reach it. */
  private static final int FAILURE_TIMEOUT_MS = 1_000;

  @TempDir
  Path dir;

  private final HttpClient http = HttpClient.newHttpClient();

  @Test
  void writesTheCutOffCoordinatorTookAreRolledBackAndNeverAcknowledged() throws Exception {
    String token = UUID.randomUUID().toString();
    JsonObject extra = new JsonObject()
        .put("failureTimeoutMs", FAILURE_TIMEOUT_MS)
        .put("chaos", new JsonObject().put("enabled", true))
        .put("admin", new JsonObject().put("token", token));
    try (LocalCluster cluster = new LocalCluster(dir, 3, extra)) {
      cluster.startAll();
      long firstTerm = cluster.awaitCoordinator(3, cluster.ids(), TIMEOUT);
      NodeProcess zombie = cluster.node(3);
      for (int i = 0; i < 3; i++) {
        assertEquals(201, post(zombie, "before-" + i).statusCode());
      }

      assertEquals(200, zombie.admin("/admin/chaos/isolate", token).statusCode());
      long lastBefore = zombie.status().getLong("lastIndex");
      List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
      for (int i = 0; i < ZOMBIE_WRITES; i++) {
        answers.add(postAsync(zombie, "zombie-" + i));
      }
      Await.until(TIMEOUT, "node 3 appended the writes it cannot replicate",
          () -> zombie.status().getLong("lastIndex") >= lastBefore + ZOMBIE_WRITES);
      zombie.pause();

      long newTerm = cluster.awaitCoordinator(2, List.of(1, 2), TIMEOUT);
      assertTrue(newTerm > firstTerm, "node 2 leads a later term than " + firstTerm);
      for (int i = 0; i < ZOMBIE_WRITES + 2; i++) {
        assertEquals(201, post(cluster.node(2), "after-" + i).statusCode());
      }

      zombie.resume();
      assertEquals(200, zombie.admin("/admin/chaos/heal", token).statusCode());
      long lastOf2 = cluster.node(2).status().getLong("lastIndex");
      Await.until(TIMEOUT, "node 3 follows node 2 and has its log up to " + lastOf2, () -> {
        JsonObject status = zombie.status();
        return Integer.valueOf(2).equals(status.getInteger("coordinatorId")) && status.getLong("commitIndex") >= lastOf2;
      });

      for (CompletableFuture<HttpResponse<String>> answer : answers) {
        HttpResponse<String> response = answer.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        assertNotEquals(201, response.statusCode(), "a write node 3 could not replicate was acknowledged: " + response.body());
      }
      // The node follows (and its status says so) as soon as it accepted node 2's entries; the rollback collection
      // holds the replaced ones once that write is durable, a moment later (one more force to the device).
      Map<String, Long> rolledBack = new TreeMap<>();
      Await.until(TIMEOUT, "node 3's rollback holds the " + ZOMBIE_WRITES + " writes it could not replicate", () -> {
        rolledBack.clear();
        for (Object item : new JsonObject(zombie.get("/api/rollback").body()).getJsonArray("entries")) {
          JsonObject entry = (JsonObject) item;
          rolledBack.put(entry.getString("requestId"), entry.getLong("replacedInTerm"));
        }
        return rolledBack.keySet().stream().filter(k -> k.startsWith("zombie-")).count() >= ZOMBIE_WRITES;
      });
      for (int i = 0; i < ZOMBIE_WRITES; i++) {
        assertTrue(rolledBack.containsKey("zombie-" + i), "zombie-" + i + " is in node 3's rollback: " + rolledBack);
        assertEquals(newTerm, rolledBack.get("zombie-" + i), "replaced by node 2's term");
      }
      for (int id : cluster.ids()) {
        Set<String> keys = committedKeys(cluster.node(id));
        assertTrue(keys.stream().noneMatch(k -> k.startsWith("zombie-")), "node " + id + "'s log has no zombie write: " + keys);
        assertTrue(keys.containsAll(Set.of("before-0", "before-1", "before-2", "after-0", "after-6")),
            "node " + id + "'s log has every acknowledged write: " + keys);
      }
    }
  }

  private HttpResponse<String> post(NodeProcess node, String key) throws Exception {
    return postAsync(node, key).get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
  }

  private CompletableFuture<HttpResponse<String>> postAsync(NodeProcess node, String key) {
    HttpRequest request = HttpRequest.newBuilder(URI.create(node.baseUrl() + "/api/writes"))
        .header("Content-Type", "application/json")
        .header("Idempotency-Key", key)
        .timeout(TIMEOUT)
        .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("key", key).encode()))
        .build();
    return http.sendAsync(request, HttpResponse.BodyHandlers.ofString());
  }

  private static Set<String> committedKeys(NodeProcess node) {
    JsonArray entries = new JsonObject(node.get("/api/writes?from=1&limit=1000").body()).getJsonArray("entries");
    return entries.stream().map(JsonObject.class::cast).map(e -> e.getString("requestId"))
        .filter(k -> k != null).collect(Collectors.toSet());
  }
}
