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
import java.util.function.Supplier;

/**
 * Reads a node's log back at start-up without holding every entry: the terms of the paged entries
 * from the pages' term runs (their summaries, not their entries), then the entries of the log files
 * past the pages, the newest paged entries (at least the last: {@link LogLimits#restoreFrom}), and
 * the idempotency keys of the {@link LogLimits#idempotencyKeys()} newest entries.
 *
 * <p>Log files may still hold entries that a page covers (a page is written before the files it
 * covers are removed, so a crash can leave both): only what lies past the pages counts.
 */
final class LogLoader {
  private static final int SCAN_BATCH = 1000;

  private final MongoClient mongo;
  private final LogPages pages;
  private final Supplier<Future<List<LogEntry>>> unpaged;
  private final List<TermRun> runs = new ArrayList<>();
  private long lastIndex;
  private long commitIndex;

  private final long baseIndex;

  /**
   * {@code unpaged} reads the log files' entries past the pages; {@code commitIndex} is the highest
   * their records carry; the log begins after {@code base} ({@code NodeStore.Base}: its entries up
   * to there left the store).
   */
  LogLoader(MongoClient mongo, LogPages pages, Supplier<Future<List<LogEntry>>> unpaged, long commitIndex, NodeStore.Base base) {
    this.mongo = mongo;
    this.pages = pages;
    this.unpaged = unpaged;
    this.commitIndex = commitIndex;
    this.baseIndex = base.index();
    if (base.index() > 0) {
      runs.add(new TermRun(base.index(), base.term()));
      lastIndex = base.index();
      pages.forgetUpTo(base.index());
    }
  }

  Future<LogRestore> load(LogLimits limits) {
    JsonObject withoutEntries = new JsonObject().put("entries", 0);
    return scan(LogPages.PAGES, new JsonObject(), withoutEntries, this::addPage)
        .compose(v -> unpaged.get())
        .compose(read -> {
          List<LogEntry> entries = read.stream().filter(entry -> entry.index() > baseIndex).toList();
          if (!entries.isEmpty()) {
            addRuns(TermRun.of(entries), entries.get(entries.size() - 1).index());
          }
          return readNewest(limits, entries);
        });
  }

  private void addPage(JsonObject page) {
    long first = page.getLong("_id");
    long last = page.getLong("last");
    if (last <= baseIndex) {
      return; // left behind by a compaction a crash cut short: the next one removes it
    }
    addRuns(runsOf(page.getJsonArray("terms")), last);
    pages.add(first, last);
  }

  /**
   * Term runs over entries up to {@code last}: only what lies past the entries already read counts.
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

  private Future<LogRestore> readNewest(LogLimits limits, List<LogEntry> unpagedEntries) {
    long paged = pages.pagedIndex();
    LogRestore restore = new LogRestore(baseIndex, runs, lastIndex, commitIndex, paged, limits);
    long from = restore.readFrom();
    long tailFrom = restore.tailFrom();
    // Before the tail only the keys count: read from the pages' keys, not their entries.
    Future<Void> fromPages = pages.readKeys(from, Math.min(tailFrom - 1, paged), restore::takeKey)
        .compose(v -> readPages(Math.max(from, tailFrom), paged, restore::take));
    return fromPages.map(v -> {
      unpagedEntries.stream().filter(entry -> entry.index() >= from).forEach(restore::take);
      return restore;
    });
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
