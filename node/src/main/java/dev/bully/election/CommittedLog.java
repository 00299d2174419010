package dev.bully.election;

import dev.bully.core.Election;
import dev.bully.core.LogEntry;
import dev.bully.core.WriteLimits;
import dev.bully.store.EntryCodec;
import dev.bully.driver.Storage;
import io.vertx.core.Promise;
import java.util.ArrayList;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * This node's committed entries read for clients, on the election verticle's thread: from memory
 * or, once they left it (the driver's pager wrote them into the store's pages), from the store.
 */
final class CommittedLog implements CommittedFeed.Source {

  /**
   * The text one read answers at most (and at least one entry): 4 Mi characters, about 4 MiB,
   * so that a page of the read API of the largest entries fits in a small heap.
   */
  static final long READ_CHARS = 4L * 1024 * 1024;

  private final Election election;
  private final Storage store;

  CommittedLog(Election election, Storage store) {
    this.election = election;
    this.store = store;
  }

  /**
   * Committed entries, for clients: {@code {index}} for one, answered as {@code {commitIndex,
   * lastIndex, entry}} with the entry as its JSON text (absent if not committed here); {@code
   * {from, limit}} for a range, answered as the JSON text {@code {commitIndex, lastIndex, entries,
   * next}}. A range stops at {@code limit} entries or {@link #READ_CHARS} of text, whichever comes
   * first (always one entry, if there is one); {@code next} is the index to read on from, or null
   * when no committed entry follows. Entries that have left memory are read from the store, where
   * committed entries never change. The entries' data is copied as text, never parsed into a tree.
   */
  Future<Object> read(JsonObject query) {
    long commitIndex = election.logView().commitIndex();
    long lastIndex = election.log().index();
    long base = election.logView().baseIndex();
    long asked = query.containsKey("index") ? query.getLong("index") : query.getLong("from");
    if (asked <= base) {
      // Entries this node applied and compacted (log.retainEntries): the log holds them no more.
      return Future.failedFuture(new io.vertx.core.eventbus.ReplyException(io.vertx.core.eventbus.ReplyFailure.RECIPIENT_FAILURE,
          Outcome.COMPACTED, Long.toString(base + 1)));
    }
    if (query.containsKey("index")) {
      return entries(query.getLong("index"), 1, commitIndex).map(entries -> new JsonObject()
          .put("commitIndex", commitIndex).put("lastIndex", lastIndex)
          .put("entry", entries.isEmpty() ? null : EntryCodec.append(new StringBuilder(), entries.get(0), "").toString()));
    }
    long from = query.getLong("from");
    return entries(from, query.getInteger("limit"), commitIndex).compose(entries -> {
      if (entries.isEmpty() && from <= commitIndex && query.getInteger("limit") > 0) {
        // Answering "nothing here, read on from the same index" would send a client round for ever.
        return Future.failedFuture(new IllegalStateException("the store served no entry from " + from + " on, though "
            + commitIndex + " are committed"));
      }
      long after = from + entries.size();
      return Future.succeededFuture((Object) ("{\"commitIndex\":" + commitIndex + ",\"lastIndex\":" + lastIndex
          + ",\"entries\":" + EntryCodec.encode(entries) + ",\"next\":" + (after <= commitIndex ? Long.toString(after) : "null")
          + "}"));
    });
  }

  @Override
  public long commitIndex() {
    return election.logView().commitIndex();
  }

  /** Up to {@code limit} committed entries from {@code from} on, within {@link #READ_CHARS} (one at least). */
  @Override
  public Future<List<LogEntry>> entries(long from, int limit) {
    if (from <= election.logView().baseIndex()) {
      return Future.succeededFuture(List.of()); // compacted, or replaced by a snapshot: the log holds them no more
    }
    return entries(from, limit, commitIndex());
  }

  /** Up to {@code limit} committed entries from {@code from} on, within {@link #READ_CHARS} (one at least). */
  private Future<List<LogEntry>> entries(long from, int limit, long commitIndex) {
    long last = Math.min(commitIndex, from + limit - 1);
    if (last < from) {
      return Future.succeededFuture(List.of());
    }
    long firstInMemory = election.logView().firstInMemory();
    Future<List<LogEntry>> stored = from >= firstInMemory ? Future.succeededFuture(List.of())
        : read(from, (int) (Math.min(last, firstInMemory - 1) - from + 1));
    // Taken now (references only): once the store read completes, these may have left memory.
    long memoryFrom = Math.max(from, firstInMemory);
    List<LogEntry> inMemory = election.logView().committed(memoryFrom, (int) (last - memoryFrom + 1));
    return stored.map(older -> {
      List<LogEntry> entries = new ArrayList<>(older);
      long chars = older.stream().mapToLong(WriteLimits::entryChars).sum();
      if (from + older.size() == memoryFrom) {
        for (LogEntry entry : inMemory) {
          chars += WriteLimits.entryChars(entry);
          if (chars > READ_CHARS && !entries.isEmpty()) {
            break;
          }
          entries.add(entry);
        }
      }
      return entries;
    });
  }

  private Future<List<LogEntry>> read(long from, int count) {
    Promise<List<LogEntry>> read = Promise.promise();
    store.readEntries(from, count, READ_CHARS, read::complete);
    return read.future();
  }
}
