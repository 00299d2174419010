package dev.bully.store;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.bully.core.LogEntry;
import dev.bully.core.LogLimits;
import dev.bully.core.LogWrite;
import dev.bully.core.ReplicatedLog;
import dev.bully.core.TermRun;
import dev.bully.driver.LogRestore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The log's base on the real embedded store: compaction, a snapshot's reset, and restarts that read the log from the base. */
class CompactionTest {
  @TempDir
  Path dataDir;

  private Vertx vertx;
  private EmbeddedMongo embedded;
  private NodeStore store;

  @BeforeEach
  void open() throws Exception {
    vertx = Vertx.vertx();
    embedded = EmbeddedMongo.start(dataDir, StoreSync.FSYNC);
    store = await(NodeStore.open(vertx, Optional.empty(), "bully", embedded, StoreSync.FSYNC, dataDir.resolve("log")));
  }

  @AfterEach
  void close() throws Exception {
    store.close();
    embedded.close();
    await(vertx.close());
  }

  private void restart() throws Exception {
    close();
    open();
  }

  private static LogEntry entry(long index, long term) {
    return new LogEntry(index, term, "key-" + index, "{\"n\":" + index + "}", 1000 + index);
  }

  private static List<LogEntry> entries(long from, long to, long term) {
    return LongStream.rangeClosed(from, to).mapToObj(i -> entry(i, term)).toList();
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private <T> T withClient(String database, java.util.function.Function<MongoClient, Future<T>> use) throws Exception {
    MongoClient direct = MongoClient.create(vertx, new JsonObject()
        .put("connection_string", embedded.connectionString()).put("db_name", database).put("useObjectId", false));
    try {
      return await(use.apply(direct));
    } finally {
      direct.close();
    }
  }

  @Test
  void compactionRemovesThePagesBeforeTheBaseAndARestartReadsTheLogFromIt() throws Exception {
    await(store.write(new LogWrite(List.of(), 0, entries(1, 4, 1), 4, 4)));
    await(store.write(new LogWrite(List.of(), 0, entries(5, 9, 2), 9, 9)));
    await(store.writePage(entries(1, 3, 1)));
    await(store.writePage(List.of(entry(4, 1), entry(5, 2), entry(6, 2))));
    await(store.writePage(entries(7, 9, 2)));

    assertEquals(5L, await(store.compact(5, 2)));
    assertEquals(List.of(4L, 7L), withClient("bully", c -> c.find(LogPages.PAGES, new JsonObject()))
        .stream().map(page -> page.getLong("_id")).sorted().toList(), "the page of 1..3 went; the one of 4..6 holds 6 still");

    restart();
    LogRestore restored = await(store.loadLog(new LogLimits(1, 100)));
    assertEquals(5, restored.baseIndex());
    assertEquals(List.of(new TermRun(5, 2)), restored.termRuns(), "the terms from the base on");
    assertEquals(List.of(entry(9, 2)), restored.tail());
    ReplicatedLog log = restored.log(new LogLimits(1, 100));
    assertEquals(5, log.baseIndex());
    assertEquals(9, log.lastIndex());
    assertEquals(2, log.termAt(5));
    assertEquals(ReplicatedLog.UNKNOWN_TERM, log.termAt(4), "before the base, no term is known");
    assertEquals(entries(6, 9, 2), await(store.entries(6, 100)), "the entries after the base are read as before");
  }

  @Test
  void compactionRemovesTheTombstonesUpToItsIndexOnly() throws Exception {
    await(store.write(new LogWrite(List.of(), 0, entries(1, 9, 1), 9, 9)));
    await(store.writePage(entries(1, 9, 1)));
    withClient("bully", c -> c.insert("tombstones", new JsonObject().put("_id", "users/a").put("version", 3L))
        .compose(id -> c.insert("tombstones", new JsonObject().put("_id", "users/b").put("version", 8L))));
    await(store.compact(5, 1));
    assertEquals(List.of("users/b"), withClient("bully", c -> c.find("tombstones", new JsonObject()))
        .stream().map(t -> t.getString("_id")).toList(), "a delete after the base may still be applied again");
  }

  @Test
  void aSnapshotTakesTheLogsPlaceAndItsUncommittedEntriesGoToRollback() throws Exception {
    await(store.write(new LogWrite(List.of(), 0, entries(1, 4, 1), 4, 2)));
    await(store.writePage(entries(1, 2, 1)));
    // A snapshot up to entry 10 of term 2: entries 3 and 4, never committed here, are replaced.
    await(store.write(new LogWrite(entries(3, 4, 1), 2, List.of(), 10, 10, 10, 2)));
    assertEquals(List.of(3L, 4L), await(store.rolledBack(10)).stream().map(r -> r.entry().index()).toList());

    restart();
    LogRestore restored = await(store.loadLog(new LogLimits(100, 100)));
    assertEquals(10, restored.baseIndex());
    assertEquals(List.of(), restored.tail(), "nothing after the snapshot's entry yet");
    assertEquals(10, restored.log(new LogLimits(100, 100)).lastIndex());
    long pages = withClient("bully", c -> c.count(LogPages.PAGES, new JsonObject()));
    assertEquals(0L, pages, "the pages before it are gone");

    await(store.append(entries(11, 12, 2), 12));
    restart();
    LogRestore later = await(store.loadLog(new LogLimits(100, 100)));
    assertEquals(entries(11, 12, 2), later.tail(), "the log goes on after the snapshot");
    assertEquals(List.of(new TermRun(10, 2)), later.termRuns());
  }
}
