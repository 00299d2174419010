package dev.bully.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bully.tools.Await;
import dev.bully.tools.LocalCluster;
import dev.bully.tools.NodeProcess;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTP API and dashboard over TLS ({@code http.tls.*}) with a throwaway certificate for
 * 127.0.0.1 made by the JDK's keytool: three nodes elect, a client that trusts the certificate
 * writes and reads, a follower's redirect and the dashboard's node links say https, and plain
 * http gets no answer.
 */
@ExtendWith(NodeLogsOnFailure.class)
class HttpTlsIT {
  private static final String PASSWORD = "http-tls-test";

  @TempDir
  Path dir;

  @Test
  void theApiAndDashboardAreServedOverTls() throws Exception {
    Path keyStore = TestKeyStores.selfSigned(dir.resolve("http.p12"), PASSWORD);
    JsonObject extra = new JsonObject().put("http", new JsonObject().put("tls", new JsonObject()
        .put("enabled", true).put("keyStore", keyStore.toString()).put("keyStorePassword", PASSWORD)));
    try (LocalCluster cluster = new LocalCluster(dir, 3, extra)) {
      cluster.startAll();
      cluster.awaitCoordinator(3, cluster.ids(), Duration.ofSeconds(30));
      NodeProcess coordinator = cluster.node(3);
      assertTrue(coordinator.baseUrl().startsWith("https://"), coordinator.baseUrl());

      assertEquals(201, coordinator.write("over-tls", "{\"tls\":true}").statusCode());
      HttpResponse<String> redirect = cluster.node(1).write("via-follower", "{\"tls\":true}");
      assertEquals(307, redirect.statusCode(), redirect.body());
      assertEquals(coordinator.baseUrl() + "/api/writes", redirect.headers().firstValue("Location").orElseThrow());
      Await.until(Duration.ofSeconds(10), "node 2 serves the write it committed, over TLS",
          () -> cluster.node(2).get("/api/writes?from=1").body().contains("over-tls"));
      for (Object node : new JsonObject(cluster.node(1).get("/api/cluster").body()).getJsonArray("configured")) {
        assertTrue(((JsonObject) node).getString("url").startsWith("https://127.0.0.1:"), node.toString());
      }
      assertEquals(200, cluster.node(2).get("/").statusCode(), "the dashboard");

      HttpClient plain = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
      HttpRequest overHttp = HttpRequest.newBuilder(URI.create(coordinator.baseUrl().replace("https://", "http://") + "/api/status"))
          .timeout(Duration.ofSeconds(5)).GET().build();
      assertThrows(IOException.class, () -> plain.send(overHttp, HttpResponse.BodyHandlers.ofString()),
          "plain http to a TLS port gets no answer");
    }
  }
}
