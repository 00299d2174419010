package dev.bully.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.BulkOperation;
import io.vertx.ext.mongo.MongoClient;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code renameCollection} on the embedded store, through the real MongoDB client, as a snapshot's
 * swap uses it: a staged collection renamed over a dropped live one must keep its documents and its
 * {@code _id} index under the new name, across a restart of the store, and a collection staged
 * again under the old name must start empty.
 */
class EmbeddedMongoRenameTest {
  @TempDir
  Path dir;

  private Vertx vertx;
  private EmbeddedMongo mongo;
  private MongoClient client;

  @BeforeEach
  void open() {
    vertx = Vertx.vertx();
    start();
  }

  private void start() {
    mongo = EmbeddedMongo.start(dir, StoreSync.FSYNC);
    client = MongoClient.create(vertx, new JsonObject().put("connection_string", mongo.connectionString())
        .put("db_name", "data").put("useObjectId", false));
  }

  private void restart() throws Exception {
    await(client.close());
    mongo.close();
    start();
  }

  @AfterEach
  void close() throws Exception {
    await(client.close());
    mongo.close();
    await(vertx.close());
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private void fill(String collection, String value, int count) throws Exception {
    List<BulkOperation> inserts = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      inserts.add(BulkOperation.createInsert(new JsonObject().put("_id", "d" + i).put("value", value)));
    }
    await(client.bulkWrite(collection, inserts));
  }

  private String valueOf(String collection, String id) throws Exception {
    JsonObject doc = await(client.findOne(collection, new JsonObject().put("_id", id), null));
    return doc == null ? null : doc.getString("value");
  }

  /** A staged collection renamed over the live one, twice, as two snapshot installs in a row do. */
  private void install(String value) throws Exception {
    fill("_staged", value, 300);
    if (await(client.getCollections()).contains("live")) {
      await(client.dropCollection("live"));
    }
    await(client.renameCollection("_staged", "live"));
  }

  @Test
  void aRenamedCollectionKeepsItsDocumentsAndItsIndexUnderItsNewName() throws Exception {
    install("first");
    install("second"); // staged under the old name again: a shared index would refuse every id as a duplicate
    assertEquals("second", valueOf("live", "d7"), "found by id");
    assertEquals(300, await(client.count("live", new JsonObject())));
    assertFalse(await(client.getCollections()).contains("_staged"));
    mongo.commit();

    restart();
    assertEquals(300, await(client.count("live", new JsonObject())), "the documents after a restart");
    assertEquals("second", valueOf("live", "d299"), "found by id after a restart");
    assertNotNull(valueOf("live", "d0"));
    fill("_staged", "third", 3);
    assertEquals(3, await(client.count("_staged", new JsonObject())), "the old name starts empty");
    assertEquals("second", valueOf("live", "d1"), "and the renamed collection keeps its own");
  }
}
