package dev.bully.it;

import dev.bully.tools.Await;
import dev.bully.tools.LocalCluster;
import dev.bully.tools.NodeProcess;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bully.core.DurableState;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Three real node processes from the built jar: they join, report status, and stop and restart cleanly. */
@ExtendWith(NodeLogsOnFailure.class)
class ClusterIT {
  private static final Duration MEMBERSHIP_TIMEOUT = Duration.ofSeconds(30);

  @TempDir
  Path dir;

  @Test
  void threeNodesJoinReportStatusAndKeepTheirStoreAcrossARestart() {
    try (LocalCluster cluster = new LocalCluster(dir, 3)) {
      // Node 2 starts on a store that already holds term 4. (Log entries are not seeded: entries no coordinator
      // wrote would break log matching, and a node would rightly refuse to replace a committed entry with them.)
      StoreFixture.withStore(cluster.dataDir(2), store -> store.saveState(new DurableState(4, 3)));

      cluster.startAll();
      for (int id = 1; id <= 3; id++) {
        NodeProcess node = cluster.node(id);
        assertEquals(id, node.status().getInteger("nodeId"));
        Await.until(MEMBERSHIP_TIMEOUT, "node " + id + " sees both others as members",
            () -> memberPeers(node).size() == 2);
      }
      // Any node may win; whoever does must go past node 2's term 4.
      Await.until(MEMBERSHIP_TIMEOUT, "one agreed coordinator in a term above 4", () -> {
        int coordinator = cluster.agreedCoordinator(cluster.ids());
        return coordinator != 0 && cluster.node(coordinator).status().getLong("term") > 4;
      });
      long term = cluster.node(cluster.agreedCoordinator(cluster.ids())).status().getLong("term");
      // The coordinator's log, with the no-op entry of its term, reaches every node and is committed.
      try {
        Await.until(MEMBERSHIP_TIMEOUT, "all three logs equal and committed", () -> {
          Set<String> logs = new HashSet<>();
          for (int id = 1; id <= 3; id++) {
            JsonObject status = cluster.node(id).status();
            logs.add(status.getLong("lastTerm") + "/" + status.getLong("lastIndex") + "/" + status.getLong("commitIndex"));
          }
          return logs.size() == 1 && !logs.iterator().next().endsWith("/0");
        });
      } catch (IllegalStateException e) {
        throw new AssertionError(e.getMessage() + "\n" + diagnosis(cluster), e);
      }
      long lastIndex = cluster.node(2).status().getLong("lastIndex");

      int exitCode = cluster.node(2).terminate(Duration.ofSeconds(30));
      long termBeforeRestart = term;
      assertEquals(143, exitCode, "SIGTERM ends the JVM through its shutdown hook");
      assertTrue(cluster.node(2).logText().contains("Node 2 stopped"), "node 2 logs a clean stop");
      Await.until(MEMBERSHIP_TIMEOUT, "node 1 sees node 2 leave", () -> !memberPeers(cluster.node(1)).contains(2));

      NodeProcess restarted = cluster.start(2);
      restarted.awaitReady(LocalCluster.READY_TIMEOUT);
      JsonObject status = restarted.status();
      assertTrue(status.getLong("term") >= termBeforeRestart, "the term survives a restart");
      // It may already have received more (a new coordinator's no-op if it led before), never less.
      assertTrue(status.getLong("lastIndex") >= lastIndex, "the log survives a restart: " + status);
      Await.until(MEMBERSHIP_TIMEOUT, "node 1 sees node 2 again", () -> memberPeers(cluster.node(1)).contains(2));
    }
  }

  @Test
  void invalidConfigurationExitsWithAMessageNamingFileAndKey() throws Exception {
    Path conf = dir.resolve("bad.json");
    Files.writeString(conf, "{\"cluster\": {\"nodes\": [{\"id\": 1, \"httpPort\": 8081, \"clusterPort\": 5701}]}}");
    Process process = new ProcessBuilder("java", "-jar", NodeProcess.JAR.toAbsolutePath().toString(), "-conf", conf.toString())
        .redirectErrorStream(true).start();
    assertTrue(process.waitFor(30, TimeUnit.SECONDS));
    String output = new String(process.getInputStream().readAllBytes());
    assertEquals(2, process.exitValue(), output);
    assertTrue(output.contains("bully-node: " + conf + ": key 'nodeId' is missing"), output);
  }

  @Test
  void aPortInUseIsReportedClearly() throws IOException {
    try (LocalCluster cluster = new LocalCluster(dir, 1);
         var blocker = new java.net.ServerSocket(cluster.httpPort(1), 1, java.net.InetAddress.getLoopbackAddress())) {
      NodeProcess node = cluster.start(1);
      Await.until(LocalCluster.READY_TIMEOUT, "node 1 exits", () -> !node.isAlive());
      assertTrue(node.logText().contains("HTTP port " + cluster.httpPort(1) + " on 127.0.0.1 is already in use"),
          node.logText());
    }
  }

  /** The nodes' statuses and their protocol, warning and error lines, for a failure message. */
  private static String diagnosis(LocalCluster cluster) {
    StringBuilder text = new StringBuilder("statuses: " + cluster.statuses() + "\n");
    for (int id : cluster.ids()) {
      cluster.logLines(id).stream()
          .filter(line -> line.contains(" Protocol - ") || line.contains(" WARN ") || line.contains(" ERROR "))
          .forEach(line -> text.append(line).append('\n'));
    }
    return text.toString();
  }

  private static List<Integer> memberPeers(NodeProcess node) {
    JsonArray peers = node.status().getJsonArray("peers");
    return peers.stream().map(JsonObject.class::cast)
        .filter(peer -> peer.getBoolean("member"))
        .map(peer -> peer.getInteger("id"))
        .toList();
  }
}
