package dev.bully.store;

import dev.bully.core.IdempotencyKey;
import dev.bully.core.LogEntry;
import dev.bully.core.TermRun;
import dev.bully.core.WriteLimits;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.mongo.UpdateOptions;
import io.vertx.ext.mongo.WriteOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.LongConsumer;
import java.util.function.Supplier;

/**
 * The log's committed entries in pages: collection {@code pages}, one document per page,
 * {@code {_id: firstIndex, last, terms: [[index, term], ...], entries: BinData("[...]"),
 * keys: BinData("[key or null, ...]")}}, written once when all of its entries are committed and
 * durable, and never changed again. {@code keys} are the entries' idempotency keys in index order,
 * so that a restart remembers the newest keys without parsing the entries they came with (pages
 * written before there were keys are read whole).
 *
 * <p>Why pages: the embedded store finds a document by {@code _id} at once, but answers any range
 * query by reading every document of the collection. Log segments are as many as append batches
 * (one per write, under light load), so reading old entries from them slows down as the log
 * grows. Pages hold up to {@link #PAGE_ENTRIES} entries each; a reader finds the pages it needs in
 * a directory of their first indexes kept in memory (8 bytes per page) and fetches them by
 * {@code _id}. Once a page is durable, the log files it covers are removed ({@link LogFile#release}).
 */
final class LogPages {
  static final String PAGES = "pages";
  /** Entries per page, at most (and at most {@link WriteLimits#DOCUMENT_CHARS} of text): a follower's catch-up batch is one or two pages. */
  static final int PAGE_ENTRIES = 1000;
  static final String KEYS = "keys";
  private static final JsonObject KEYS_ONLY = new JsonObject().put("_id", 1).put(KEYS, 1);

  private final MongoClient mongo;
  private final WriteOption writeOption;
  private final Supplier<Future<Void>> durable;
  private final LongConsumer paged;
  /** The first index of every page, ascending. */
  private long[] starts = new long[64];
  private int count;
  private long pagedIndex;

  LogPages(MongoClient mongo, WriteOption writeOption, Supplier<Future<Void>> durable, LongConsumer paged) {
    this.mongo = mongo;
    this.writeOption = writeOption;
    this.durable = durable;
    this.paged = paged;
  }

  /** How far the pages reach: every entry up to here is in a page. */
  synchronized long pagedIndex() {
    return pagedIndex;
  }

  /** The directory as it is now: the first index of every page, and how far they reach. */
  synchronized NodeStore.PageDirectory directory(long baseIndex) {
    return new NodeStore.PageDirectory(Arrays.copyOf(starts, count), pagedIndex, baseIndex);
  }

  /** Takes {@code directory} as its own: read by another store on the same data. */
  synchronized void use(NodeStore.PageDirectory directory) {
    starts = Arrays.copyOf(directory.starts(), Math.max(64, directory.starts().length));
    count = directory.starts().length;
    pagedIndex = directory.pagedIndex();
  }

  /**
   * The log begins after {@code index} now: pages that end at or before it are gone from the
   * directory (the caller removes them from the store), and the pages reach at least there.
   * Returns the first index of each page that went.
   */
  synchronized List<Long> forgetUpTo(long index) {
    List<Long> gone = new ArrayList<>();
    int keep = 0;
    while (keep < count && (keep + 1 < count ? starts[keep + 1] - 1 : pagedIndex) <= index) {
      gone.add(starts[keep]);
      keep++;
    }
    System.arraycopy(starts, keep, starts, 0, count - keep);
    count -= keep;
    pagedIndex = Math.max(pagedIndex, index);
    return gone;
  }

  /** Removes pages from the store by their first index, one look-up by {@code _id} each, then makes that durable. */
  Future<Void> remove(List<Long> firstIndexes) {
    Future<Void> chain = Future.succeededFuture();
    for (long id : firstIndexes) {
      chain = chain.compose(v -> mongo.removeDocumentWithOptions(PAGES, new JsonObject().put("_id", id), writeOption).mapEmpty());
    }
    return chain.compose(v -> durable.get());
  }

  /** A page exists from {@code first} to {@code last} (read at start-up, or just written). */
  synchronized void add(long first, long last) {
    if (count > 0 && first <= starts[count - 1]) {
      return; // already known
    }
    if (count == starts.length) {
      starts = Arrays.copyOf(starts, count * 2);
    }
    starts[count++] = first;
    pagedIndex = Math.max(pagedIndex, last);
  }

  /**
   * Writes {@code entries} (committed, consecutive, right after {@link #pagedIndex()}) as one page,
   * durably, then lets the log files that the pages now cover go; {@code again} after a try that
   * failed, which may have left the page in the store.
   */
  Future<Void> write(List<LogEntry> entries, boolean again) {
    long first = entries.get(0).index();
    long last = entries.get(entries.size() - 1).index();
    JsonObject page = new JsonObject()
        .put("_id", first)
        .put("last", last)
        .put("terms", termRuns(entries))
        .put("entries", EntryCodec.toStored(entries))
        .put(KEYS, keysOf(entries));
    Future<?> written = again
        ? mongo.replaceDocumentsWithOptions(PAGES, new JsonObject().put("_id", first), page,
            new UpdateOptions().setUpsert(true).setWriteOption(writeOption))
        : mongo.insertWithOptions(PAGES, page, writeOption);
    return written
        .compose(id -> durable.get())
        .onSuccess(v -> {
          add(first, last);
          paged.accept(pagedIndex());
        });
  }

  /** The entries' idempotency keys as a page stores them: a JSON array, null for an entry without one. */
  private static JsonObject keysOf(List<LogEntry> entries) {
    JsonArray keys = new JsonArray(new ArrayList<>(entries.size()));
    entries.forEach(entry -> keys.add(entry.requestId()));
    return new JsonObject().put("$binary", keys.toBuffer().getBytes());
  }

  /**
   * Hands the idempotency keys of the paged entries from {@code from} to {@code to} to {@code take},
   * a page at a time, reading only the pages' keys; a page without keys is read whole.
   */
  Future<Void> readKeys(long from, long to, java.util.function.Consumer<IdempotencyKey> take) {
    List<Long> ids = pagesCovering(from, to);
    Future<Void> chain = Future.succeededFuture();
    for (long id : ids) {
      chain = chain.compose(v -> mongo.findOne(PAGES, new JsonObject().put("_id", id), KEYS_ONLY)).compose(page -> {
        if (page == null) {
          return Future.failedFuture(new IllegalStateException("the store's pages lack the page from entry " + id));
        }
        if (!(page.getValue(KEYS) instanceof JsonObject binary) || !binary.containsKey("$binary")) {
          long pageEnd = Math.min(to, nextPageAfter(id) - 1);
          return read(Math.max(from, id), pageEnd, Long.MAX_VALUE).map(entries -> {
            entries.stream().filter(e -> e.requestId() != null)
                .forEach(e -> take.accept(new IdempotencyKey(e.index(), e.requestId())));
            return null;
          });
        }
        JsonArray keys = new JsonArray(io.vertx.core.buffer.Buffer.buffer(binary.getBinary("$binary")));
        for (int i = 0; i < keys.size(); i++) {
          long index = id + i;
          if (index >= from && index <= to && keys.getValue(i) != null) {
            take.accept(new IdempotencyKey(index, keys.getString(i)));
          }
        }
        return Future.<Void>succeededFuture();
      });
    }
    return chain;
  }

  /** The first indexes of the pages that hold entries from {@code from} to {@code to}, ascending. */
  private synchronized List<Long> pagesCovering(long from, long to) {
    List<Long> ids = new ArrayList<>();
    int position = Arrays.binarySearch(starts, 0, count, from);
    for (int i = position >= 0 ? position : Math.max(0, -position - 2); i < count && starts[i] <= to; i++) {
      ids.add(starts[i]);
    }
    return ids;
  }

  /** The first index of the page after the one that starts at {@code first}, or no limit for the last page. */
  private synchronized long nextPageAfter(long first) {
    int position = Arrays.binarySearch(starts, 0, count, first);
    return position >= 0 && position + 1 < count ? starts[position + 1] : Long.MAX_VALUE;
  }

  /**
   * The entries from {@code from} to {@code to}, both at most {@link #pagedIndex()}, in order,
   * holding at most {@code maxChars} of text together but always the first. Pages are fetched one
   * after another, as far as the budget goes: a page may hold a document's worth of text.
   */
  Future<List<LogEntry>> read(long from, long to, long maxChars) {
    List<Long> ids = pagesCovering(from, to);
    return readPages(ids, 0, from, to, maxChars, new ArrayList<>(), 0);
  }

  private Future<List<LogEntry>> readPages(List<Long> ids, int next, long from, long to, long maxChars, List<LogEntry> result,
                                           long charsSoFar) {
    if (next == ids.size()) {
      return Future.succeededFuture(result);
    }
    // One look-up by _id per page: the embedded store serves those from its index (a $in or a range it does not).
    return mongo.findOne(PAGES, new JsonObject().put("_id", ids.get(next)), null).compose(page -> {
      if (page == null) {
        return Future.succeededFuture(result); // cannot happen while pages are never removed; the caller sees a short read
      }
      long chars = charsSoFar;
      for (LogEntry entry : EntryCodec.fromStored(page.getValue("entries"))) {
        if (entry.index() >= from && entry.index() <= to) {
          chars += WriteLimits.entryChars(entry);
          if (chars > maxChars && !result.isEmpty()) {
            return Future.succeededFuture(result);
          }
          result.add(entry);
        }
      }
      return readPages(ids, next + 1, from, to, maxChars, result, chars);
    });
  }

  /** A page's terms as runs, {@code [[firstIndex, term], ...]}: read at start-up without the entries. */
  static JsonArray termRuns(List<LogEntry> entries) {
    JsonArray runs = new JsonArray();
    TermRun.of(entries).forEach(run -> runs.add(new JsonArray().add(run.firstIndex()).add(run.term())));
    return runs;
  }
}
