package dev.bully.store;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.bully.core.IdempotencyKey;
import dev.bully.core.LogEntry;
import dev.bully.core.LogLimits;
import dev.bully.core.TermRun;
import dev.bully.core.LogWrite;
import dev.bully.driver.LogRestore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
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

/** The log on the real embedded store, through the real MongoDB client, and in its files beside it. */
class NodeStoreTest {
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

  private static LogEntry entry(long index, long term) {
    return new LogEntry(index, term, index % 2 == 0 ? "key-" + index : null, "{\"n\":" + index + "}", 1000 + index);
  }

  private static List<LogEntry> entries(long from, long to, long term) {
    return LongStream.rangeClosed(from, to).mapToObj(i -> entry(i, term)).toList();
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  @Test
  void eachStartHasTheNextIncarnationAndAStoredTermAtTheLimitStopsTheStart() throws Exception {
    long before = System.currentTimeMillis();
    long first = await(store.nextIncarnation());
    org.junit.jupiter.api.Assertions.assertTrue(first >= before, "from the clock on a fresh store: " + first);
    long second = await(store.nextIncarnation());
    org.junit.jupiter.api.Assertions.assertTrue(second > first);
    await(store.saveState(new dev.bully.core.DurableState(dev.bully.core.Message.MAX_NUMBER, 0)));
    close();
    open();
    org.junit.jupiter.api.Assertions.assertTrue(await(store.nextIncarnation()) > second, "counted on across a restart");
    Exception failure = org.junit.jupiter.api.Assertions.assertThrows(Exception.class, () -> await(store.loadState()));
    org.junit.jupiter.api.Assertions.assertTrue(failure.getMessage().contains("at or beyond the protocol's limit of 2^53"),
        failure.getMessage());
  }

  @Test
  void entriesAreReadBackAcrossRecordsFromAnyIndexAndAfterARestart() throws Exception {
    await(store.append(entries(1, 3, 1)));
    await(store.append(entries(4, 4, 1)));
    await(store.append(entries(5, 9, 2)));
    List<LogEntry> all = new java.util.ArrayList<>(entries(1, 4, 1));
    all.addAll(entries(5, 9, 2));
    assertEquals(all, await(store.entries(1, 100)));
    assertEquals(List.of(entry(3, 1), entry(4, 1), entry(5, 2)), await(store.entries(3, 3)));
    assertEquals(List.of(entry(9, 2)), await(store.entries(9, 10)));
    assertEquals(List.of(), await(store.entries(10, 10)));
    close();
    open();
    assertEquals(all, await(store.entries(1, 100)), "the same after a restart");
    LogRestore restored = await(store.loadLog(new LogLimits(100, 100)));
    assertEquals(all, restored.tail());
    assertEquals(9, restored.log(new LogLimits(100, 100)).lastIndex());
  }

  @Test
  void aRollbackCutsInsideARecordKeepsWhatWasBeforeAndMovesTheRestToRollback() throws Exception {
    await(store.append(entries(1, 4, 1)));
    await(store.append(entries(5, 6, 1)));
    List<LogEntry> replacement = entries(3, 5, 2);
    await(store.write(new LogWrite(await(store.entries(3, 10)), 2, replacement, 5, 0)));

    List<LogEntry> expected = new java.util.ArrayList<>(entries(1, 2, 1));
    expected.addAll(replacement);
    assertEquals(expected, await(store.entries(1, 100)));
    List<NodeStore.RolledBack> rolledBack = await(store.rolledBack(100));
    assertEquals(entries(3, 6, 1), rolledBack.stream().map(NodeStore.RolledBack::entry).toList());
    assertEquals(List.of(2L), rolledBack.stream().map(NodeStore.RolledBack::replacedInTerm).distinct().toList());
    assertEquals("{\"n\":4}", rolledBack.get(1).entry().data());
    close();
    open();
    assertEquals(expected, await(store.entries(1, 100)), "a restart replays the cut as well");
    assertEquals(expected, await(store.loadLog(new LogLimits(100, 100))).tail());
  }

  @Test
  void aCutWithNothingAppendedShortensTheLog() throws Exception {
    await(store.append(entries(1, 5, 1)));
    await(store.write(new LogWrite(await(store.entries(4, 10)), 2, List.of(), 3, 0)));
    assertEquals(entries(1, 3, 1), await(store.entries(1, 100)));
    await(store.write(new LogWrite(List.of(), 0, List.of(), 3, 2))); // nothing to store: the commit index alone
    assertEquals(entries(1, 3, 1), await(store.entries(1, 100)));
    close();
    open();
    LogRestore restored = await(store.loadLog(new LogLimits(100, 100)));
    assertEquals(3, restored.log(new LogLimits(100, 100)).lastIndex());
    assertEquals(entries(1, 3, 1), restored.tail());
  }

  @Test
  void pagesHoldCommittedEntriesAndReadsGoOnFromTheLogFiles() throws Exception {
    await(store.write(new LogWrite(List.of(), 0, entries(1, 4, 1), 4, 2)));
    await(store.write(new LogWrite(List.of(), 0, entries(5, 6, 2), 6, 5)));
    await(store.write(new LogWrite(List.of(), 0, List.of(entry(7, 2), entry(8, 3), entry(9, 3)), 9, 7)));
    await(store.writePage(entries(1, 3, 1)));
    await(store.writePage(List.of(entry(4, 1), entry(5, 2))));
    assertEquals(5, store.pagedIndex());

    List<LogEntry> all = new java.util.ArrayList<>(entries(1, 4, 1));
    all.addAll(List.of(entry(5, 2), entry(6, 2), entry(7, 2), entry(8, 3), entry(9, 3)));
    assertEquals(all, await(store.entries(1, 100)), "read across both pages and the segments");
    assertEquals(all.subList(2, 7), await(store.entries(3, 5)));
    assertEquals(List.of(entry(5, 2)), await(store.entries(5, 1)));
  }

  @Test
  void aRestartReadsTheTermsOfEveryEntryButOnlyTheNewestEntriesAndKeys() throws Exception {
    await(store.write(new LogWrite(List.of(), 0, entries(1, 4, 1), 4, 2)));
    await(store.write(new LogWrite(List.of(), 0, entries(5, 6, 2), 6, 5)));
    await(store.write(new LogWrite(List.of(), 0, List.of(entry(7, 2), entry(8, 3), entry(9, 3)), 9, 7)));
    // A rollback that cuts the last record keeps its term runs right.
    await(store.write(new LogWrite(List.of(entry(9, 3)), 4, List.of(entry(9, 4)), 9, 7)));
    await(store.writePage(entries(1, 5, 1).stream().map(e -> e.index() == 5 ? entry(5, 2) : e).toList()));

    LogRestore start = await(store.loadLog(new LogLimits(2, 6)));
    assertEquals(List.of(new TermRun(1, 1), new TermRun(5, 2), new TermRun(8, 3), new TermRun(9, 4)), start.termRuns());
    assertEquals(7, start.commitIndex(), "the highest commit index a record carries");
    assertEquals(5, start.pagedIndex());
    assertEquals(List.of(entry(6, 2), entry(7, 2), entry(8, 3), entry(9, 4)), start.tail(),
        "every entry past the pages, over the limit of two");
    assertEquals(List.of(new IdempotencyKey(4, "key-4")), start.olderKeys(), "keys of the six newest entries, before the tail");

    LogRestore narrow = await(store.loadLog(new LogLimits(1, 0)));
    assertEquals(start.tail(), narrow.tail());
    assertEquals(List.of(), narrow.olderKeys());
  }

  @Test
  void aRestartReadsTheNewestKeysFromThePagesKeysAndFromTheEntriesOfAPageWrittenWithout() throws Exception {
    // Entry 2 has no key, as a coordinator's no-op.
    List<LogEntry> first = List.of(new LogEntry(1, 1, "key-1", "{}", 1001), new LogEntry(2, 1, null, "{}", 1002),
        new LogEntry(3, 1, "key-3", "{}", 1003));
    await(store.write(new LogWrite(List.of(), 0, first, 3, 3)));
    await(store.write(new LogWrite(List.of(), 0, entries(4, 6, 1), 6, 6)));
    await(store.writePage(first));
    await(store.writePage(entries(4, 6, 1)));
    // The tail is entry 6; the keys before it, of entries 1 to 5 (5 has none).
    List<IdempotencyKey> expected = List.of(new IdempotencyKey(1, "key-1"), new IdempotencyKey(3, "key-3"),
        new IdempotencyKey(4, "key-4"));
    assertEquals(expected, await(store.loadLog(new LogLimits(1, 6))).olderKeys(), "from the pages' keys");

    MongoClient direct = MongoClient.create(vertx, new JsonObject()
        .put("connection_string", embedded.connectionString()).put("db_name", "bully").put("useObjectId", false));
    try {
      // A page as stores wrote them before pages had keys.
      await(direct.updateCollection(LogPages.PAGES, new JsonObject().put("_id", 1L),
          new JsonObject().put("$unset", new JsonObject().put(LogPages.KEYS, ""))));
    } finally {
      direct.close();
    }
    assertEquals(expected, await(store.loadLog(new LogLimits(1, 6))).olderKeys(), "from the entries of the page without keys");
  }

  @Test
  void aStoreOpenedAfterTheOneThatReadTheLogFindsThePagesThroughTheDirectoryItTakesOver() throws Exception {
    await(store.write(new LogWrite(List.of(), 0, entries(1, 6, 1), 6, 6)));
    await(store.writePage(entries(1, 3, 1)));
    await(store.writePage(entries(4, 5, 1)));
    close();
    open();
    await(store.loadLog(new LogLimits(100, 100))); // as a start reads the store while it joins the cluster
    NodeStore.PageDirectory directory = store.pageDirectory();
    assertEquals(5, directory.pagedIndex());
    store.close();
    store = await(NodeStore.open(vertx, Optional.empty(), "bully", embedded, StoreSync.FSYNC, dataDir.resolve("log")));
    assertEquals(0, store.pagedIndex(), "a store that did not read the log knows no page");
    store.usePageDirectory(directory);
    assertEquals(5, store.pagedIndex());
    assertEquals(entries(1, 6, 1), await(store.entries(1, 100)));
    await(store.writePage(List.of(entry(6, 1))));
    assertEquals(6, store.pagedIndex());
    assertEquals(entries(1, 6, 1), await(store.entries(1, 100)), "and pages written later join it");
  }

  @Test
  void aStoreWithTheLogInSegmentsMovesThemIntoTheLogFilesAtItsFirstStart() throws Exception {
    List<LogEntry> all = new java.util.ArrayList<>(entries(1, 3, 1));
    all.addAll(entries(4, 5, 2));
    MongoClient direct = MongoClient.create(vertx, new JsonObject()
        .put("connection_string", embedded.connectionString()).put("db_name", "bully").put("useObjectId", false));
    try {
      // As stores before the log files held the log: one document per appended batch.
      for (List<LogEntry> batch : List.of(all.subList(0, 3), all.subList(3, 5))) {
        await(direct.insert(LegacySegments.COLLECTION, new JsonObject().put("_id", batch.get(0).index())
            .put("last", batch.get(batch.size() - 1).index()).put("commit", 3L)
            .put("terms", new JsonArray()).put("entries", EntryCodec.toStored(batch))));
      }
    } finally {
      direct.close();
    }
    close();
    open();
    LogRestore restored = await(store.loadLog(new LogLimits(100, 100)));
    assertEquals(all, restored.tail());
    assertEquals(3, restored.commitIndex());
    assertEquals(List.of(new TermRun(1, 1), new TermRun(4, 2)), restored.termRuns());
    direct = MongoClient.create(vertx, new JsonObject()
        .put("connection_string", embedded.connectionString()).put("db_name", "bully").put("useObjectId", false));
    try {
      assertEquals(false, await(direct.getCollections()).contains(LegacySegments.COLLECTION), "the segments are gone");
    } finally {
      direct.close();
    }
  }

  /** An entry whose data is a string of {@code chars} characters, three UTF-8 bytes each, the worst case for a document. */
  private static LogEntry large(long index, long term, int chars) {
    return new LogEntry(index, term, "key-" + index, "{\"s\":\"" + "\u20ac".repeat(chars) + "\"}", 1000 + index);
  }

  @Test
  void entriesLargerTogetherThanADocumentAreWrittenAtOnceAndPagedInPagesThatFit() throws Exception {
    // Eight entries of 700 Ki characters (2.1 MiB of UTF-8 each): one batch of them is 16.8 MiB, over MongoDB's 16 MiB.
    int chars = 700 * 1024;
    List<LogEntry> batch = LongStream.rangeClosed(1, 8).mapToObj(i -> large(i, 1, chars)).toList();
    await(store.write(new LogWrite(List.of(), 0, batch, 8, 0)));
    assertEquals(batch, await(store.entries(1, 10)));

    await(store.writePage(batch.subList(0, 2)));
    await(store.writePage(batch.subList(2, 4)));
    assertEquals(batch, await(store.entries(1, 10)));
    assertEquals(batch.subList(0, 1), await(store.entries(1, 10, 1)), "a budget too small for one still gives one");
    assertEquals(batch.subList(1, 3), await(store.entries(2, 10, 2L * chars + 4096)), "a budget of two entries gives two");
  }

  @Test
  void aWriteTriedAgainAfterAFailedTryLeavesTheLogAsOneTryWould() throws Exception {
    await(store.write(new LogWrite(List.of(), 0, entries(1, 3, 1), 3, 0)));
    // As if the first try had written its record and then failed before the force was reported.
    await(store.write(new LogWrite(List.of(), 0, entries(4, 6, 1), 6, 0)));
    await(store.write(new LogWrite(List.of(), 0, entries(4, 6, 1), 6, 0)));
    assertEquals(entries(1, 6, 1), await(store.entries(1, 100)));
    close();
    open();
    assertEquals(entries(1, 6, 1), await(store.loadLog(new LogLimits(100, 100))).tail(), "and so does its replay");
    await(store.writePage(entries(1, 3, 1)));
    await(store.writePage(entries(1, 3, 1), true));
    assertEquals(entries(1, 6, 1), await(store.entries(1, 100)));
  }

  @Test
  void aFailureThatWouldRecurIsToldApartFromOneThatMayPass() {
    assertEquals(true, StoreRetry.isDeterministic(new org.bson.BsonMaximumSizeExceededException("too large")));
    assertEquals(true, StoreRetry.isDeterministic(new RuntimeException(new IllegalArgumentException("bad value"))));
    assertEquals(false, StoreRetry.isDeterministic(new com.mongodb.MongoSocketReadException("closed",
        new com.mongodb.ServerAddress())));
    assertEquals(false, StoreRetry.isDeterministic(new IllegalStateException("No space left on device")));
  }

  @Test
  void aWriteWaitsWhileTheDiskHasLessRoomThanTheStoreMustKeepFreeAndGoesOnOnceThereIsRoom() throws Exception {
    embedded.keepFree(Long.MAX_VALUE); // no disk has that much room
    LogWrite write = new LogWrite(List.of(), 0, entries(1, 3, 1), 3, 0);
    Future<?> waiting = store.retry().run("writing the log up to entry 3", tries -> store.write(write));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (store.retry().trouble().isEmpty() && System.nanoTime() < deadline) {
      Thread.onSpinWait();
    }
    String trouble = store.retry().trouble().orElseThrow();
    org.junit.jupiter.api.Assertions.assertTrue(trouble.contains("store.minFreeBytes"), trouble);
    assertEquals(false, waiting.isComplete(), "the write waits: the embedded store would close itself on a full disk");
    assertEquals(List.of(), await(store.entries(1, 100)), "and nothing of it is in the store");
    embedded.keepFree(0);
    await(waiting);
    assertEquals(entries(1, 3, 1), await(store.entries(1, 100)));
    assertEquals(Optional.empty(), store.retry().trouble(), "once there is room, the trouble is over");
  }
}
