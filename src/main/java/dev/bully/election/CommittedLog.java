package dev.bully.election;

import dev.bully.core.Election;
import dev.bully.core.LogEntry;
import dev.bully.store.NodeStore;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's committed entries, on the election verticle's thread: read for clients from memory
 * or, once they left it, from the store; and written into the store's pages, after which the core
 * lets them leave memory.
 */
final class CommittedLog {
  private static final Logger log = LoggerFactory.getLogger(CommittedLog.class);

  private final int nodeId;
  private final Election election;
  private final NodeStore store;
  private final BooleanSupplier stopping;
  /** A page write is in flight. */
  private boolean paging;

  CommittedLog(int nodeId, Election election, NodeStore store, BooleanSupplier stopping) {
    this.nodeId = nodeId;
    this.election = election;
    this.store = store;
    this.stopping = stopping;
  }

  /**
   * Committed entries: {@code {index}} for one, {@code {from, limit}} for a range. Entries that have
   * left memory are read from the store, where committed entries never change.
   */
  Future<JsonObject> read(JsonObject query) {
    long commitIndex = election.status().commitIndex();
    JsonObject reply = new JsonObject().put("commitIndex", commitIndex).put("lastIndex", election.log().index());
    boolean one = query.containsKey("index");
    long from = one ? query.getLong("index") : query.getLong("from");
    int limit = one ? 1 : query.getInteger("limit");
    long last = Math.min(commitIndex, from + limit - 1);
    if (last < from) {
      return Future.succeededFuture(one ? reply : reply.put("entries", new JsonArray()));
    }
    long firstInMemory = election.firstInMemory();
    Future<List<LogEntry>> stored = from >= firstInMemory ? Future.succeededFuture(List.of())
        : store.entries(from, (int) (Math.min(last, firstInMemory - 1) - from + 1));
    long memoryFrom = Math.max(from, firstInMemory);
    List<LogEntry> inMemory = election.committed(memoryFrom, (int) (last - memoryFrom + 1));
    return stored.map(older -> {
      JsonArray entries = new JsonArray();
      older.forEach(e -> entries.add(NodeStore.encode(e)));
      inMemory.forEach(e -> entries.add(NodeStore.encode(e)));
      return one ? reply.put("entry", entries.getJsonObject(0)) : reply.put("entries", entries);
    });
  }

  /**
   * Writes committed entries into the store's pages, one page at a time, off the path of client
   * writes; once a page is durable its entries may leave memory. A failed page write is tried again
   * later: its entries stay in memory and in the log segments meanwhile.
   */
  void pageIfDue() {
    if (paging || stopping.getAsBoolean()) {
      return;
    }
    List<LogEntry> page = election.entriesToPage(NodeStore.PAGE_ENTRIES);
    if (page.isEmpty()) {
      return;
    }
    paging = true;
    store.writePage(page).onComplete(written -> {
      paging = false;
      if (written.succeeded()) {
        election.paged(page.get(page.size() - 1).index());
        pageIfDue();
      } else if (!stopping.getAsBoolean()) {
        log.warn("Node {} could not write entries {}..{} into a page of its store: {}", nodeId,
            page.get(0).index(), page.get(page.size() - 1).index(), written.cause().toString());
      }
    });
  }
}
