package dev.bully.data;

import dev.bully.core.SnapshotItem;
import dev.bully.driver.Storage.SnapshotRead;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.FindOptions;
import io.vertx.ext.mongo.MongoClient;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One snapshot read for one follower: the collections of the node's documents one after another,
 * then the tombstones, cut into chunks of at most {@link #BATCH} documents and about the text asked
 * for. Of each collection the ids are read first (a projection: only they stay in memory), then
 * the documents by id, a chunk's worth at a time ({@code $in} on {@code _id}, which any MongoDB and
 * the embedded store answer from the id index, in queries of {@link #IN_IDS} ids). A read of every
 * document at once would make the embedded store, which lives in the node's heap, hold all of them
 * at once: measured here, a coordinator reading 51,000 documents so paused long enough for an
 * election.
 *
 * <p>One chunk is read ahead: as soon as a chunk is read, the next one's read begins, while the
 * follower stores the one handed out; so reading and storing overlap, and neither side holds more
 * than a chunk or two.
 *
 * <p>The documents change while they are read; each is read once, as it is at that moment, and one
 * deleted meanwhile is left out (its tombstone is read after every document). The follower makes
 * them whole again by applying the log from the snapshot's base on (see
 * {@link dev.bully.core.Message.SnapshotChunk}).
 */
final class SnapshotReader {
  private static final Logger log = LoggerFactory.getLogger(SnapshotReader.class);
  static final int BATCH = 500;
  /**
   * Ids per {@code $in} query: the embedded store finds them in its id index, then matches each
   * document it found against the whole list again, so one query's cost grows with the square of
   * its ids (measured here: a chunk of 500 in one query took most of the coordinator's CPU).
   */
  static final int IN_IDS = 50;
  /** Ids per batch of the cursor that lists them: only their values are kept, not a list of documents. */
  static final int ID_BATCH = 5_000;
  static final JsonObject ID_ONLY = new JsonObject().put("_id", 1);

  private final MongoClient data;
  private final MongoClient node;
  private final int follower;
  private final long index;
  private final LongSupplier reflectsUpTo;
  /** The collections still to read, the one being read (null: the tombstones), and its ids not yet read. */
  private ArrayDeque<String> collections;
  private String current;
  private final ArrayDeque<Object> ids = new ArrayDeque<>();
  /** Documents read and not yet handed out: what did not fit the chunk before. */
  private final ArrayDeque<SnapshotItem> ready = new ArrayDeque<>();
  private boolean tombstonesRead;
  /** The chunk handed out last (its number, and its read, under way or done), and the next one's read, begun ahead. */
  private long servedSeq = -1;
  private Future<SnapshotRead> served;
  private Future<SnapshotRead> ahead;
  private boolean closed;
  /** Documents and tombstones read so far, and the time spent reading chunks. */
  private long itemsRead;
  private long readNs;

  SnapshotReader(MongoClient data, MongoClient node, int follower, long index, LongSupplier reflectsUpTo) {
    this.data = data;
    this.node = node;
    this.follower = follower;
    this.index = index;
    this.reflectsUpTo = reflectsUpTo;
  }

  long index() {
    return index;
  }

  /** The number of the chunk handed out last; -1 before the first. */
  synchronized long servedSeq() {
    return servedSeq;
  }

  /**
   * Chunk {@code seq}: the one handed out last again (a repeated pull gets the same chunk, read
   * once), or the next one, whose read began as soon as the one before was read, while the
   * follower stored that one; null for any other.
   */
  synchronized Future<SnapshotRead> chunk(long seq, long maxChars) {
    if (seq == servedSeq) {
      return served;
    }
    if (seq != servedSeq + 1) {
      return null;
    }
    Future<SnapshotRead> read = ahead != null ? ahead : readNext(maxChars);
    ahead = null;
    servedSeq = seq;
    served = read;
    read.onSuccess(chunk -> served(seq, chunk, maxChars));
    return read;
  }

  /** Chunk {@code seq} was handed out: the next one is read ahead, or the end is logged, with what it took. */
  private synchronized void served(long seq, SnapshotRead chunk, long maxChars) {
    if (chunk.last()) {
      log.info("Read a snapshot up to entry {} for node {}: {} documents in {} chunks, {} ms of it reading them", index,
          follower, itemsRead, seq + 1, readNs / 1_000_000);
    } else if (!closed && servedSeq == seq && ahead == null) {
      ahead = readNext(maxChars);
    }
  }

  /** The next chunk: up to {@link #BATCH} documents and about {@code maxChars} of fields, or the end. */
  private Future<SnapshotRead> readNext(long maxChars) {
    Future<Void> listed = collections != null ? Future.succeededFuture()
        : data.getCollections().map(names -> {
          collections = new ArrayDeque<>(names.stream().filter(name -> !name.startsWith(Snapshots.STAGED_PREFIX)).sorted().toList());
          return null;
        });
    long startNs = System.nanoTime();
    return listed.compose(v -> fill(new ArrayList<>(), 0, maxChars)).map(items -> {
      boolean last = ready.isEmpty() && ids.isEmpty() && collections.isEmpty() && tombstonesRead;
      SnapshotRead read = new SnapshotRead(items, last, last ? reflectsUpTo.getAsLong() : 0);
      synchronized (this) {
        itemsRead += items.size();
        readNs += System.nanoTime() - startNs;
      }
      return read;
    });
  }

  private Future<List<SnapshotItem>> fill(List<SnapshotItem> items, long chars, long maxChars) {
    while (!ready.isEmpty() && (items.isEmpty() || chars < maxChars && items.size() < BATCH)) {
      SnapshotItem item = ready.poll();
      items.add(item);
      chars += item.fields() == null ? 16 : item.fields().length();
    }
    if (!items.isEmpty() && (chars >= maxChars || items.size() >= BATCH)) {
      return Future.succeededFuture(items);
    }
    long soFar = chars;
    if (!ids.isEmpty()) {
      List<Object> batch = new ArrayList<>();
      while (!ids.isEmpty() && batch.size() < BATCH) {
        batch.add(ids.poll());
      }
      String collection = current;
      MongoClient client = collection == null ? node : data;
      String name = collection == null ? Documents.TOMBSTONES : collection;
      List<Future<List<JsonObject>>> finds = new ArrayList<>();
      for (int from = 0; from < batch.size(); from += IN_IDS) {
        JsonArray ids = new JsonArray(batch.subList(from, Math.min(batch.size(), from + IN_IDS)));
        finds.add(client.find(name, new JsonObject().put("_id", new JsonObject().put("$in", ids))));
      }
      return Future.all(finds).compose(found -> {
        finds.forEach(find -> find.result().forEach(doc -> ready.add(item(collection, doc))));
        return fill(items, soFar, maxChars);
      });
    }
    if (!collections.isEmpty()) {
      return list(collections.poll()).compose(v -> fill(items, soFar, maxChars));
    }
    if (!tombstonesRead) {
      tombstonesRead = true;
      return list(null).compose(v -> fill(items, soFar, maxChars));
    }
    return Future.succeededFuture(items);
  }

  /** The ids of a collection's documents (null: of the tombstones), in the order they are read. */
  private Future<Void> list(String collection) {
    current = collection;
    MongoClient client = collection == null ? node : data;
    String name = collection == null ? Documents.TOMBSTONES : collection;
    Promise<Void> listed = Promise.promise();
    client.findBatchWithOptions(name, new JsonObject(), new FindOptions().setFields(ID_ONLY).setBatchSize(ID_BATCH))
        .exceptionHandler(listed::tryFail)
        .endHandler(v -> listed.tryComplete())
        .handler(doc -> ids.add(doc.getValue("_id")));
    return listed.future();
  }

  /** A stored document, or a stored tombstone ({@code _id} "collection/id", {@code version}), as a snapshot carries it. */
  private static SnapshotItem item(String collection, JsonObject doc) {
    if (collection == null) {
      String[] parts = doc.getString("_id").split("/", 2);
      return new SnapshotItem(parts[0], parts[1], doc.getLong("version"), true, null);
    }
    Object id = doc.remove("_id");
    long version = doc.getLong(Documents.VERSION, 1L);
    doc.remove(Documents.VERSION); // the document was read for this item alone: what is left are its fields
    return new SnapshotItem(collection, id instanceof Number n ? (Object) n.longValue() : id.toString(), Math.max(1, version), false,
        doc.encode());
  }

  /** Nothing is streamed: the reader holds only the ids still to read, and a chunk or two's worth of documents. */
  synchronized void close() {
    closed = true;
    ids.clear();
    ready.clear();
  }
}
