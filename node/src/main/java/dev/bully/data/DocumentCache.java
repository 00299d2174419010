package dev.bully.data;

import dev.bully.apply.ApplyRules;
import dev.bully.apply.ApplyRules.Key;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The documents this node read or applied lately, as its MongoDB holds them, so that a read of one
 * document by id is answered from memory rather than by a query over loopback to the store (the
 * MongoDB driver and Netty were two thirds of a local read's CPU). At most {@code maxBytes} of
 * them (estimated), the least recently used leaving first; documents larger than a 64th of that,
 * and appends, are not kept.
 *
 * <p>It never holds an older state than the store's. The applier is the only writer of the
 * documents: once the store acknowledged a batch, it puts what the batch wrote here (or removes
 * it), before its applied index moves on. A read that missed fills the cache with what the store
 * answered only if nothing was applied between the moment it asked and the fill ({@link #stamp});
 * otherwise what it read may be older than what the applier put meanwhile. Both happen under this
 * object's lock, so a fill can never land after an applier's put that it should have lost to.
 */
public final class DocumentCache {
  /** {@code data.cacheMegabytes}'s default. */
  public static final int DEFAULT_MEGABYTES = 16;

  /** A cached document and what it costs, about. */
  private record Cached(JsonObject doc, long bytes) {
  }

  private final long maxBytes;
  private final long maxDocBytes;
  private final LinkedHashMap<Key, Cached> docs = new LinkedHashMap<>(1024, 0.75f, true);
  private long bytes;
  /** Moves on with every change the applier makes, and when the cache is emptied. */
  private long stamp;
  private long hits;
  private long misses;

  public DocumentCache(long maxBytes) {
    this.maxBytes = maxBytes;
    this.maxDocBytes = maxBytes / 64;
  }

  /** The document as the store holds it now, or null when it is not cached (absent or unknown). */
  public synchronized JsonObject get(Key key) {
    Cached cached = docs.get(key);
    if (cached == null) {
      misses++;
      return null;
    }
    hits++;
    return cached.doc();
  }

  /** Reads answered from the cache so far. */
  public synchronized long hits() {
    return hits;
  }

  /** Reads the cache could not answer so far (the store answered them). */
  public synchronized long misses() {
    return misses;
  }

  /** What the cached documents take, as estimated. */
  public synchronized long bytes() {
    return bytes;
  }

  /** Taken before a read of the store, for {@link #fill}. */
  public synchronized long stamp() {
    return stamp;
  }

  /** What a read of the store that began at {@code stampBefore} found; kept only if nothing was applied since. */
  public synchronized void fill(Key key, JsonObject doc, long stampBefore) {
    if (stamp == stampBefore && cacheable(key)) {
      keep(key, doc);
    }
  }

  /**
   * The store acknowledged {@code batch}: each document it wrote holds {@code docs}' fields now, as
   * the store keeps them ({@code _id} first, then the fields, then {@code _version}); each one it
   * deleted is gone.
   */
  public synchronized void written(ApplyRules.Batch batch, Map<Key, JsonObject> written) {
    stamp++;
    batch.states().forEach((key, state) -> {
      JsonObject fields = written.get(key);
      if (state.exists() && fields != null && cacheable(key)) {
        keep(key, stored(key, fields, state.version()));
      } else {
        drop(key);
      }
    });
  }

  /** A snapshot's documents take the place of all others. */
  public synchronized void clear() {
    stamp++;
    docs.clear();
    bytes = 0;
  }

  private boolean cacheable(Key key) {
    return maxBytes > 0 && !(key.id() instanceof Long);
  }

  /** As the store returns a document written with these fields: {@code _id} moved first, {@code _version} set. */
  static JsonObject stored(Key key, JsonObject fields, long version) {
    JsonObject doc = new JsonObject(new LinkedHashMap<>(fields.size() + 2)).put("_id", key.id());
    for (Map.Entry<String, Object> field : fields) {
      if (!field.getKey().equals("_id")) {
        doc.put(field.getKey(), field.getValue());
      }
    }
    return doc.put(Documents.VERSION, version);
  }

  private void keep(Key key, JsonObject doc) {
    long size = estimate(doc);
    if (size > maxDocBytes) {
      drop(key);
      return;
    }
    Cached before = docs.put(key, new Cached(doc, size));
    bytes += size - (before == null ? 0 : before.bytes());
    Iterator<Cached> eldest = docs.values().iterator();
    while (bytes > maxBytes && eldest.hasNext()) {
      bytes -= eldest.next().bytes();
      eldest.remove();
    }
  }

  private void drop(Key key) {
    Cached before = docs.remove(key);
    if (before != null) {
      bytes -= before.bytes();
    }
  }

  /** About what a value takes on the heap; it walks the value but allocates nothing. */
  static long estimate(Object value) {
    if (value instanceof String s) {
      return 48 + s.length();
    } else if (value instanceof JsonObject object) {
      long size = 64;
      for (Map.Entry<String, Object> field : object) {
        size += 32 + estimate(field.getKey()) + estimate(field.getValue());
      }
      return size;
    } else if (value instanceof JsonArray array) {
      long size = 48;
      for (Object item : array) {
        size += 8 + estimate(item);
      }
      return size;
    }
    return 24;
  }
}
