package dev.bully.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.bully.apply.ApplyRules;
import dev.bully.apply.ApplyRules.Key;
import dev.bully.store.EmbeddedMongo;
import dev.bully.store.NodeStore;
import dev.bully.store.StoreSync;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The documents of a real embedded store, through the real MongoDB client, and the cache in front of their reads by id. */
class DocumentsTest {
  @TempDir
  Path dir;

  private Vertx vertx;
  private EmbeddedMongo mongo;
  private NodeStore store;
  private MongoClient direct;

  @BeforeEach
  void open() throws Exception {
    vertx = Vertx.vertx();
    mongo = EmbeddedMongo.start(dir, StoreSync.FSYNC);
    store = await(NodeStore.open(vertx, Optional.empty(), "bully", mongo, StoreSync.FSYNC, dir.resolve("log")));
    direct = MongoClient.create(vertx, new JsonObject().put("connection_string", mongo.connectionString())
        .put("db_name", NodeStore.dataDatabase("bully")).put("useObjectId", false));
  }

  @AfterEach
  void close() throws Exception {
    direct.close();
    store.close();
    mongo.close();
    await(vertx.close());
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private void write(List<Operation> ops, long... indexes) throws Exception {
    write(Map.of(), ops, indexes);
  }

  /** Writes {@code ops} as the applier does, decided against {@code stored}: what the store held of their documents. */
  private void write(Map<Key, ApplyRules.Stored> stored, List<Operation> ops, long... indexes) throws Exception {
    ApplyRules.Batch batch = ApplyRules.apply(ops, indexes, stored);
    Map<Key, JsonObject> docs = new HashMap<>();
    ApplyRules.writers(ops, indexes, batch).forEach((key, op) -> docs.put(key, op.doc()));
    await(store.documents().write(batch, docs));
  }

  /** A read by id answered from the cache is, to the byte, what the store itself answers. */
  @Test
  void aCachedDocumentIsWhatTheStoreAnswers() throws Exception {
    String fields = "{\"name\":\"Ada\",\"_id\":\"ignored\",\"_version\":1,\"born\":1815,\"big\":12345678901,\"ratio\":1.5,"
        + "\"whole\":2.0,\"none\":null,\"yes\":true,\"text\":\"é \\\" \\\\ \\u0001\",\"nested\":{\"list\":[1,\"two\",[3],{\"four\":4}]},"
        + "\"empty\":{},\"nothing\":[]}";
    write(List.of(Operation.put("people", "ada", new JsonObject(fields), Operation.ANY)), 5);
    JsonObject cached = await(store.documents().get("people", "ada"));
    JsonObject stored = await(direct.findOne("people", new JsonObject().put("_id", "ada"), null));
    assertEquals(stored.encode(), cached.encode());
    assertEquals(5L, cached.getLong(Documents.VERSION));
  }

  @Test
  void aReadThatMissedFillsTheCacheAndTheApplierKeepsItCurrent() throws Exception {
    await(direct.insert("people", new JsonObject().put("_id", "bob").put("n", 1).put(Documents.VERSION, 3L)));
    JsonObject first = await(store.documents().get("people", "bob"));
    assertSame(first, await(store.documents().get("people", "bob")), "the second read is answered from the cache");

    write(List.of(Operation.put("people", "bob", new JsonObject().put("n", 2), Operation.ANY)), 4);
    assertEquals(2, await(store.documents().get("people", "bob")).getInteger("n"), "the applier's write replaced the cached one");
    write(Map.of(new Key("people", "bob"), new ApplyRules.Stored(4, 0)), List.of(Operation.delete("people", "bob", Operation.ANY)), 5);
    assertNull(await(store.documents().get("people", "bob")), "a delete leaves nothing to answer");

    await(direct.insert("people", new JsonObject().put("_id", "cy").put(Documents.VERSION, 6L)));
    await(store.documents().get("people", "cy"));
    store.documents().replaced(); // a snapshot's documents took the place of these
    await(direct.removeDocument("people", new JsonObject().put("_id", "cy")));
    assertNull(await(store.documents().get("people", "cy")), "after a snapshot's swap the store is read again");
  }
}
