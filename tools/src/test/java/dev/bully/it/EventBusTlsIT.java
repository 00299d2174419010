package dev.bully.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.bully.tools.Await;
import dev.bully.tools.LocalCluster;
import dev.bully.tools.NodeProcess;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Event-bus TLS with throwaway certificates made by the JDK's keytool: three nodes sharing one key
 * store elect and replicate over mutual TLS; a node restarted with a certificate the others do not
 * trust still joins the cluster manager, but exchanges no protocol message with them: it never
 * learns the coordinator nor any entry, while the other two go on.
 */
@ExtendWith(NodeLogsOnFailure.class)
class EventBusTlsIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(90);
  private static final String PASSWORD = "throwaway";

  @TempDir
  Path tmp;

  @Test
  void aTlsClusterWorksAndANodeWithoutTheCertificateIsLeftOut() throws Exception {
    Path trusted = TestKeyStores.selfSigned(tmp.resolve("cluster.p12"), PASSWORD);
    Path foreign = TestKeyStores.selfSigned(tmp.resolve("foreign.p12"), PASSWORD);
    try (LocalCluster cluster = new LocalCluster(Files.createDirectories(tmp.resolve("cluster")), 3, new JsonObject().put("eventBus", tls(trusted)))) {
      cluster.startAll();
      cluster.awaitCoordinator(3, cluster.ids(), TIMEOUT);
      long first = write(cluster.node(3), "over-tls");
      for (int id : cluster.ids()) {
        Await.until(TIMEOUT, "node " + id + " committed the write", () -> cluster.node(id).status().getLong("commitIndex") >= first);
      }

      assertEquals(143, cluster.node(3).terminate(Duration.ofSeconds(30)));
      JsonObject config = new JsonObject(Files.readString(cluster.config(3)));
      config.put("eventBus", tls(foreign));
      Files.writeString(cluster.config(3), config.encodePrettily());
      cluster.start(3).awaitReady(LocalCluster.READY_TIMEOUT);
      cluster.awaitCoordinator(2, List.of(1, 2), TIMEOUT);
      long second = write(cluster.node(2), "without-node-3");
      Await.until(TIMEOUT, "node 1 committed the write", () -> cluster.node(1).status().getLong("commitIndex") >= second);

      Await.during(Duration.ofSeconds(5), "node 3 stays out of the conversation", () -> {
        JsonObject status = cluster.node(3).status();
        return status.getValue("coordinatorId") == null && status.getLong("lastIndex") < second;
      });
      assertEquals(2, cluster.agreedCoordinator(List.of(1, 2)), "nodes 1 and 2 were not disturbed");
      assertNull(cluster.node(3).status().getValue("coordinatorId"));
      assertEquals(cluster.node(1).status().getLong("term"), cluster.node(2).status().getLong("term"));
    }
  }

  private static JsonObject tls(Path keyStore) {
    return new JsonObject().put("tls", new JsonObject()
        .put("enabled", true).put("keyStore", keyStore.toString()).put("keyStorePassword", PASSWORD));
  }

  private static long write(NodeProcess coordinator, String key) {
    var response = coordinator.write(key, new JsonObject().put("key", key).encode());
    assertEquals(201, response.statusCode(), response.body());
    return new JsonObject(response.body()).getLong("index");
  }
}
