package dev.bully.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bully.core.Message;
import dev.bully.core.SnapshotItem;
import dev.bully.core.SnapshotStep;
import dev.bully.driver.Storage.SnapshotRead;
import dev.bully.store.EmbeddedMongo;
import dev.bully.store.NodeStore;
import dev.bully.store.StoreSync;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Snapshots between two real embedded stores, through the real MongoDB client: a coordinator's
 * documents read chunk by chunk, installed on a follower by staging and swapping, and a swap that a
 * crash cut short finished by the next start.
 */
class SnapshotsTest {
  @TempDir
  Path coordinatorDir;
  @TempDir
  Path followerDir;

  private Vertx vertx;
  private EmbeddedMongo coordinatorMongo;
  private EmbeddedMongo followerMongo;
  private NodeStore coordinator;
  private NodeStore follower;
  private final List<long[]> resumed = new ArrayList<>();

  @BeforeEach
  void open() throws Exception {
    vertx = Vertx.vertx();
    coordinatorMongo = EmbeddedMongo.start(coordinatorDir, StoreSync.FSYNC);
    followerMongo = EmbeddedMongo.start(followerDir, StoreSync.FSYNC);
    coordinator = await(NodeStore.open(vertx, Optional.empty(), "bully", coordinatorMongo, StoreSync.FSYNC, coordinatorDir.resolve("log")));
    follower = await(NodeStore.open(vertx, Optional.empty(), "bully", followerMongo, StoreSync.FSYNC, followerDir.resolve("log")));
    coordinator.snapshots().applier(applier(42));
    follower.snapshots().applier(applier(0));
  }

  @AfterEach
  void close() throws Exception {
    coordinator.close();
    follower.close();
    coordinatorMongo.close();
    followerMongo.close();
    await(vertx.close());
  }

  private Snapshots.Applier applier(long reflectsUpTo) {
    return new Snapshots.Applier() {
      @Override
      public Future<Void> pauseForSwap() {
        return Future.succeededFuture();
      }

      @Override
      public void resumeAfterSwap(long applied, long consistentAt) {
        resumed.add(new long[] {applied, consistentAt});
      }

      @Override
      public long reflectsUpTo() {
        return reflectsUpTo;
      }

      @Override
      public long durableAppliedIndex() {
        return 0;
      }
    };
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private <T> T on(EmbeddedMongo mongo, String database, java.util.function.Function<MongoClient, Future<T>> use) throws Exception {
    MongoClient client = MongoClient.create(vertx, new JsonObject()
        .put("connection_string", mongo.connectionString()).put("db_name", database).put("useObjectId", false));
    try {
      return await(use.apply(client));
    } finally {
      client.close();
    }
  }

  /** Every collection of a store's documents, each document as a client reads it, and the tombstones. */
  private Map<String, List<JsonObject>> contents(EmbeddedMongo mongo) throws Exception {
    Map<String, List<JsonObject>> all = new TreeMap<>();
    for (String collection : on(mongo, "bully_data", MongoClient::getCollections)) {
      List<JsonObject> docs = new ArrayList<>(on(mongo, "bully_data", c -> c.find(collection, new JsonObject())));
      docs.sort((a, b) -> a.getValue("_id").toString().compareTo(b.getValue("_id").toString()));
      all.put(collection, docs);
    }
    List<JsonObject> tombstones = new ArrayList<>(on(mongo, "bully", c -> c.find("tombstones", new JsonObject())));
    tombstones.sort((a, b) -> a.getString("_id").compareTo(b.getString("_id")));
    all.put("(tombstones)", tombstones);
    return all;
  }

  private void coordinatorHolds() throws Exception {
    on(coordinatorMongo, "bully_data", c -> {
      Future<?> all = Future.succeededFuture();
      for (int i = 0; i < 120; i++) { // more than one query's ids (SnapshotReader.IN_IDS)
        JsonObject user = new JsonObject().put("_id", "u" + i).put("_version", 100L + i).put("name", "user " + i)
            .put("tags", new io.vertx.core.json.JsonArray().add("a").add(i));
        all = all.compose(v -> c.insert("users", user));
      }
      return all.compose(v -> c.insert("orders", new JsonObject().put("_id", "o1").put("_version", 7L).put("total", 12.5)))
          .compose(v -> c.insert("writes", new JsonObject().put("_id", 3L).put("_version", 3L).put("hello", "world")));
    });
    on(coordinatorMongo, "bully", c -> c.insert("tombstones", new JsonObject().put("_id", "users/gone").put("version", 150L)));
  }

  /** The chunks of one snapshot read, small so that there are several. */
  private List<SnapshotRead> readAll(long index) throws Exception {
    List<SnapshotRead> chunks = new ArrayList<>();
    for (long seq = 0; chunks.isEmpty() || !chunks.get(chunks.size() - 1).last(); seq++) {
      chunks.add(await(coordinator.snapshots().read(2, index, seq, 200)));
      assertEquals(chunks.get((int) seq), await(coordinator.snapshots().read(2, index, seq, 200)), "a repeated pull gets the same chunk");
      assertTrue(seq < 1000, "a snapshot read ends");
    }
    return chunks;
  }

  private static SnapshotStep step(long index, long seq, SnapshotRead read) {
    return new SnapshotStep(index, new Message.SnapshotChunk(3, 1, index, seq, read.items(), read.last(), read.consistentAt()));
  }

  @Test
  void aFollowerInstallsWhatTheCoordinatorHoldsAndWhatItHeldBeforeGoes() throws Exception {
    coordinatorHolds();
    on(followerMongo, "bully_data", c -> c.insert("stale", new JsonObject().put("_id", "x").put("_version", 1L)));
    List<SnapshotRead> chunks = readAll(20);
    assertTrue(chunks.size() > 3, "small chunks: " + chunks.size());
    assertEquals(42, chunks.get(chunks.size() - 1).consistentAt(), "the last chunk says how far the documents read may reach");

    await(follower.snapshots().install(SnapshotStep.begin(20)));
    for (int seq = 0; seq < chunks.size(); seq++) {
      await(follower.snapshots().install(step(20, seq, chunks.get(seq))));
    }
    assertEquals(contents(coordinatorMongo), contents(followerMongo), "the same documents, versions and tombstones");
    assertEquals(new Documents.Applied(20, 42, 20), await(follower.documents().applied()));
    assertEquals(1, resumed.size());
  }

  /**
   * A second install over the documents a first one put there: the store must then hold the second
   * snapshot's documents, found by id as well as by a scan, and still after the store restarted.
   */
  @Test
  void aSecondInstallReplacesTheFirstsDocuments() throws Exception {
    coordinatorHolds();
    install(20, readAll(20));
    on(coordinatorMongo, "bully_data", c -> c.replaceDocuments("users", new JsonObject().put("_id", "u1"),
        new JsonObject().put("_id", "u1").put("_version", 300L).put("name", "renamed")));
    install(30, readAll(30));
    assertEquals(contents(coordinatorMongo), contents(followerMongo), "the second snapshot's documents");
    JsonObject u1 = on(followerMongo, "bully_data", c -> c.findOne("users", new JsonObject().put("_id", "u1"), null));
    assertEquals(300L, u1.getLong("_version"), "found by id: " + u1);

    follower.close();
    followerMongo.close();
    followerMongo = EmbeddedMongo.start(followerDir, StoreSync.FSYNC);
    follower = await(NodeStore.open(vertx, Optional.empty(), "bully", followerMongo, StoreSync.FSYNC, followerDir.resolve("log")));
    assertEquals(contents(coordinatorMongo), contents(followerMongo), "after a restart");
    u1 = on(followerMongo, "bully_data", c -> c.findOne("users", new JsonObject().put("_id", "u1"), null));
    assertEquals(300L, u1 == null ? null : u1.getLong("_version"), "found by id after a restart: " + u1);
  }

  /** More documents than one insert of the swap's copy takes: the copy goes on batch after batch, and misses none. */
  @Test
  void aSwapCopiesCollectionsLargerThanOneBatch() throws Exception {
    on(coordinatorMongo, "bully_data", c -> {
      List<io.vertx.ext.mongo.BulkOperation> inserts = new ArrayList<>();
      for (int i = 0; i < 2_500; i++) {
        inserts.add(io.vertx.ext.mongo.BulkOperation.createInsert(new JsonObject().put("_id", "d" + i).put("_version", 1L + i).put("n", i)));
      }
      return c.bulkWrite("many", inserts);
    });
    on(followerMongo, "bully_data", c -> c.insert("many", new JsonObject().put("_id", "stale").put("_version", 1L)));
    List<SnapshotRead> chunks = new ArrayList<>();
    for (long seq = 0; chunks.isEmpty() || !chunks.get(chunks.size() - 1).last(); seq++) {
      chunks.add(await(coordinator.snapshots().read(2, 3_000, seq, Snapshots.CHUNK_CHARS)));
    }
    install(3_000, chunks);
    Map<String, List<JsonObject>> copied = contents(followerMongo);
    assertEquals(2_500, copied.get("many").size());
    assertEquals(contents(coordinatorMongo), copied);
  }

  private void install(long index, List<SnapshotRead> chunks) throws Exception {
    await(follower.snapshots().install(SnapshotStep.begin(index)));
    for (int seq = 0; seq < chunks.size(); seq++) {
      await(follower.snapshots().install(step(index, seq, chunks.get(seq))));
    }
  }

  @Test
  void anInstallCutShortLeavesTheDocumentsAsTheyWereAndTheNextBeginsAgain() throws Exception {
    coordinatorHolds();
    on(followerMongo, "bully_data", c -> c.insert("users", new JsonObject().put("_id", "mine").put("_version", 5L)));
    Map<String, List<JsonObject>> before = contents(followerMongo);
    List<SnapshotRead> chunks = readAll(20);
    await(follower.snapshots().install(SnapshotStep.begin(20)));
    await(follower.snapshots().install(step(20, 0, chunks.get(0))));
    await(follower.snapshots().install(step(20, 1, chunks.get(1))));
    Map<String, List<JsonObject>> live = contents(followerMongo);
    live.keySet().removeIf(name -> name.startsWith(Snapshots.STAGED_PREFIX));
    assertEquals(before, live, "the staged chunks are apart from the documents");

    await(follower.snapshots().install(SnapshotStep.begin(20)));
    assertEquals(before, contents(followerMongo), "a new install drops what the one before staged");
    for (int seq = 0; seq < chunks.size(); seq++) {
      await(follower.snapshots().install(step(20, seq, chunks.get(seq))));
    }
    assertEquals(contents(coordinatorMongo), contents(followerMongo));
  }

  @Test
  void chunksOfAnInstallThatNeverReachedItsSwapAreDroppedAtTheNextStart() throws Exception {
    coordinatorHolds();
    Map<String, List<JsonObject>> before = contents(followerMongo);
    List<SnapshotRead> chunks = readAll(20);
    await(follower.snapshots().install(SnapshotStep.begin(20)));
    await(follower.snapshots().install(step(20, 0, chunks.get(0))));
    assertNotEquals(before, contents(followerMongo), "chunk 0 is staged");

    await(follower.snapshots().finishSwapIfMarked());
    assertEquals(before, contents(followerMongo), "nothing staged is left in the node's databases");
    assertFalse(on(followerMongo, "bully", MongoClient::getCollections).contains(Snapshots.STAGED_TOMBSTONES));
  }

  @Test
  void aSwapThatAStopCutShortIsFinishedByTheNextStart() throws Exception {
    coordinatorHolds();
    List<SnapshotRead> chunks = readAll(20);
    await(follower.snapshots().install(SnapshotStep.begin(20)));
    for (int seq = 0; seq < chunks.size() - 1; seq++) {
      await(follower.snapshots().install(step(20, seq, chunks.get(seq))));
    }
    // The last chunk staged, then the mark; then the stop came in the middle of the swap, with the live users holding
    // something other than what was staged (one document of it), and the staged users not yet renamed over them.
    SnapshotRead last = chunks.get(chunks.size() - 1);
    List<SnapshotItem> lastItems = last.items();
    await(follower.snapshots().install(step(20, chunks.size() - 1, new SnapshotRead(lastItems, false, 0))));
    on(followerMongo, "bully", c -> c.insert("meta", new JsonObject().put("_id", "install").put("index", 20L).put("consistentAt", 42L)
        .put("collections", new io.vertx.core.json.JsonArray().add("orders").add("users").add("writes")).put("tombstones", true)));
    JsonObject first = on(followerMongo, "bully_data", c -> c.findOne(Snapshots.STAGED_PREFIX + "users", new JsonObject(), null));
    on(followerMongo, "bully_data", c -> c.dropCollection("users").compose(v -> c.insert("users", first)));

    await(follower.snapshots().finishSwapIfMarked());
    assertEquals(contents(coordinatorMongo), contents(followerMongo));
    assertEquals(new Documents.Applied(20, 42, 20), await(follower.documents().applied()));
    JsonObject mark = on(followerMongo, "bully", c -> c.findOne("meta", new JsonObject().put("_id", "install"), null));
    assertEquals(null, mark, "the mark goes once the swap is done");
    await(follower.snapshots().finishSwapIfMarked()); // nothing left to do
    assertEquals(contents(coordinatorMongo), contents(followerMongo));
  }
}
