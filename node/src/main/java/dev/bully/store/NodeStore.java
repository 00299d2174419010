package dev.bully.store;

import dev.bully.core.DurableState;
import dev.bully.core.LogEntry;
import dev.bully.core.LogLimits;
import dev.bully.core.TermRun;
import dev.bully.core.WriteLimits;
import dev.bully.driver.LogRestore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import dev.bully.core.LogWrite;
import io.vertx.ext.mongo.BulkOperation;
import io.vertx.ext.mongo.BulkWriteOptions;
import io.vertx.ext.mongo.FindOptions;
import io.vertx.ext.mongo.IndexOptions;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.mongo.UpdateOptions;
import io.vertx.ext.mongo.WriteOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * A node's own MongoDB database, reached only through the Vert.x MongoDB client.
 *
 * <ul>
 *   <li>{@code meta} holds one document, {@code {_id: "election", term, promisedTo}}.</li>
 *   <li>{@code log} holds the replicated log in segments: one document per appended batch,
 *       {@code {_id: firstIndex, last: lastIndex, commit, terms: [[index, term], ...],
 *       entries: BinData("[{index, term, requestId, data, ts}, ...]")}}, the entries as one JSON
 *       text in UTF-8 ({@link EntryCodec#toStored}). A batch is one insert of one binary value, so the store's per-document and
 *       per-value costs are paid per batch, not per entry. {@code terms} (the segment's term runs)
 *       and {@code commit} (an index known to be committed when it was written) let a restart
 *       read the log's shape without its entries.</li>
 *   <li>{@code pages} holds committed entries by the thousand, written once and found by index
 *       ({@link LogPages}); the segments a page covers are removed once it is durable.</li>
 *   <li>{@code rollback} keeps entries that a newer coordinator replaced; they are never deleted.</li>
 * </ul>
 *
 * <p>Every write method completes only once the write is durable as {@link StoreSync} says: with
 * {@code fsync} (the default) journaled on an external MongoDB, committed to the file and forced to
 * the device by {@link GroupCommit} on the embedded one.
 */
public final class NodeStore {
  static final String META = "meta";
  static final String LOG = "log";
  static final String ROLLBACK = "rollback";
  /** Entries per page of committed entries ({@link #writePage}). */
  public static final int PAGE_ENTRIES = LogPages.PAGE_ENTRIES;
  private static final JsonObject STATE_ID = new JsonObject().put("_id", "election");

  private final MongoClient mongo;
  private final WriteOption writeOption;
  private final Supplier<Future<Void>> durable;
  private final Runnable onClose;

  private final LogPages pages;
  private final StoreRetry retry;

  private NodeStore(Vertx vertx, MongoClient mongo, WriteOption writeOption, Supplier<Future<Void>> durable, Runnable onClose,
                    Supplier<Optional<String>> room) {
    this.retry = new StoreRetry(vertx, room);
    this.mongo = mongo;
    this.writeOption = writeOption;
    this.durable = durable;
    this.onClose = onClose;
    this.pages = new LogPages(mongo, writeOption, durable);
  }

  /**
   * Connects to the external MongoDB at {@code connectionString}, or to {@code embedded} when there
   * is none, and creates the collections' indexes.
   */
  public static Future<NodeStore> open(Vertx vertx, Optional<String> connectionString, String database,
                                       EmbeddedMongo embedded, StoreSync sync) {
    JsonObject options = new JsonObject()
        .put("connection_string", connectionString.orElseGet(() -> embedded.connectionString())) // embedded is null here with an external MongoDB
        .put("db_name", database)
        .put("useObjectId", false);
    MongoClient mongo = MongoClient.create(vertx, options);
    NodeStore store;
    if (connectionString.isPresent()) {
      WriteOption durability = sync == StoreSync.FSYNC ? WriteOption.JOURNALED : WriteOption.ACKNOWLEDGED;
      store = new NodeStore(vertx, mongo, durability, Future::succeededFuture, mongo::close, Optional::empty);
    } else {
      WorkerExecutor committer = vertx.createSharedWorkerExecutor("bully-store-commit", 1);
      GroupCommit groupCommit = new GroupCommit(committer, embedded::commit);
      store = new NodeStore(vertx, mongo, WriteOption.ACKNOWLEDGED, groupCommit::sync, () -> {
        mongo.close();
        committer.close();
      }, embedded::diskShortage);
    }
    return store.createIndexes().map(store);
  }

  private Future<Void> createIndexes() {
    // The embedded store serves unique secondary indexes only; a segment's last index is unique anyway.
    return mongo.createIndexWithOptions(LOG, new JsonObject().put("last", 1), new IndexOptions().unique(true));
  }

  /** How this store's writes meet failure: retried while it may pass, shown while they are ({@link StoreRetry#trouble}). */
  public StoreRetry retry() {
    return retry;
  }

  /** Whether the store answers at all; for readiness checks. */
  public Future<Void> ping() {
    return mongo.runCommand("ping", new JsonObject().put("ping", 1)).mapEmpty();
  }

  /**
   * The persisted term and promise, or {@link DurableState#INITIAL} on a fresh store. A term at the
   * protocol's limit ({@link dev.bully.core.Message#MAX_NUMBER}) fails the start with how to recover:
   * no node could ever claim a term after it, so the node would stay a candidate for ever.
   */
  public Future<DurableState> loadState() {
    return mongo.findOne(META, STATE_ID, null).compose(doc -> {
      if (doc == null) {
        return Future.succeededFuture(DurableState.INITIAL);
      }
      long term = doc.getLong("term", 0L);
      if (term < 0 || term >= dev.bully.core.Message.MAX_NUMBER) {
        return Future.failedFuture(new IllegalStateException("the stored term " + term + " is at or beyond the"
            + " protocol's limit of 2^53, so no later term can be claimed. This node's data cannot rejoin: stop it,"
            + " move its data folder aside and start it empty, and it catches up from the others"));
      }
      return Future.succeededFuture(new DurableState(term, doc.getInteger("promisedTo", 0)));
    });
  }

  /**
   * This start's incarnation: one more than the last start's, durable before it is returned. It
   * numbers the node's protocol messages with their sequence, so a peer can tell a replayed old
   * message from a new one even across this node's restarts.
   */
  public Future<Long> nextIncarnation() {
    JsonObject id = new JsonObject().put("_id", "incarnation");
    return mongo.findOne(META, id, null).compose(doc -> {
      long next = (doc == null ? 0 : doc.getLong("value", 0L)) + 1;
      UpdateOptions options = new UpdateOptions().setUpsert(true).setWriteOption(writeOption);
      return mongo.updateCollectionWithOptions(META, id, new JsonObject().put("$set", new JsonObject().put("value", next)), options)
          .compose(r -> durable.get())
          .map(v -> next);
    });
  }

  /** Persists the term and promise; completes once they are durable. */
  public Future<Void> saveState(DurableState state) {
    JsonObject update = new JsonObject().put("$set", new JsonObject()
        .put("term", state.term())
        .put("promisedTo", state.promisedTo()));
    UpdateOptions options = new UpdateOptions().setUpsert(true).setWriteOption(writeOption);
    return mongo.updateCollectionWithOptions(META, STATE_ID, update, options).compose(r -> durable.get());
  }

  /**
   * Makes a log write durable: the removed suffix goes to {@code rollback} (with the term that
   * replaced it and the time), the log is cut there, then the new entries are appended.
   */
  public Future<Void> write(LogWrite write) {
    return write(write, false);
  }

  /**
   * {@link #write(LogWrite)}, {@code again} after a try that failed: then segments that try may
   * have inserted are removed first, so the retry inserts them anew. (A retried rollback may keep
   * an entry in {@code rollback} twice, which loses nothing.)
   */
  public Future<Void> write(LogWrite write, boolean again) {
    Future<Void> cut = write.removed().isEmpty() ? Future.succeededFuture() : rollBack(write.removed(), write.replacedInTerm());
    if (again && !write.appended().isEmpty()) {
      JsonObject fromFirst = new JsonObject().put("_id", new JsonObject().put("$gte", write.appended().get(0).index()));
      cut = cut.compose(v -> mongo.removeDocumentsWithOptions(LOG, fromFirst, writeOption).mapEmpty());
    }
    return cut.compose(v -> append(write.appended(), write.commitIndex()));
  }

  private Future<Void> rollBack(List<LogEntry> removed, long replacedInTerm) {
    long from = removed.get(0).index();
    long now = System.currentTimeMillis();
    List<BulkOperation> kept = new ArrayList<>();
    for (LogEntry entry : removed) {
      // The entry as its JSON text, as the log held it: never parsed into a document tree, whatever its depth or keys.
      kept.add(BulkOperation.createInsert(new JsonObject()
          .put("_id", entry.index() + ":" + entry.term() + ":" + now)
          .put("index", entry.index())
          .put("term", entry.term())
          .put("entry", EntryCodec.toStored(List.of(entry)))
          .put("replacedInTerm", replacedInTerm)
          .put("rolledBackAt", now)));
    }
    JsonObject straddling = new JsonObject().put("_id", new JsonObject().put("$lt", from)).put("last", new JsonObject().put("$gte", from));
    // Rollback first: if the node dies half-way, the entries are in rollback and possibly still in the log, never in neither.
    return mongo.bulkWriteWithOptions(ROLLBACK, kept, new BulkWriteOptions().setOrdered(true).setWriteOption(writeOption))
        .compose(r -> mongo.findOne(LOG, straddling, null))
        .compose(segment -> segment == null ? Future.succeededFuture() : keepBefore(segment, from))
        .compose(v -> mongo.removeDocumentsWithOptions(LOG, new JsonObject().put("_id", new JsonObject().put("$gte", from)), writeOption))
        .mapEmpty();
  }

  /** Rewrites a segment that holds entries on both sides of the cut, keeping those before it. */
  private Future<Void> keepBefore(JsonObject segment, long from) {
    List<LogEntry> kept = segmentEntries(segment).stream().filter(e -> e.index() < from).toList();
    JsonObject replacement = segment.copy().put("last", from - 1).put("terms", termRuns(kept))
        .put("entries", EntryCodec.toStored(kept));
    return mongo.replaceDocumentsWithOptions(LOG, new JsonObject().put("_id", segment.getValue("_id")), replacement,
        new UpdateOptions().setWriteOption(writeOption)).mapEmpty();
  }

  /** Appends {@code entries} (consecutive, starting right after the current last entry) as one segment. */
  public Future<Void> append(List<LogEntry> entries) {
    return append(entries, 0);
  }


  /**
   * Appends {@code entries} as segments, with {@code commitIndex}, an index known to be committed,
   * so that a restart knows which entries need not be read back into memory. A batch of entries is
   * one segment unless its text is over {@link WriteLimits#DOCUMENT_CHARS}: then it is split, so
   * every segment fits in a MongoDB document. One commit makes them all durable.
   */
  public Future<Void> append(List<LogEntry> entries, long commitIndex) {
    Future<Void> inserted = Future.succeededFuture();
    for (List<LogEntry> part : documents(entries)) {
      JsonObject segment = new JsonObject()
          .put("_id", part.get(0).index())
          .put("last", part.get(part.size() - 1).index())
          .put("commit", commitIndex)
          .put("terms", termRuns(part))
          .put("entries", EntryCodec.toStored(part));
      inserted = inserted.compose(v -> mongo.insertWithOptions(LOG, segment, writeOption).mapEmpty());
    }
    return inserted.compose(v -> durable.get());
  }

  /** {@code entries} in runs that each fit in one store document, at least one entry each. */
  static List<List<LogEntry>> documents(List<LogEntry> entries) {
    List<List<LogEntry>> parts = new ArrayList<>();
    int start = 0;
    long chars = 0;
    for (int i = 0; i < entries.size(); i++) {
      long size = WriteLimits.entryChars(entries.get(i));
      if (i > start && chars + size > WriteLimits.DOCUMENT_CHARS) {
        parts.add(entries.subList(start, i));
        start = i;
        chars = 0;
      }
      chars += size;
    }
    if (start < entries.size()) {
      parts.add(entries.subList(start, entries.size()));
    }
    return parts;
  }

  /** A segment's terms as runs, {@code [[firstIndex, term], ...]}: read at start-up without the entries. */
  static JsonArray termRuns(List<LogEntry> entries) {
    JsonArray runs = new JsonArray();
    TermRun.of(entries).forEach(run -> runs.add(new JsonArray().add(run.firstIndex()).add(run.term())));
    return runs;
  }

  /**
   * The log as a restarted node holds it: see {@link LogLoader}. Also fills the directory of the
   * store's pages, which reads of old entries use from then on.
   */
  public Future<LogRestore> loadLog(LogLimits limits) {
    return new LogLoader(mongo, pages).load(limits);
  }

  /**
   * Writes committed entries (consecutive, right after {@link #pagedIndex()}) into a page of the
   * store; completes once it is durable. The log segments it covers are removed then.
   */
  public Future<Void> writePage(List<LogEntry> entries) {
    return pages.write(entries, false);
  }

  /** {@link #writePage(List)}, {@code again} after a try that failed: the page then replaces what that try left. */
  public Future<Void> writePage(List<LogEntry> entries, boolean again) {
    return pages.write(entries, again);
  }

  /** How far the store's pages reach. */
  public long pagedIndex() {
    return pages.pagedIndex();
  }

  /**
   * Up to {@code limit} entries from index {@code from} on, in order, holding at most
   * {@code maxChars} of text together but always the first: from the pages as far as they reach,
   * then from the log segments.
   */
  public Future<List<LogEntry>> entries(long from, int limit, long maxChars) {
    return entries(from, limit, maxChars, true);
  }

  /** Up to {@code limit} entries from index {@code from} on, whatever their size: for tests and tools on small logs. */
  public Future<List<LogEntry>> entries(long from, int limit) {
    return entries(from, limit, Long.MAX_VALUE);
  }

  private Future<List<LogEntry>> entries(long from, int limit, long maxChars, boolean mayRetry) {
    long to = from + limit - 1;
    long paged = pages.pagedIndex();
    Future<List<LogEntry>> older = from <= paged ? pages.read(from, Math.min(to, paged), maxChars) : Future.succeededFuture(List.of());
    return older.compose(fromPages -> {
      long next = from + fromPages.size();
      long left = maxChars - fromPages.stream().mapToLong(WriteLimits::entryChars).sum();
      if (next > to || (from <= paged && fromPages.size() < Math.min(to, paged) - from + 1) || (!fromPages.isEmpty() && left <= 0)) {
        return Future.succeededFuture(fromPages);
      }
      return segmentEntries(next, (int) (to - next + 1), fromPages.isEmpty() ? maxChars : left, fromPages.isEmpty())
          .compose(fromSegments -> {
            if (mayRetry && (fromSegments.isEmpty() || fromSegments.get(0).index() != next) && pages.pagedIndex() >= next) {
              // A page was written meanwhile and took the segments we looked for with it: read again, from the pages.
              return entries(from, limit, maxChars, false);
            }
            List<LogEntry> result = new ArrayList<>(fromPages);
            result.addAll(fromSegments);
            return Future.succeededFuture(result);
          });
    });
  }

  /** Segments read at once: each holds up to a document's worth of text. */
  private static final int SEGMENTS_PER_READ = 4;

  /**
   * Up to {@code limit} entries from the log segments, from index {@code from} on, within
   * {@code maxChars} (the first one always, if {@code first}): {@link #SEGMENTS_PER_READ} segments
   * at a time, as many times as it takes.
   */
  private Future<List<LogEntry>> segmentEntries(long from, int limit, long maxChars, boolean first) {
    return segmentEntries(from, limit, maxChars, first, new ArrayList<>(), 0);
  }

  private Future<List<LogEntry>> segmentEntries(long from, int limit, long maxChars, boolean first, List<LogEntry> result,
                                                long charsSoFar) {
    JsonObject query = new JsonObject().put("last", new JsonObject().put("$gte", from));
    FindOptions options = new FindOptions().setSort(new JsonObject().put("_id", 1)).setLimit(SEGMENTS_PER_READ);
    return mongo.findWithOptions(LOG, query, options).compose(segments -> {
      long chars = charsSoFar;
      long next = from;
      for (JsonObject segment : segments) {
        for (LogEntry entry : segmentEntries(segment)) {
          if (entry.index() < next || result.size() >= limit) {
            continue;
          }
          chars += WriteLimits.entryChars(entry);
          if (chars > maxChars && (!result.isEmpty() || !first)) {
            return Future.succeededFuture(result);
          }
          result.add(entry);
          next = entry.index() + 1;
        }
      }
      if (segments.size() < SEGMENTS_PER_READ || result.size() >= limit) {
        return Future.succeededFuture(result);
      }
      return segmentEntries(next, limit, maxChars, first, result, chars);
    });
  }

  /** A segment's entries ({@link EntryCodec#fromStored}). */
  static List<LogEntry> segmentEntries(JsonObject segment) {
    return EntryCodec.fromStored(segment.getValue("entries"));
  }

  /** An entry that a newer coordinator's log replaced, with the term that replaced it and when. */
  public record RolledBack(LogEntry entry, long replacedInTerm, long rolledBackAt) {
  }

  /** What this node moved out of its log, oldest first, at most {@code limit}. */
  public Future<List<RolledBack>> rolledBack(int limit) {
    FindOptions options = new FindOptions().setSort(new JsonObject().put("rolledBackAt", 1).put("index", 1)).setLimit(limit);
    return mongo.findWithOptions(ROLLBACK, new JsonObject(), options).map(docs -> docs.stream()
        .map(doc -> new RolledBack(EntryCodec.fromStored(doc.getValue("entry")).get(0),
            doc.getLong("replacedInTerm"), doc.getLong("rolledBackAt")))
        .toList());
  }

  /** Closes the client; the embedded server itself is closed by its owner. */
  public void close() {
    retry.close();
    onClose.run();
  }
}
