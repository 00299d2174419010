package dev.bully.data;

import dev.bully.core.SnapshotItem;
import dev.bully.driver.Storage.SnapshotRead;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import io.vertx.core.streams.ReadStream;
import io.vertx.ext.mongo.FindOptions;
import io.vertx.ext.mongo.MongoClient;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * One snapshot read for one follower: the collections of the node's documents one after another,
 * then the tombstones, each streamed from the store in batches (paused between chunks), cut into
 * chunks of about the text asked for. The documents change while they are read; each is read once,
 * as it is at that moment, which the follower makes whole again by applying the log from the
 * snapshot's base on (see {@link dev.bully.core.Message.SnapshotChunk}).
 */
final class SnapshotReader {
  static final int BATCH = 500;

  private final MongoClient data;
  private final MongoClient node;
  private final long index;
  private final LongSupplier reflectsUpTo;
  private ArrayDeque<String> collections;
  /** What is being streamed now: a collection of documents, or the tombstones (null). */
  private String current;
  private ReadStream<JsonObject> stream;
  private boolean currentEnded = true;
  private boolean tombstonesDone;
  private final ArrayDeque<JsonObject> buffered = new ArrayDeque<>();
  private Promise<Void> arrived;
  private Throwable failure;
  private long lastSeq = -1;
  private SnapshotRead lastRead;
  /** The chunk being read, and its number. */
  private Future<SnapshotRead> inFlight;
  private long inFlightSeq = -1;

  SnapshotReader(MongoClient data, MongoClient node, long index, LongSupplier reflectsUpTo) {
    this.data = data;
    this.node = node;
    this.index = index;
    this.reflectsUpTo = reflectsUpTo;
  }

  long index() {
    return index;
  }

  long lastSeq() {
    return lastSeq;
  }

  SnapshotRead lastRead() {
    return lastRead;
  }

  /** The read of chunk {@code seq} while it is under way, or null. */
  Future<SnapshotRead> reading(long seq) {
    return inFlight != null && inFlightSeq == seq && !inFlight.isComplete() ? inFlight : null;
  }

  /** The next chunk, numbered {@code seq}: documents until about {@code maxChars} of fields, or the end. */
  Future<SnapshotRead> next(long seq, long maxChars) {
    Future<Void> listed = collections != null ? Future.succeededFuture()
        : data.getCollections().map(names -> {
          collections = new ArrayDeque<>(names.stream().filter(name -> !name.startsWith(Snapshots.STAGED_PREFIX)).sorted().toList());
          return null;
        });
    inFlightSeq = seq;
    inFlight = listed.compose(v -> fill(new ArrayList<>(), 0, maxChars)).map(items -> {
      boolean last = currentEnded && buffered.isEmpty() && collections.isEmpty() && tombstonesDone;
      SnapshotRead read = new SnapshotRead(items, last, last ? reflectsUpTo.getAsLong() : 0);
      lastSeq = seq;
      lastRead = read;
      return read;
    });
    return inFlight;
  }

  private Future<List<SnapshotItem>> fill(List<SnapshotItem> items, long chars, long maxChars) {
    while (!buffered.isEmpty() && (items.isEmpty() || chars < maxChars && items.size() < BATCH)) {
      SnapshotItem item = item(buffered.poll());
      items.add(item);
      chars += item.fields() == null ? 16 : item.fields().length();
    }
    if (!items.isEmpty() && (chars >= maxChars || items.size() >= BATCH)) {
      return Future.succeededFuture(items);
    }
    if (!currentEnded) {
      long soFar = chars;
      return more().compose(v -> fill(items, soFar, maxChars));
    }
    if (!collections.isEmpty()) {
      open(collections.poll());
      long soFar = chars;
      return more().compose(v -> fill(items, soFar, maxChars));
    }
    if (!tombstonesDone) {
      tombstonesDone = true;
      open(null);
      long soFar = chars;
      return more().compose(v -> fill(items, soFar, maxChars));
    }
    return Future.succeededFuture(items);
  }

  private void open(String collection) {
    current = collection;
    currentEnded = false;
    FindOptions options = new FindOptions().setBatchSize(BATCH);
    stream = collection == null ? node.findBatchWithOptions(Documents.TOMBSTONES, new JsonObject(), options)
        : data.findBatchWithOptions(collection, new JsonObject(), options);
    stream.pause();
    stream.handler(doc -> {
      buffered.add(doc);
      if (buffered.size() >= BATCH) {
        stream.pause();
      }
      wake();
    });
    stream.endHandler(v -> {
      currentEnded = true;
      wake();
    });
    stream.exceptionHandler(e -> {
      failure = e;
      currentEnded = true;
      wake();
    });
  }

  /** Waits until the stream gave more, or ended. */
  private Future<Void> more() {
    if (failure != null) {
      return Future.failedFuture(failure);
    }
    arrived = Promise.promise();
    Future<Void> next = arrived.future();
    stream.fetch(BATCH);
    return next.compose(v -> failure != null ? Future.failedFuture(failure) : Future.succeededFuture());
  }

  private void wake() {
    Promise<Void> waiting = arrived;
    if (waiting != null) {
      arrived = null;
      waiting.complete();
    }
  }

  /** A stored document, or a stored tombstone ({@code _id} "collection/id", {@code version}), as a snapshot carries it. */
  private SnapshotItem item(JsonObject doc) {
    if (current == null) {
      String[] parts = doc.getString("_id").split("/", 2);
      return new SnapshotItem(parts[0], parts[1], doc.getLong("version"), true, null);
    }
    Object id = doc.getValue("_id");
    long version = doc.getLong(Documents.VERSION, 1L);
    JsonObject fields = doc.copy();
    fields.remove("_id");
    fields.remove(Documents.VERSION);
    return new SnapshotItem(current, id instanceof Number n ? (Object) n.longValue() : id.toString(), Math.max(1, version), false,
        fields.encode());
  }

  void close() {
    if (stream != null && !currentEnded) {
      stream.handler(null);
      stream.endHandler(null);
      stream.exceptionHandler(null);
      stream.resume(); // let the driver's cursor run out; nothing listens any more
    }
  }
}
