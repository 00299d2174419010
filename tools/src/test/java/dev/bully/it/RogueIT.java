package dev.bully.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bully.tools.Await;
import dev.bully.tools.LocalCluster;
import dev.bully.tools.NodeProcess;
import dev.bully.tools.chaos.Rogue;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three nodes with a cluster secret, a correct writer, and two rogue members of the cluster
 * manager without the secret ({@link Rogue}): one whose {@code bully.nodeId} is not a number, one
 * that claims node 2's id from another address. They register consumers on the nodes' protocol
 * addresses, then forge a claim with the largest term, APPENDs of fake entries in the coordinator's
 * own term with a commit index, an APPEND that conflicts with committed entries, and a flood of
 * claims with rising terms. Nothing may change: no node stops, no term moves but by a real
 * election, nothing of the rogues' is in any log, they receive no message meant for a node, and
 * every acknowledged write is on every node exactly once.
 */
@ExtendWith(NodeLogsOnFailure.class)
class RogueIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(60);
  /** A real election moves the term by one or two; anything forged is far beyond. */
  private static final long REAL_TERM_MOVES = 10;

  @TempDir
  Path dir;

  @Test
  void membersWithoutTheSecretChangeNothingStopNothingAndStealNothing() throws Exception {
    try (LocalCluster cluster = new LocalCluster(dir, 3)) {
      cluster.startAll();
      long term = cluster.awaitCoordinator(3, cluster.ids(), TIMEOUT);
      CorrectWriter writer = new CorrectWriter(cluster, "correct");
      try (Rogue stranger = Rogue.join(cluster.config(1), "not-a-number");
           Rogue impostor = Rogue.join(cluster.config(1), "2")) {
        Await.until(TIMEOUT, "every node lists both rogues as strangers", () -> cluster.ids().stream()
            .allMatch(id -> cluster.node(id).status().getJsonArray("strangers").size() == 2));
        String strangers = cluster.node(1).status().getJsonArray("strangers").encode();
        assertTrue(strangers.contains("bully.nodeId 'not-a-number' is not an id of cluster.nodes"), strangers);
        assertTrue(strangers.contains("claims node id 2, which the member at"), strangers);

        for (int id : cluster.ids()) {
          stranger.steal(id);
        }
        impostor.steal(2);
        int before = writer.acknowledged().size();
        Await.until(TIMEOUT, "the writer has 50 more writes acknowledged while the rogues listen",
            () -> writer.acknowledged().size() >= before + 50);
        assertEquals(0, stranger.stolen() + impostor.stolen(), "a rogue consumer received a message meant for a node");
        stranger.stopStealing();
        impostor.stopStealing();

        long last = cluster.node(3).status().getLong("lastIndex");
        for (int id : cluster.ids()) {
          stranger.send(id, Rogue.claim(3, Long.MAX_VALUE));
          stranger.send(id, Rogue.claim(1, term + 1_000));
          // Fake entries right after the coordinator's last, in its own term, committed at once.
          impostor.send(id, Rogue.append(3, term, last, term, 5, last + 5));
          // An APPEND of a later term that conflicts with committed entry 1.
          impostor.send(id, Rogue.append(3, term + 1, 0, 0, 1, 1));
        }
        for (int k = 0; k < 150; k++) {
          for (int id : cluster.ids()) {
            stranger.send(id, Rogue.claim(1 + k % 3, term + 1_000_000 + k));
          }
          Thread.sleep(20);
        }
        Await.until(TIMEOUT, "every node refused the forgeries", () -> cluster.ids().stream().allMatch(id ->
            cluster.node(id).status().getJsonObject("messagesRejected").getLong("unauthenticated", 0L) >= 2 * (4 + 150)));
      }
      writer.close();

      Map<Integer, JsonObject> statuses = cluster.statuses();
      for (int id : cluster.ids()) {
        NodeProcess node = cluster.node(id);
        assertTrue(node.isAlive(), "node " + id + " is alive");
        assertTrue(cluster.logLines(id).stream().noneMatch(line -> line.contains(" stops:")), "node " + id + " did not stop itself");
        long now = statuses.get(id).getLong("term");
        assertTrue(now >= term && now < term + REAL_TERM_MOVES, "node " + id + " is in term " + now + ", from " + term);
        assertTrue(CorrectWriter.committedCopies(node).keySet().stream().noneMatch(key -> key.startsWith(Rogue.MARK)),
            "node " + id + "'s log holds a forged entry");
      }
      assertTrue(writer.acknowledged().size() >= 50, "the writer got its writes through: " + writer.acknowledged().size());
      writer.assertEachOnEveryNodeOnce(TIMEOUT);
    }
  }

  /**
   * A member of the cluster manager removes the coordinator's event-bus address from Vert.x's map
   * while a follower restarts (as a member that saw the coordinator leave late would, after a healed
   * partition merged). The follower then finds no way to the coordinator: it hears it and its
   * answers go nowhere, for good. The coordinator puts its address back, and the follower's answers
   * reach it again: it counts the follower caught up with writes made after the restart.
   */
  @Test
  void anEventBusAddressRemovedFromTheClusterManagerIsPutBack() throws Exception {
    try (LocalCluster cluster = new LocalCluster(dir, 3)) {
      cluster.startAll();
      cluster.awaitCoordinator(3, cluster.ids(), TIMEOUT);
      try (Rogue stranger = Rogue.join(cluster.config(1), "not-a-number")) {
        cluster.node(1).kill();
        Await.until(TIMEOUT, "node 1 left the cluster manager", () -> !stranger.sees(1));
        cluster.start(1);
        // Node 1 has joined the cluster manager, but it reaches the others only once its store is read and its
        // verticles run. Until it is ready the rogue keeps node 3's address out of the map: Vert.x on node 3 puts it
        // back once when it has handled node 1's leave, which can come late.
        Await.until(TIMEOUT, "node 1 joined the cluster manager again", () -> stranger.sees(1));
        AtomicBoolean ready = new AtomicBoolean();
        Thread forgetting = new Thread(() -> {
          while (!ready.get()) {
            stranger.forgetAddressOf(3);
            LockSupport.parkNanos(20_000_000);
          }
        }, "forget-node-3");
        forgetting.start();
        try {
          cluster.node(1).awaitReady(TIMEOUT);
        } finally {
          ready.set(true);
          forgetting.join();
        }
        long last = 0;
        for (int k = 0; k < 5; k++) {
          HttpResponse<String> answer = cluster.node(3).write("after-restart-" + k, "{\"k\":" + k + "}");
          assertEquals(201, answer.statusCode(), answer.body());
          last = new JsonObject(answer.body()).getLong("index");
        }
        long written = last;
        Await.until(TIMEOUT, "coordinator 3 counts node 1 caught up to index " + written, () -> {
          for (Object follower : cluster.node(3).status().getJsonArray("followers")) {
            JsonObject match = (JsonObject) follower;
            if (match.getInteger("id") == 1) {
              return match.getLong("matchIndex") >= written;
            }
          }
          return false;
        });
        assertTrue(cluster.logLines(3).stream().anyMatch(line -> line.contains("was missing in the cluster manager's map")),
            "node 3 logged that it put its address back");
      }
    }
  }
}
