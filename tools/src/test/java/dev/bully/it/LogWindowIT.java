package dev.bully.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bully.tools.Await;
import dev.bully.tools.LocalCluster;
import dev.bully.tools.NodeProcess;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three real nodes that keep only 20 entries of their log in memory: a follower that was down while
 * 300 writes committed catches up from the coordinator's store, every node serves the whole log
 * from its store, an old write's retry is still recognized, and a restarted node reads back only
 * its log's tail.
 */
@ExtendWith(NodeLogsOnFailure.class)
class LogWindowIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(60);
  private static final int WRITES = 300;

  @TempDir
  static Path dir;
  static LocalCluster cluster;

  @BeforeAll
  static void startCluster() {
    cluster = new LocalCluster(dir, 3, new JsonObject()
        .put("log", new JsonObject().put("memoryEntries", 20).put("idempotencyKeys", 1000)));
    cluster.startAll();
    cluster.awaitCoordinator(3, cluster.ids(), TIMEOUT);
  }

  @AfterAll
  static void stopCluster() {
    cluster.close();
  }

  @Test
  void followersCatchUpAndReadersReadFromTheStoreOnceEntriesLeftMemory() {
    assertEquals(143, cluster.node(1).terminate(TIMEOUT));
    List<Long> indexes = new ArrayList<>();
    for (int n = 0; n < WRITES; n++) {
      HttpResponse<String> response = cluster.node(3).write("window-" + n, "{\"n\":" + n + "}");
      assertEquals(201, response.statusCode(), response.body());
      indexes.add(new JsonObject(response.body()).getLong("index"));
    }
    long last = indexes.get(WRITES - 1);

    // Node 1 lacks 300 entries, of which all but the newest 20 are only in the coordinator's store.
    cluster.start(1).awaitReady(LocalCluster.READY_TIMEOUT);
    Await.until(TIMEOUT, "node 1 has committed index " + last, () -> cluster.node(1).status().getLong("commitIndex") >= last);
    JsonArray reference = committedLog(3);
    for (int id : cluster.ids()) {
      JsonArray entries = id == 3 ? reference : committedLog(id);
      assertEquals(reference, entries, "node " + id + " holds the coordinator's committed log");
      for (int n = 0; n < WRITES; n++) {
        JsonObject entry = entries.getJsonObject((int) (indexes.get(n) - 1));
        assertEquals(n, entry.getJsonObject("data").getInteger("n"));
        assertEquals("window-" + n, entry.getString("requestId"));
      }
      JsonObject first = new JsonObject(cluster.node(id).get("/api/writes/" + indexes.get(0)).body());
      assertEquals(0, first.getJsonObject("data").getInteger("n"), "one old entry, read from node " + id + "'s store");
    }

    // The first write left memory long ago; its key is still remembered.
    HttpResponse<String> retry = cluster.node(3).write("window-0", "{\"n\":0}");
    assertEquals(201, retry.statusCode(), retry.body());
    assertEquals(indexes.get(0), new JsonObject(retry.body()).getLong("index"));

    // A restart reads the terms of every entry and the keys, but only the newest entries.
    assertEquals(143, cluster.node(2).terminate(TIMEOUT));
    cluster.start(2).awaitReady(LocalCluster.READY_TIMEOUT);
    Matcher restored = Pattern.compile("and its log: last index (\\d+), (\\d+) entries in memory").matcher(
        String.join("\n", cluster.logLines(2)));
    String lastRestore = null;
    long inMemory = -1;
    while (restored.find()) {
      lastRestore = restored.group(1);
      inMemory = Long.parseLong(restored.group(2));
    }
    assertTrue(lastRestore != null && Long.parseLong(lastRestore) >= last && inMemory < 100,
        "node 2 restored " + inMemory + " of " + lastRestore + " entries into memory");
    Await.until(TIMEOUT, "node 2 has committed index " + last, () -> cluster.node(2).status().getLong("commitIndex") >= last);
    assertEquals(reference, committedLog(2).stream().limit(reference.size()).collect(JsonArray::new, JsonArray::add, JsonArray::addAll));
    for (int id : cluster.ids()) {
      assertTrue(cluster.logLines(id).stream().noneMatch(line -> line.contains("could not read entries")),
          "node " + id + " read every entry it needed from its store");
    }
  }

  /** Node {@code id}'s committed entries from index 1, paging through the read API. */
  private static JsonArray committedLog(int id) {
    NodeProcess node = cluster.node(id);
    JsonArray all = new JsonArray();
    while (true) {
      JsonArray page = new JsonObject(node.get("/api/writes?from=" + (all.size() + 1) + "&limit=100").body())
          .getJsonArray("entries");
      if (page.isEmpty()) {
        return all;
      }
      page.forEach(all::add);
    }
  }
}
