package dev.bully.data;

import dev.bully.core.SnapshotItem;
import dev.bully.core.SnapshotStep;
import dev.bully.driver.Storage.SnapshotRead;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.BulkOperation;
import io.vertx.ext.mongo.BulkWriteOptions;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.mongo.UpdateOptions;
import io.vertx.ext.mongo.WriteOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Snapshots of the node's documents, both ways, through the node's MongoDB client.
 *
 * <p><b>Read</b> (on the coordinator, per follower): every collection of {@code <db>_data}, then
 * the tombstones, streamed chunk by chunk while the applier goes on ({@link SnapshotReader}); the
 * last chunk says up to which index the documents read may reflect operations. A follower's
 * repeated pull gets the same chunk again.
 *
 * <p><b>Install</b> (on a follower), in the order a crash anywhere leaves safe: chunks go to staged
 * collections ({@code _install_<collection>}, and the tombstones to {@code install_tombstones}),
 * apart from the documents, so an install cut short leaves the documents as they were and the next
 * begins it again. Once the last chunk is staged, a mark in {@code meta} names what was staged;
 * the applier stops; live collections the snapshot lacks are dropped, each staged collection is
 * renamed over the live one (the live one dropped first), the applied index becomes the snapshot's
 * with the index the documents are whole again from ({@code consistentAt}), and the mark goes. A restart that finds the mark finishes the swap
 * first ({@link #finishSwapIfMarked}); each step finds what the one before did.
 */
public final class Snapshots {
  private static final Logger log = LoggerFactory.getLogger(Snapshots.class);
  static final String STAGED_TOMBSTONES = "install_tombstones";
  /** A staged collection's name: user collections begin with a letter or digit, so none is ever taken for one. */
  static final String STAGED_PREFIX = "_install_";
  private static final JsonObject MARK_ID = new JsonObject().put("_id", "install");
  private static final int DUPLICATE_KEY = 11000;
  /**
   * A chunk's documents' text at most (and at most {@link SnapshotReader#BATCH} documents): a chunk
   * is read, sent and stored well within the time its follower waits before it asks again.
   */
  static final long CHUNK_CHARS = 512 * 1024;

  private final MongoClient data;
  private final MongoClient node;
  private final WriteOption writeOption;
  private final Supplier<Future<Void>> durable;
  private final Map<Integer, SnapshotReader> readers = new HashMap<>();
  private volatile Applier applier;
  /** The install under way: its chunks and documents so far, and the time spent storing them. */
  private long installChunks;
  private long installDocuments;
  private long installStoreNs;

  /** {@code data}: the client of the documents' database; {@code node}: of the node's own. */
  public Snapshots(MongoClient data, MongoClient node, WriteOption writeOption, Supplier<Future<Void>> durable) {
    this.data = data;
    this.node = node;
    this.writeOption = writeOption;
    this.durable = durable;
  }

  /** The applier whose documents these are: it stops for a swap, and says how far its documents reach. */
  public void applier(Applier applier) {
    this.applier = applier;
  }

  /** What a snapshot needs of the node's applier. */
  public interface Applier {
    /** Stops applying once the batch being written (if any) is done; completes then. */
    Future<Void> pauseForSwap();

    /** The documents are the snapshot's now, applied up to {@code applied}, whole again from {@code consistentAt}. */
    void resumeAfterSwap(long applied, long consistentAt);

    /** The highest index a document may reflect: a batch being written may have written some of its documents. */
    long reflectsUpTo();

    /** The index up to which the documents hold every operation durably. */
    long durableAppliedIndex();
  }

  /** See {@link Applier#durableAppliedIndex()}; 0 before the applier started. */
  public long durableAppliedIndex() {
    Applier current = applier;
    return current == null ? 0 : current.durableAppliedIndex();
  }

  // ---------------------------------------------------------------- read, on the coordinator

  /**
   * Chunk {@code seq} of the snapshot up to entry {@code index} for {@code follower} (see
   * {@code Storage.readSnapshot}): a first pull begins a read, a repeated pull gets the same chunk,
   * and the next is read ahead while the follower stores this one.
   */
  public synchronized Future<SnapshotRead> read(int follower, long index, long seq, long maxChars) {
    long max = Math.min(maxChars, CHUNK_CHARS);
    SnapshotReader reader = readers.get(follower);
    Future<SnapshotRead> chunk = reader != null && reader.index() == index ? reader.chunk(seq, max) : null;
    if (chunk == null && seq == 0) {
      if (reader != null) {
        reader.close();
      }
      Applier current = applier;
      reader = new SnapshotReader(data, node, follower, index, current == null ? () -> 0L : current::reflectsUpTo);
      readers.put(follower, reader);
      chunk = reader.chunk(0, max);
    }
    if (chunk == null) {
      return Future.failedFuture(new IllegalStateException("chunk " + seq + " of the snapshot up to entry " + index
          + " was asked for, but this node handed out " + (reader == null ? "none for node " + follower
          : "chunk " + reader.servedSeq() + " of the one up to " + reader.index()) + " last"));
    }
    return chunk;
  }

  // ---------------------------------------------------------------- install, on a follower

  /** Makes a step of installing a snapshot durable (see the class comment). */
  public Future<Void> install(SnapshotStep step) {
    if (step.begins()) {
      installChunks = 0;
      installDocuments = 0;
      installStoreNs = 0;
      return dropStaged().compose(v -> durable.get());
    }
    long startNs = System.nanoTime();
    Future<Void> staged = stage(step.chunk().items()).compose(v -> durable.get()).onSuccess(v -> {
      installChunks++;
      installDocuments += step.chunk().items().size();
      installStoreNs += System.nanoTime() - startNs;
    });
    if (!step.finishes()) {
      return staged;
    }
    long index = step.index();
    long consistentAt = step.chunk().consistentAt();
    long[] swapStartNs = new long[1];
    return staged.compose(v -> stagedCollections()).compose(collections -> node.getCollections().compose(nodeCollections -> {
      JsonObject mark = new JsonObject().put("index", index).put("consistentAt", consistentAt)
          .put("collections", new JsonArray(new ArrayList<>(collections)))
          .put("tombstones", nodeCollections.contains(STAGED_TOMBSTONES));
      UpdateOptions upsert = new UpdateOptions().setUpsert(true).setWriteOption(writeOption);
      return node.updateCollectionWithOptions(Documents.META, MARK_ID, new JsonObject().put("$set", mark), upsert)
          .compose(r -> durable.get())
          .compose(v -> pausedApplier())
          .compose(v -> {
            swapStartNs[0] = System.nanoTime();
            return swap(mark);
          })
          .onSuccess(v -> {
            log.info("Installed a snapshot of the documents up to entry {} (whole again from {}): {} documents in {} chunks,"
                + " {} ms of it storing them durably, then {} ms renaming them over the live ones", index, consistentAt, installDocuments,
                installChunks, installStoreNs / 1_000_000, (System.nanoTime() - swapStartNs[0]) / 1_000_000);
            Applier current = applier;
            if (current != null) {
              current.resumeAfterSwap(index, consistentAt);
            }
          });
    }));
  }

  /**
   * At start, before the applier reads the documents: a swap a crash cut short is finished, and
   * chunks of an install that never reached its swap (cut short, or passed over) are dropped.
   */
  public Future<Void> finishSwapIfMarked() {
    return node.findOne(Documents.META, MARK_ID, null).compose(mark -> {
      if (mark == null) {
        return dropStaged();
      }
      log.info("Finishing the install of a snapshot up to entry {} that a stop cut short", mark.getLong("index"));
      return swap(mark);
    });
  }

  private Future<Void> pausedApplier() {
    Applier current = applier;
    return current == null ? Future.succeededFuture() : current.pauseForSwap();
  }

  /** The chunk's documents into the staging database, its tombstones beside the node's own; again after a crash changes nothing. */
  private Future<Void> stage(List<SnapshotItem> items) {
    Map<String, List<BulkOperation>> byCollection = new LinkedHashMap<>();
    List<BulkOperation> tombstones = new ArrayList<>();
    for (SnapshotItem item : items) {
      if (item.deleted()) {
        tombstones.add(BulkOperation.createInsert(new JsonObject().put("_id", item.collection() + "/" + item.id())
            .put("version", item.version())));
        continue;
      }
      JsonObject doc;
      try {
        doc = new JsonObject(item.fields());
      } catch (RuntimeException e) {
        log.warn("A snapshot's document {}/{} has fields that are not a JSON object; it is left out", item.collection(), item.id());
        continue;
      }
      doc.put("_id", item.id()).put(Documents.VERSION, item.version());
      byCollection.computeIfAbsent(item.collection(), c -> new ArrayList<>()).add(BulkOperation.createInsert(doc));
    }
    BulkWriteOptions unordered = new BulkWriteOptions().setOrdered(false).setWriteOption(writeOption);
    List<Future<?>> writes = new ArrayList<>();
    byCollection.forEach((collection, inserts) -> writes.add(data.bulkWriteWithOptions(STAGED_PREFIX + collection, inserts, unordered)
        .<Void>mapEmpty().recover(Snapshots::duplicatesOnly)));
    if (!tombstones.isEmpty()) {
      writes.add(node.bulkWriteWithOptions(STAGED_TOMBSTONES, tombstones, unordered).<Void>mapEmpty().recover(Snapshots::duplicatesOnly));
    }
    return Future.all(writes).mapEmpty();
  }

  /**
   * The swap {@code mark} names, in an order that a crash anywhere leaves safe to begin again: live
   * collections the snapshot lacks are dropped; each staged collection still there is renamed over
   * its live one (dropped first); the staged tombstones likewise; then the applied index, durably,
   * and the mark goes. So a staged collection that is gone was renamed already, and one still there
   * is renamed now. (The embedded store's rename takes a collection's maps with it since
   * {@code EmbeddedMongo} fixed it; before, the swap copied the documents, 7-14 s for 101,000.)
   */
  private Future<Void> swap(JsonObject mark) {
    Set<String> staged = new HashSet<>(mark.getJsonArray("collections").getList());
    Future<Void> renamed = data.getCollections().compose(live -> {
      Future<Void> chain = Future.succeededFuture();
      for (String collection : live) {
        if (!collection.startsWith(STAGED_PREFIX) && !staged.contains(collection)) {
          chain = chain.compose(v -> data.dropCollection(collection));
        }
      }
      return chain;
    }).compose(v -> stagedCollections()).compose(stillStaged -> {
      Future<Void> chain = Future.succeededFuture();
      for (String collection : stillStaged) {
        if (staged.contains(collection)) {
          chain = chain.compose(v -> renameOver(data, STAGED_PREFIX + collection, collection));
        }
      }
      return chain;
    }).compose(v -> node.getCollections()).compose(nodeCollections -> {
      if (nodeCollections.contains(STAGED_TOMBSTONES)) {
        return renameOver(node, STAGED_TOMBSTONES, Documents.TOMBSTONES);
      }
      return mark.getBoolean("tombstones") ? Future.succeededFuture() : dropIfThere(node, Documents.TOMBSTONES);
    });
    return renamed.compose(v -> node.updateCollectionWithOptions(Documents.META, Documents.APPLIED_ID,
            new JsonObject().put("$set", new JsonObject().put("index", mark.getLong("index"))
                .put("consistentAt", mark.getLong("consistentAt")).put("snapshotIndex", mark.getLong("index"))),
            new UpdateOptions().setUpsert(true).setWriteOption(writeOption)))
        .compose(r -> node.removeDocumentWithOptions(Documents.META, MARK_ID, writeOption))
        .compose(r -> durable.get());
  }

  /**
   * {@code from} renamed to {@code to}, which is dropped first: the embedded store's
   * {@code dropTarget} fails on a collection with an index, so the drop is MongoDB's own.
   */
  private static Future<Void> renameOver(MongoClient client, String from, String to) {
    return dropIfThere(client, to).compose(v -> client.renameCollection(from, to));
  }

  private static Future<Void> dropIfThere(MongoClient client, String collection) {
    return client.getCollections().compose(names -> names.contains(collection) ? client.dropCollection(collection)
        : Future.succeededFuture());
  }

  /** The collections staged so far, by the names they are to take. */
  private Future<List<String>> stagedCollections() {
    return data.getCollections().map(names -> names.stream().filter(name -> name.startsWith(STAGED_PREFIX))
        .map(name -> name.substring(STAGED_PREFIX.length())).toList());
  }

  /** Drops whatever an install staged: its collections and its tombstones. */
  private Future<Void> dropStaged() {
    return stagedCollections().compose(collections -> {
      Future<Void> chain = Future.succeededFuture();
      for (String collection : collections) {
        chain = chain.compose(v -> data.dropCollection(STAGED_PREFIX + collection));
      }
      return chain;
    }).compose(v -> dropIfThere(node, STAGED_TOMBSTONES));
  }

  /** A staged chunk written again after a crash: its documents are there already, and that is all the failure says. */
  private static Future<Void> duplicatesOnly(Throwable failure) {
    if (failure instanceof com.mongodb.MongoBulkWriteException bulk
        && bulk.getWriteErrors().stream().allMatch(e -> e.getCode() == DUPLICATE_KEY)) {
      return Future.succeededFuture();
    }
    return Future.failedFuture(failure);
  }

  /** Stops every snapshot read: the node is closing its store. */
  public synchronized void close() {
    readers.values().forEach(SnapshotReader::close);
    readers.clear();
  }
}
