package dev.bully.store;

import dev.bully.core.LogEntry;
import dev.bully.core.LogLimits;
import dev.bully.core.TermRun;
import dev.bully.core.WriteLimits;
import dev.bully.driver.LogRestore;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.FindOptions;
import io.vertx.ext.mongo.MongoClient;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Reads a node's log back at start-up without holding every entry: the terms of all entries from
 * the pages' and segments' term runs (their summaries, not their entries), then the newest entries
 * (every one the pages do not hold, and at least the last: {@link LogLimits#restoreFrom}), and the
 * idempotency keys of the {@link LogLimits#idempotencyKeys()} newest entries.
 *
 * <p>Segments that a page already covers (a page is written before the segments it covers are
 * removed, so a crash can leave both) count only for what lies past the pages.
 */
final class LogLoader {
  private static final int SCAN_BATCH = 1000;

  private final MongoClient mongo;
  private final LogPages pages;
  private final List<TermRun> runs = new ArrayList<>();
  private long lastIndex;
  private long commitIndex;

  LogLoader(MongoClient mongo, LogPages pages) {
    this.mongo = mongo;
    this.pages = pages;
  }

  Future<LogRestore> load(LogLimits limits) {
    return scanSummaries().compose(v -> readNewest(limits));
  }

  /** The pages' and the segments' summaries (their entries left out), each in index order. */
  private Future<Void> scanSummaries() {
    JsonObject withoutEntries = new JsonObject().put("entries", 0);
    return scan(LogPages.PAGES, new JsonObject(), withoutEntries, this::addPage)
        .compose(v -> scan(NodeStore.LOG, new JsonObject(), withoutEntries, this::addSegment));
  }

  private void addPage(JsonObject page) {
    long first = page.getLong("_id");
    long last = page.getLong("last");
    addRuns(runsOf(page.getJsonArray("terms")), last);
    pages.add(first, last);
  }

  private void addSegment(JsonObject segment) {
    long last = segment.getLong("last");
    if (last <= lastIndex) {
      return; // a page holds it all (written before the segment was removed)
    }
    addRuns(runsOf(segment.getJsonArray("terms")), last);
    commitIndex = Math.max(commitIndex, segment.getLong("commit", 0L));
  }

  /**
   * A document's term runs, over its entries up to {@code last}: only what lies past the entries
   * already read counts (a segment may overlap the pages, which hold the same committed entries).
   */
  private void addRuns(List<TermRun> documentRuns, long last) {
    for (int i = 0; i < documentRuns.size(); i++) {
      long end = i + 1 < documentRuns.size() ? documentRuns.get(i + 1).firstIndex() - 1 : last;
      if (end > lastIndex) {
        long term = documentRuns.get(i).term();
        if (runs.isEmpty() || runs.get(runs.size() - 1).term() != term) {
          runs.add(new TermRun(Math.max(documentRuns.get(i).firstIndex(), lastIndex + 1), term));
        }
      }
    }
    lastIndex = Math.max(lastIndex, last);
  }

  private static List<TermRun> runsOf(JsonArray terms) {
    List<TermRun> result = new ArrayList<>();
    terms.forEach(run -> result.add(new TermRun(((JsonArray) run).getLong(0), ((JsonArray) run).getLong(1))));
    return result;
  }

  private Future<LogRestore> readNewest(LogLimits limits) {
    long paged = pages.pagedIndex();
    LogRestore restore = new LogRestore(runs, lastIndex, commitIndex, paged, limits);
    long from = restore.readFrom();
    long tailFrom = restore.tailFrom();
    // Before the tail only the keys count: read from the pages' keys, not their entries.
    Future<Void> fromPages = pages.readKeys(from, Math.min(tailFrom - 1, paged), restore::takeKey)
        .compose(v -> readPages(Math.max(from, tailFrom), paged, restore::take));
    // The rest in one pass over the segments: reading them a batch at a time would read the collection each time.
    JsonObject unpaged = new JsonObject().put("last", new JsonObject().put("$gt", paged));
    return fromPages
        .compose(v -> scan(NodeStore.LOG, unpaged, null, segment -> NodeStore.segmentEntries(segment).stream()
            .filter(entry -> entry.index() > paged && entry.index() >= from).forEach(restore::take)))
        .map(v -> restore);
  }

  /** Hands the paged entries from {@code from} to {@code to} to {@code take}, a document's worth at a time. */
  private Future<Void> readPages(long from, long to, Consumer<LogEntry> take) {
    if (from > to) {
      return Future.succeededFuture();
    }
    return pages.read(from, to, WriteLimits.DOCUMENT_CHARS).compose(entries -> {
      if (entries.isEmpty()) {
        return Future.failedFuture(new IllegalStateException("the store's pages lack entry " + from));
      }
      entries.forEach(take);
      return readPages(entries.get(entries.size() - 1).index() + 1, to, take);
    });
  }

  /** Streams a collection's documents that match {@code query}, in index order, to {@code each}. */
  private Future<Void> scan(String collection, JsonObject query, JsonObject fields, Consumer<JsonObject> each) {
    Promise<Void> done = Promise.promise();
    FindOptions options = new FindOptions().setSort(new JsonObject().put("_id", 1)).setBatchSize(SCAN_BATCH);
    if (fields != null) {
      options.setFields(fields);
    }
    mongo.findBatchWithOptions(collection, query, options)
        .exceptionHandler(done::tryFail)
        .endHandler(v -> done.tryComplete())
        .handler(document -> {
          try {
            each.accept(document);
          } catch (RuntimeException e) {
            done.tryFail(e);
          }
        });
    return done.future();
  }
}
