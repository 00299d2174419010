package dev.bully.store;

import dev.bully.core.DurableState;
import dev.bully.core.LogEntry;
import dev.bully.core.LogLimits;
import dev.bully.core.WriteLimits;
import dev.bully.data.DocumentCache;
import dev.bully.data.Documents;
import dev.bully.data.Snapshots;
import dev.bully.driver.LogRestore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonObject;
import dev.bully.core.LogWrite;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.mongo.WriteOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * A node's own store: its MongoDB database, reached only through the Vert.x MongoDB client, and
 * beside it the files of the log's newest entries ({@link LogFile}).
 *
 * <ul>
 *   <li>{@code meta} holds one document, {@code {_id: "election", term, promisedTo}}, and the
 *       start's incarnation.</li>
 *   <li>The log's entries that are not yet committed and paged are in the log files, in the data
 *       folder's {@code log/}: one record per appended batch, one {@code fdatasync} per group of
 *       batches. The store pays nothing per entry there.</li>
 *   <li>{@code pages} holds committed entries by the thousand, written once and found by index
 *       ({@link LogPages}); the log files they cover are removed once a page is durable.</li>
 *   <li>{@code rollback} keeps entries that a newer coordinator replaced; they are never deleted.</li>
 * </ul>
 *
 * <p>Every write method completes only once the write is durable as {@link StoreSync} says: with
 * {@code fsync} (the default) forced to the device (the log files by {@code fdatasync}, the
 * embedded store's file by {@link GroupCommit}) or journaled on an external MongoDB.
 */
public final class NodeStore {
  static final String META = "meta";
  static final String ROLLBACK = "rollback";
  /** Entries per page of committed entries ({@link #writePage}). */
  public static final int PAGE_ENTRIES = LogPages.PAGE_ENTRIES;

  private final MongoClient mongo;
  private final WriteOption writeOption;
  private final Supplier<Future<Void>> durable;
  private final Runnable onClose;

  private final Vertx vertx;
  private final LogPages pages;
  private final StoreRetry retry;
  private final WorkerExecutor logWriter;
  private final LogFile logFile;
  private final Documents documents;
  private final Snapshots snapshots;
  private final Meta meta;
  private final Rollbacks rollbacks;
  /** Where the log begins, as this store last moved it, and the moves of it under way (one at a time). */
  private long baseIndex;
  private Future<Void> baseChanges = Future.succeededFuture();

  private NodeStore(Vertx vertx, MongoClient mongo, MongoClient data, WriteOption writeOption, Supplier<Future<Void>> durable,
                    Runnable onClose, Supplier<Optional<String>> room, LogFile logFile, WorkerExecutor logWriter, Snapshots snapshots,
                    DocumentCache cache) {
    this.vertx = vertx;
    this.documents = new Documents(data, mongo, writeOption, durable, cache);
    this.snapshots = snapshots;
    this.meta = new Meta(mongo, writeOption, durable);
    this.rollbacks = new Rollbacks(mongo, writeOption, durable);
    this.retry = new StoreRetry(vertx, room);
    this.mongo = mongo;
    this.writeOption = writeOption;
    this.durable = durable;
    this.onClose = onClose;
    this.logFile = logFile;
    this.logWriter = logWriter;
    this.pages = new LogPages(mongo, writeOption, durable, logFile::release);
  }

  /**
   * Connects to the external MongoDB at {@code connectionString}, or to {@code embedded} when there
   * is none, creates the collections' indexes and opens the log files in {@code logDir}.
   */
  public static Future<NodeStore> open(Vertx vertx, Optional<String> connectionString, String database,
                                       EmbeddedMongo embedded, StoreSync sync, Path logDir) {
    return open(vertx, connectionString, database, embedded, sync, logDir, DocumentCache.DEFAULT_MEGABYTES * 1024L * 1024);
  }

  /** The same, with at most {@code cacheBytes} of documents read by id kept in memory ({@code data.cacheMegabytes}). */
  public static Future<NodeStore> open(Vertx vertx, Optional<String> connectionString, String database,
                                       EmbeddedMongo embedded, StoreSync sync, Path logDir, long cacheBytes) {
    DocumentCache cache = new DocumentCache(cacheBytes);
    JsonObject options = new JsonObject()
        .put("connection_string", connectionString.orElseGet(() -> embedded.connectionString())) // embedded is null here with an external MongoDB
        .put("db_name", database)
        .put("useObjectId", false);
    WorkerExecutor logWriter = vertx.createSharedWorkerExecutor("bully-log-write", 1);
    return vertx.executeBlocking(() -> LogFile.open(logDir, sync, logWriter), false).compose(logFile -> {
      MongoClient mongo = MongoClient.create(vertx, options);
      MongoClient data = MongoClient.create(vertx, options.copy().put("db_name", dataDatabase(database)));
      NodeStore store;
      if (connectionString.isPresent()) {
        WriteOption durability = sync == StoreSync.FSYNC ? WriteOption.JOURNALED : WriteOption.ACKNOWLEDGED;
        Snapshots snapshots = new Snapshots(data, mongo, durability, Future::succeededFuture);
        store = new NodeStore(vertx, mongo, data, durability, Future::succeededFuture, () -> {
          snapshots.close();
          mongo.close();
          data.close();
        }, Optional::empty, logFile, logWriter, snapshots, cache);
      } else {
        WorkerExecutor committer = vertx.createSharedWorkerExecutor("bully-store-commit", 1);
        GroupCommit groupCommit = new GroupCommit(committer, embedded::commit);
        Snapshots snapshots = new Snapshots(data, mongo, WriteOption.ACKNOWLEDGED, groupCommit::sync);
        store = new NodeStore(vertx, mongo, data, WriteOption.ACKNOWLEDGED, groupCommit::sync, () -> {
          snapshots.close();
          mongo.close();
          data.close();
          committer.close();
        }, embedded::diskShortage, logFile, logWriter, snapshots, cache);
      }
      return LegacySegments.move(mongo, logFile).map(store);
    }, failure -> {
      logWriter.close();
      return Future.failedFuture(failure);
    });
  }

  /** The database of the node's documents beside its own: {@code <db_name>_data}. */
  public static String dataDatabase(String database) {
    return database + "_data";
  }

  /** The node's documents, in {@link #dataDatabase}, written durably as this store's other writes are. */
  public Documents documents() {
    return documents;
  }

  /** Snapshots of the documents: read for followers, installed from the coordinator. */
  public Snapshots snapshots() {
    return snapshots;
  }

  /** How this store's writes meet failure: retried while it may pass, shown while they are ({@link StoreRetry#trouble}). */
  public StoreRetry retry() {
    return retry;
  }

  /** Whether the store answers at all; for readiness checks. */
  public Future<Void> ping() {
    return mongo.runCommand("ping", new JsonObject().put("ping", 1)).mapEmpty();
  }

  /** The term and promise, or {@link DurableState#INITIAL} on a fresh store (see {@link Meta#loadState}). */
  public Future<DurableState> loadState() {
    return meta.loadState();
  }

  /** This start's incarnation (see {@link Meta#nextIncarnation}). */
  public Future<Long> nextIncarnation() {
    return meta.nextIncarnation();
  }

  /** Persists the term and promise; completes once they are durable. */
  public Future<Void> saveState(DurableState state) {
    return meta.saveState(state);
  }

  /**
   * Makes a log write durable: the removed suffix goes to {@code rollback} (with the term that
   * replaced it and the time), then one record in the log files cuts the log there and appends the
   * new entries. Written again after a failed try, it leaves the log as one try would.
   */
  public Future<Void> write(LogWrite write) {
    if (write.resets()) {
      return reset(write);
    }
    if (write.removed().isEmpty() && write.appended().isEmpty()) {
      return Future.succeededFuture(); // the commit index alone: learned again from the coordinator after a restart
    }
    long from = write.removed().isEmpty() ? write.appended().get(0).index() : write.removed().get(0).index();
    // Rollback first: if the node dies half-way, the entries are in rollback and possibly still in the log, never in neither.
    Future<Void> kept = write.removed().isEmpty() ? Future.succeededFuture() : rollbacks.keep(write.removed(), write.replacedInTerm());
    return kept.compose(v -> logFile.write(from, write.appended(), write.commitIndex()));
  }

  /** Appends {@code entries} (consecutive, starting right after the current last entry). */
  public Future<Void> append(List<LogEntry> entries) {
    return append(entries, 0);
  }

  /**
   * Appends {@code entries} with {@code commitIndex}, an index known to be committed, so that a
   * restart knows which entries need not be read back into memory.
   */
  public Future<Void> append(List<LogEntry> entries, long commitIndex) {
    if (entries.isEmpty()) {
      return Future.succeededFuture();
    }
    return logFile.write(entries.get(0).index(), entries, commitIndex);
  }

  /**
   * The log as a restarted node holds it: see {@link LogLoader}. Also fills the directory of the
   * store's pages, which reads of old entries use from then on.
   */
  public Future<LogRestore> loadLog(LogLimits limits) {
    return meta.loadBase().onSuccess(base -> baseIndex = base.index())
        .compose(base -> new LogLoader(mongo, pages, this::unpagedEntries, logFile.commitIndex(), base).load(limits))
        .onSuccess(restore -> logFile.release(pages.pagedIndex()));
  }

  /** Where the log begins: entries up to {@code index} (of {@code term}) left the store; 0 when none did. */
  public record Base(long index, long term) {
    static final Base NONE = new Base(0, 0);
  }

  /**
   * Removes the log's entries up to {@code index} (of {@code term}): first the log's new base,
   * durably (a restart never reads the entries back from then on), then the pages that end at or
   * before it, and the tombstones of deletes up to it, which no operation still to apply needs.
   * A page that holds entries on both sides stays until a later compaction. A crash in between
   * leaves pages or tombstones that the next compaction removes.
   */
  public Future<Long> compact(long index, long term) {
    return movingBase(() -> index <= pages.pagedIndex() && index > baseIndex ? meta.saveBase(index, term)
        .compose(v -> pages.remove(pages.forgetUpTo(index)))
        .compose(v -> documents.forgetTombstones(index))
        .onSuccess(v -> {
          baseIndex = index;
          logFile.release(pages.pagedIndex());
        }) : Future.succeededFuture()).map(index);
  }

  /**
   * Runs {@code change} of the log's base after every one before it: a compaction that began before
   * a snapshot's reset must not save its base over the snapshot's.
   */
  private Future<Void> movingBase(Supplier<Future<Void>> change) {
    Future<Void> next = baseChanges.transform(ignored -> change.get());
    baseChanges = next.recover(ignored -> Future.succeededFuture());
    return next;
  }

  /**
   * A snapshot took the log's place: the uncommitted entries it replaces go to {@code rollback},
   * then a record of the log files cuts everything after its entry, then the log's new base is
   * saved, and the pages (all at or before it) go. A crash before the base is saved leaves the old
   * log cut at the snapshot's entry, which the coordinator answers with the snapshot again.
   */
  private Future<Void> reset(LogWrite write) {
    long index = write.resetIndex();
    Future<Void> kept = write.removed().isEmpty() ? Future.succeededFuture() : rollbacks.keep(write.removed(), write.replacedInTerm());
    return movingBase(() -> kept.compose(v -> logFile.write(index + 1, List.of(), index))
        .compose(v -> meta.saveBase(index, write.resetTerm()))
        .compose(v -> pages.remove(pages.forgetUpTo(index)))
        .onSuccess(v -> {
          baseIndex = index;
          logFile.release(pages.pagedIndex());
        }));
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
      boolean first = fromPages.isEmpty();
      return vertx.executeBlocking(() -> logFile.read(next, (int) (to - next + 1), first ? maxChars : left, first), false)
          .compose(fromFiles -> {
            if (mayRetry && (fromFiles.isEmpty() || fromFiles.get(0).index() != next) && pages.pagedIndex() >= next) {
              // A page was written meanwhile and the files that held what we looked for went: read again, from the pages.
              return entries(from, limit, maxChars, false);
            }
            List<LogEntry> result = new ArrayList<>(fromPages);
            result.addAll(fromFiles);
            return Future.succeededFuture(result);
          });
    });
  }

  /** Every entry the log files hold past the pages, in order: for a restart. */
  private Future<List<LogEntry>> unpagedEntries() {
    return vertx.executeBlocking(() -> logFile.read(pages.pagedIndex() + 1, Integer.MAX_VALUE, Long.MAX_VALUE, true), false);
  }

  /** How often the log files were forced to the device, and how long that took altogether. */
  public Forces logForces() {
    return logFile.forces();
  }

  /**
   * The directory of the store's pages, as {@link #loadLog} read it and later pages added to it: 8
   * bytes per page. A store opened later on the same data takes it over ({@link #usePageDirectory})
   * rather than reading every page's summary again.
   */
  public PageDirectory pageDirectory() {
    return pages.directory(baseIndex);
  }

  /** Takes over the directory of the pages that another store on the same data read, in place of {@link #loadLog}'s. */
  public void usePageDirectory(PageDirectory directory) {
    pages.use(directory);
    baseIndex = directory.baseIndex();
  }

  /** The first index of every page, ascending, how far the pages reach, and where the log begins. */
  public record PageDirectory(long[] starts, long pagedIndex, long baseIndex) {
  }

  /** A count of forces to the device and their time together. */
  public record Forces(long count, long nanos) {
  }

  /** An entry that a newer coordinator's log replaced, with the term that replaced it and when. */
  public record RolledBack(LogEntry entry, long replacedInTerm, long rolledBackAt) {
  }

  /** What this node moved out of its log, oldest first, at most {@code limit}. */
  public Future<List<RolledBack>> rolledBack(int limit) {
    return rollbacks.read(limit);
  }

  /** Closes the client; the embedded server itself is closed by its owner. */
  public void close() {
    retry.close();
    onClose.run();
    logFile.close();
    logWriter.close();
  }
}
