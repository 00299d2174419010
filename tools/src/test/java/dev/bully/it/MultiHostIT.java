package dev.bully.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bully.tools.Await;
import dev.bully.tools.LocalCluster;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three nodes, each on its own loopback address (127.0.0.11, .12, .13: a "host" each), binding and
 * advertising only that address: they find each other, elect the highest, replicate a write made
 * through a follower's redirect, and fail over when the coordinator is killed.
 */
@ExtendWith(NodeLogsOnFailure.class)
class MultiHostIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  @TempDir
  Path dir;

  @Test
  void nodesOnDistinctAddressesElectReplicateAndFailOver() throws Exception {
    try (LocalCluster cluster = new LocalCluster(dir, 3, new JsonObject(), id -> "127.0.0." + (10 + id))) {
      cluster.startAll();
      long term = cluster.awaitCoordinator(3, cluster.ids(), TIMEOUT);
      assertTrue(cluster.node(1).baseUrl().startsWith("http://127.0.0.11:"));
      assertThrows(IOException.class, () -> new Socket().connect(new InetSocketAddress("127.0.0.1", cluster.httpPort(1)), 1000),
          "node 1 binds its own address only");

      HttpResponse<String> redirect = post(cluster, 1, cluster.node(1).baseUrl() + "/api/writes", "via-1");
      assertEquals(307, redirect.statusCode(), redirect.body());
      String location = redirect.headers().firstValue("Location").orElseThrow();
      assertTrue(location.startsWith(cluster.node(3).baseUrl()), location);
      HttpResponse<String> written = post(cluster, 3, location, "via-1");
      assertEquals(201, written.statusCode(), written.body());
      long index = new JsonObject(written.body()).getLong("index");
      for (int id : cluster.ids()) {
        Await.until(TIMEOUT, "node " + id + " has committed " + index, () -> cluster.node(id).status().getLong("commitIndex") >= index);
        assertEquals("via-1", new JsonObject(cluster.node(id).get("/api/writes/" + index).body()).getString("requestId"));
      }

      cluster.node(3).kill();
      long newTerm = cluster.awaitCoordinator(2, List.of(1, 2), TIMEOUT);
      assertTrue(newTerm > term, "node 2 leads a later term");
      HttpResponse<String> after = post(cluster, 2, cluster.node(2).baseUrl() + "/api/writes", "after-failover");
      assertEquals(201, after.statusCode(), after.body());
    }
  }

  private static HttpResponse<String> post(LocalCluster cluster, int via, String url, String key) {
    return cluster.node(via).send(HttpRequest.newBuilder(URI.create(url))
        .header("Content-Type", "application/json").header("Idempotency-Key", key)
        .POST(HttpRequest.BodyPublishers.ofString("{\"key\":\"" + key + "\"}")));
  }
}
