package dev.bully.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.bully.apply.ApplyRules;
import dev.bully.apply.ApplyRules.Key;
import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DocumentCacheTest {
  private static final Key ADA = new Key("people", "ada");

  /** What the applier hands the cache once the store acknowledged {@code ops} at {@code indexes}. */
  private static void apply(DocumentCache cache, List<Operation> ops, long... indexes) {
    apply(cache, Map.of(), ops, indexes);
  }

  /** The same, decided against {@code stored}: what the store held of the documents before. */
  private static void apply(DocumentCache cache, Map<Key, ApplyRules.Stored> stored, List<Operation> ops, long... indexes) {
    ApplyRules.Batch batch = ApplyRules.apply(ops, indexes, stored);
    Map<Key, JsonObject> docs = new HashMap<>();
    ApplyRules.writers(ops, indexes, batch).forEach((key, op) -> docs.put(key, op.doc()));
    cache.written(batch, docs);
  }

  private static Operation put(String id, String json) {
    return Operation.put("people", id, new JsonObject(json), Operation.ANY);
  }

  @Test
  void whatTheApplierWroteIsCachedAsTheStoreHoldsItAndADeleteDropsIt() {
    DocumentCache cache = new DocumentCache(1 << 20);
    apply(cache, List.of(put("ada", "{\"name\":\"Ada\",\"_id\":\"other\",\"born\":1815}")), 7);
    assertEquals("{\"_id\":\"ada\",\"name\":\"Ada\",\"born\":1815,\"_version\":7}", cache.get(ADA).encode());
    apply(cache, Map.of(ADA, new ApplyRules.Stored(7, 0)), List.of(Operation.delete("people", "ada", Operation.ANY)), 8);
    assertNull(cache.get(ADA), "a deleted document is not answered from the cache");
  }

  /**
   * A read of the store that began before the applier wrote a newer version, and whose answer came
   * after, must not put its older version in the cache: the stamp taken before the read has moved.
   */
  @Test
  void aReadThatBeganBeforeAnApplyDoesNotCacheWhatItFound() {
    DocumentCache cache = new DocumentCache(1 << 20);
    long readBegan = cache.stamp();
    apply(cache, List.of(put("ada", "{\"v\":2}")), 2);
    cache.fill(ADA, new JsonObject().put("_id", "ada").put("v", 1).put(Documents.VERSION, 1L), readBegan);
    assertEquals(2L, cache.get(ADA).getLong(Documents.VERSION), "the applied version stays");

    DocumentCache evicting = new DocumentCache(1 << 20);
    readBegan = evicting.stamp();
    apply(evicting, List.of(put("ada", "{\"v\":2}")), 2);
    evicting.clear(); // as if the applied version had left the cache again before the read's answer came
    evicting.fill(ADA, new JsonObject().put("_id", "ada").put("v", 1).put(Documents.VERSION, 1L), readBegan);
    assertNull(evicting.get(ADA), "an answer older than an apply is never cached, even once the applied version left");

    long quiet = evicting.stamp();
    evicting.fill(ADA, new JsonObject().put("_id", "ada").put("v", 2).put(Documents.VERSION, 2L), quiet);
    assertEquals(2L, evicting.get(ADA).getLong(Documents.VERSION), "a read with nothing applied meanwhile is cached");
  }

  @Test
  void itKeepsToItsBytesTheLeastRecentlyUsedLeavingFirstAndSkipsLargeDocumentsAndAppends() {
    DocumentCache cache = new DocumentCache(64 * 1024);
    String filler = "x".repeat(200);
    for (int i = 0; i < 1_000; i++) {
      apply(cache, List.of(put("d" + i, "{\"f\":\"" + filler + "\"}")), i + 1);
      assertNotNull(cache.get(new Key("people", "d0")), "the most recently read document stays (" + i + ")");
    }
    assertNull(cache.get(new Key("people", "d1")), "the least recently used left");
    assertNotNull(cache.get(new Key("people", "d999")));

    apply(cache, List.of(put("big", "{\"f\":\"" + "y".repeat(2_000) + "\"}")), 2_000);
    assertNull(cache.get(new Key("people", "big")), "a document larger than a 64th of the cache is not kept");

    Operation append = new Operation(Operation.Kind.APPEND, Operation.WRITES, 2_001L, new JsonObject().put("a", 1), Operation.ANY);
    apply(cache, List.of(append), 2_001);
    assertNull(cache.get(new Key(Operation.WRITES, 2_001L)), "appends are not kept");

    DocumentCache off = new DocumentCache(0);
    apply(off, List.of(put("ada", "{}")), 1);
    off.fill(ADA, new JsonObject().put("_id", "ada"), off.stamp());
    assertNull(off.get(ADA), "data.cacheMegabytes 0 keeps nothing");
  }
}
