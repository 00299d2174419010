package dev.bully.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bully.tools.Await;
import dev.bully.tools.LocalCluster;
import dev.bully.tools.NodeProcess;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Nodes with {@code mongo.connection_string} set use that MongoDB and start no embedded store. Here
 * the MongoDB-wire server is its own process ({@code dev.bully.tools.MongoWireServer}); three nodes
 * keep their databases in it, take writes, and are restarted (SIGTERM and kill -9) against it
 * without losing any.
 */
@ExtendWith(NodeLogsOnFailure.class)
class ExternalMongoIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(90);

  @TempDir
  Path tmp;

  @Test
  void nodesUseTheConfiguredMongoDbAndKeepTheirDataAcrossRestarts() throws Exception {
    int mongoPort = freePort();
    Process mongo = new ProcessBuilder("java", "-Xmx256m", "-cp", NodeProcess.toolsClassPath(),
        "dev.bully.tools.MongoWireServer", "--dir", tmp.resolve("mongo").toString(), "--port", String.valueOf(mongoPort))
        .redirectErrorStream(true).redirectOutput(tmp.resolve("mongo.log").toFile()).start();
    try (LocalCluster cluster = new LocalCluster(Files.createDirectories(tmp.resolve("cluster")), 3)) {
      Await.until(TIMEOUT, "the MongoDB-wire server listens on " + mongoPort, () -> listens(mongoPort));
      for (int id : cluster.ids()) {
        JsonObject config = new JsonObject(Files.readString(cluster.config(id)));
        config.put("mongo", new JsonObject()
            .put("connection_string", "mongodb://127.0.0.1:" + mongoPort)
            .put("db_name", "bully-node" + id));
        Files.writeString(cluster.config(id), config.encodePrettily());
      }
      cluster.startAll();
      cluster.awaitCoordinator(3, cluster.ids(), TIMEOUT);
      for (int id : cluster.ids()) {
        assertFalse(Files.exists(cluster.dataDir(id).resolve("store.mv.db")), "node " + id + " started no embedded store");
      }

      List<Long> indexes = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        indexes.add(write(cluster.node(3), "before-" + i));
      }
      assertEquals(143, cluster.node(1).terminate(Duration.ofSeconds(30)), "node 1 stopped cleanly on SIGTERM");
      cluster.start(1).awaitReady(LocalCluster.READY_TIMEOUT);
      cluster.node(3).kill();
      long term = cluster.awaitCoordinator(2, List.of(1, 2), TIMEOUT);
      for (int i = 0; i < 20; i++) {
        indexes.add(write(cluster.node(2), "after-" + i));
      }
      cluster.start(3).awaitReady(LocalCluster.READY_TIMEOUT);
      cluster.awaitCoordinator(3, cluster.ids(), TIMEOUT);
      assertTrue(cluster.node(3).status().getLong("term") > term, "node 3 took over again, in a later term");

      long last = indexes.get(indexes.size() - 1);
      for (int id : cluster.ids()) {
        Await.until(TIMEOUT, "node " + id + " has committed index " + last,
            () -> cluster.node(id).status().getLong("commitIndex") >= last);
        JsonArray entries = new JsonObject(cluster.node(id).get("/api/writes?from=1&limit=1000").body()).getJsonArray("entries");
        List<String> keys = entries.stream().map(e -> ((JsonObject) e).getString("requestId")).toList();
        for (int i = 0; i < 20; i++) {
          assertTrue(keys.contains("before-" + i) && keys.contains("after-" + i), "node " + id + " holds every write: " + keys);
        }
      }
    } finally {
      mongo.destroy();
      if (!mongo.waitFor(20, TimeUnit.SECONDS)) {
        mongo.destroyForcibly();
      }
    }
  }

  /** Posts one write with an Idempotency-Key straight to the coordinator; returns its index. */
  private static long write(NodeProcess coordinator, String key) {
    var response = coordinator.write(key, new JsonObject().put("key", key).encode());
    assertEquals(201, response.statusCode(), response.body());
    return new JsonObject(response.body()).getLong("index");
  }

  private static boolean listens(int port) {
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }
}
