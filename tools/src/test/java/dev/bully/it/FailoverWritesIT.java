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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Writers post a stream of writes, each with its own Idempotency-Key, retrying on 503 or a lost
 * connection with the same key and following redirects. The coordinator is killed with kill -9 in
 * the middle. Every write that was acknowledged must be, exactly once, in both survivors' committed
 * logs.
 */
@ExtendWith(NodeLogsOnFailure.class)
class FailoverWritesIT {
  private static final int WRITERS = 4;
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  @TempDir
  Path dir;

  @Test
  void killingTheCoordinatorUnderWritesLosesNoAcknowledgedWrite() throws Exception {
    try (LocalCluster cluster = new LocalCluster(dir, 3)) {
      cluster.startAll();
      Await.until(TIMEOUT, "one agreed coordinator", () -> cluster.agreedCoordinator(cluster.ids()) != 0);
      int victim = cluster.agreedCoordinator(cluster.ids());
      List<Integer> survivors = cluster.ids().stream().filter(id -> id != victim).toList();

      Map<String, Long> acknowledged = new ConcurrentHashMap<>();
      AtomicBoolean stop = new AtomicBoolean();
      ExecutorService writers = Executors.newFixedThreadPool(WRITERS);
      for (int w = 0; w < WRITERS; w++) {
        int writer = w;
        writers.submit(() -> {
          for (int i = 0; !stop.get(); i++) {
            String key = "w" + writer + "-" + i;
            Long index = writeUntilAcknowledged(cluster, key, stop);
            if (index != null) {
              acknowledged.put(key, index);
            }
          }
        });
      }
      Await.until(TIMEOUT, "100 writes acknowledged before the kill", () -> acknowledged.size() >= 100);
      cluster.node(victim).kill();
      int before = acknowledged.size();
      Await.until(TIMEOUT, "100 more writes acknowledged after the kill", () -> acknowledged.size() >= before + 100);
      stop.set(true);
      writers.shutdown();
      assertTrue(writers.awaitTermination(30, TimeUnit.SECONDS));

      long highest = acknowledged.values().stream().max(Long::compare).orElseThrow();
      for (int id : survivors) {
        NodeProcess node = cluster.node(id);
        Await.until(TIMEOUT, "node " + id + " has committed " + highest, () -> node.status().getLong("commitIndex") >= highest);
        Map<String, Integer> copies = new HashMap<>();
        for (long from = 1; from <= highest; from += 1000) {
          JsonArray entries = new JsonObject(node.get("/api/writes?from=" + from + "&limit=1000").body()).getJsonArray("entries");
          entries.stream().map(JsonObject.class::cast).map(e -> e.getString("requestId"))
              .filter(k -> k != null).forEach(k -> copies.merge(k, 1, Integer::sum));
        }
        List<String> missing = new ArrayList<>();
        acknowledged.keySet().forEach(k -> {
          if (!copies.containsKey(k)) {
            missing.add(k);
          }
        });
        assertEquals(List.of(), missing, "acknowledged writes missing on node " + id);
        assertTrue(copies.values().stream().allMatch(n -> n == 1), "no write appears twice on node " + id);
      }
    }
  }

  /** Posts one write until some coordinator acknowledges it, as a careful client does; null if stopped first. */
  private static Long writeUntilAcknowledged(LocalCluster cluster, String key, AtomicBoolean stop) {
    int target = 1;
    while (!stop.get()) {
      NodeProcess node = cluster.node(target);
      try {
        HttpResponse<String> response = node.send(HttpRequest.newBuilder(URI.create(node.baseUrl() + "/api/writes"))
            .header("Content-Type", "application/json").header("Idempotency-Key", key)
            .POST(HttpRequest.BodyPublishers.ofString("{\"key\":\"" + key + "\"}")));
        if (response.statusCode() == 201) {
          return new JsonObject(response.body()).getLong("index");
        }
        if (response.statusCode() == 307) {
          target = new JsonObject(response.body()).getInteger("coordinatorId");
          continue;
        }
      } catch (RuntimeException e) {
        // a dead or unreachable node: try another
      }
      target = target % cluster.size() + 1;
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return null;
      }
    }
    return null;
  }
}
