package dev.bully.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bully.tools.Await;
import dev.bully.tools.LocalCluster;
import dev.bully.tools.NodeProcess;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.file.FileSystemOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.FindOptions;
import io.vertx.ext.mongo.MongoClient;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Compaction and snapshots on three real nodes that keep only 500 applied entries: a node that was
 * down while thousands of entries came and went catches up from a snapshot of the coordinator's
 * documents; so does a node whose data folder is gone (a new node). Afterwards every node's own
 * MongoDB, read with a MongoDB client, holds the same documents, and a read of compacted log
 * entries is answered 410 with where the log now begins.
 */
@ExtendWith(NodeLogsOnFailure.class)
class SnapshotIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(60);
  private static final int RETAIN = 500;

  @TempDir
  static Path dir;
  static LocalCluster cluster;
  static Vertx vertx;

  @BeforeAll
  static void startCluster() {
    cluster = new LocalCluster(dir, 3, new JsonObject().put("log", new JsonObject().put("retainEntries", RETAIN))
        .put("data", new JsonObject().put("writesCollection", true)));
    cluster.startAll();
    cluster.awaitCoordinator(3, cluster.ids(), TIMEOUT);
    vertx = Vertx.vertx(new VertxOptions().setFileSystemOptions(
        new FileSystemOptions().setClassPathResolvingEnabled(false).setFileCachingEnabled(false)));
  }

  @AfterAll
  static void stopCluster() {
    cluster.close();
    vertx.close();
  }

  private static HttpResponse<String> send(int node, String method, String path, String body) {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(cluster.node(node).baseUrl() + path))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) {
      request.header("Content-Type", "application/json");
    }
    return cluster.node(node).send(request);
  }

  private static long ok(HttpResponse<String> response) {
    assertTrue(response.statusCode() == 200 || response.statusCode() == 201, response.statusCode() + " " + response.body());
    return new JsonObject(response.body()).getLong("index");
  }

  /** Puts, conditional puts, deletes and appends through the coordinator: well past what the log keeps. */
  private static long writeWhile(int rounds) {
    long last = 0;
    for (int i = 0; i < rounds; i++) {
      last = ok(send(3, "PUT", "/api/collections/people/docs/p" + (i % 40), "{\"round\":" + i + "}"));
      if (i % 7 == 0) {
        last = ok(send(3, "POST", "/api/writes", "{\"round\":" + i + "}"));
      }
      if (i % 11 == 0) {
        HttpResponse<String> deleted = send(3, "DELETE", "/api/collections/people/docs/p" + ((i + 3) % 40), null);
        assertTrue(deleted.statusCode() == 200 || deleted.statusCode() == 404, deleted.body());
      }
      if (i % 13 == 0) {
        send(3, "PUT", "/api/collections/orders/docs/o" + (i % 5), "{\"total\":" + i + "}");
      }
    }
    return last;
  }

  /** Every collection of node {@code id}'s own MongoDB, read with a MongoDB client. */
  private static Map<String, List<JsonObject>> storeDocuments(int id) throws Exception {
    String line = cluster.logLines(id).stream().filter(l -> l.contains("serving at mongodb://")).reduce((a, b) -> b).orElseThrow();
    String connection = line.substring(line.indexOf("mongodb://"), line.indexOf(' ', line.indexOf("mongodb://")));
    MongoClient client = MongoClient.create(vertx, new JsonObject().put("connection_string", connection).put("db_name", "bully_data"));
    try {
      Map<String, List<JsonObject>> all = new TreeMap<>();
      for (String collection : client.getCollections().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS)) {
        all.put(collection, client.findWithOptions(collection, new JsonObject(), new FindOptions().setSort(new JsonObject().put("_id", 1)))
            .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS));
      }
      return all;
    } finally {
      client.close();
    }
  }

  private static void awaitApplied(int id, long index) {
    Await.until(TIMEOUT, "node " + id + " applied index " + index, () -> cluster.node(id).status().getLong("appliedIndex") >= index);
  }

  @Test
  void aNodeBehindTheCompactedLogAndANewNodeCatchUpFromSnapshots() throws Exception {
    writeWhile(50);
    cluster.node(1).kill();
    long last = writeWhile(1_500);
    JsonObject coordinator = cluster.node(3).status();
    assertTrue(coordinator.getLong("firstIndex") > 1000, "the coordinator compacted its log: " + coordinator);

    NodeProcess returning = cluster.start(1);
    returning.awaitReady(TIMEOUT);
    awaitApplied(1, last);
    // The swap's line is written before the applied index moves (the protocol's "installed" line may come a moment after).
    assertTrue(cluster.logLines(1).stream().anyMatch(l -> l.contains("Installed a snapshot of the documents up to entry")),
        "node 1 caught up from a snapshot");
    for (int id : List.of(1, 2, 3)) {
      awaitApplied(id, last);
    }
    Map<String, List<JsonObject>> expected = storeDocuments(3);
    assertTrue(expected.get("people").size() > 20 && expected.containsKey("orders") && expected.containsKey("writes"), expected.keySet()
        .toString());
    assertEquals(expected, storeDocuments(1), "node 1 holds the coordinator's documents");
    assertEquals(expected, storeDocuments(2));

    HttpResponse<String> compacted = send(1, "GET", "/api/writes?from=1&limit=10", null);
    assertEquals(410, compacted.statusCode(), compacted.body());
    JsonObject gone = new JsonObject(compacted.body());
    assertEquals("compacted", gone.getString("error"));
    long firstIndex = gone.getLong("firstIndex");
    assertEquals(200, send(1, "GET", "/api/writes?from=" + firstIndex + "&limit=10", null).statusCode(),
        "the log reads on from where it begins");

    // A new node: node 2 without its data folder.
    cluster.node(2).kill();
    dev.bully.node.FileTrees.delete(cluster.dataDir(2));
    assertTrue(!Files.exists(cluster.dataDir(2)));
    last = writeWhile(200);
    cluster.start(2).awaitReady(TIMEOUT);
    awaitApplied(2, last);
    awaitApplied(1, last);
    expected = storeDocuments(3);
    assertEquals(expected, storeDocuments(2), "a new node holds the coordinator's documents");
    assertEquals(expected, storeDocuments(1));

    // Node 1 reads every document by id (its cache keeps them), is paused while the log moves on past what it
    // keeps, and installs a snapshot when it resumes: it must not answer a document it cached before the install.
    readEachById(1);
    cluster.node(1).pause();
    last = writeWhile(1_500);
    cluster.node(1).resume();
    awaitApplied(1, last);
    assertEquals(2, cluster.logLines(1).stream().filter(l -> l.contains("Installed a snapshot of the documents up to entry")).count(),
        "node 1 caught up from a second snapshot");
    expected = storeDocuments(3);
    assertEquals(expected.get("people"), storeDocuments(1).get("people"), "node 1's store holds the coordinator's documents");
    Map<String, JsonObject> byId = new TreeMap<>();
    expected.get("people").forEach(doc -> byId.put(doc.getString("_id"), doc));
    assertEquals(byId, readEachById(1), "node 1 answers each document by id as the coordinator's store holds it");
  }

  /** The documents p0 to p39 of {@code people}, read by id on node {@code id}: those it has, by id. */
  private static Map<String, JsonObject> readEachById(int id) {
    Map<String, JsonObject> found = new TreeMap<>();
    for (int i = 0; i < 40; i++) {
      HttpResponse<String> read = send(id, "GET", "/api/collections/people/docs/p" + i, null);
      assertTrue(read.statusCode() == 200 || read.statusCode() == 404, read.body());
      if (read.statusCode() == 200) {
        found.put("p" + i, new JsonObject(read.body()).getJsonObject("document"));
      }
    }
    return found;
  }
}
