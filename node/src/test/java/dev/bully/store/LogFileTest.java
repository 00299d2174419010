package dev.bully.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bully.core.LogEntry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The log files on a real disk: records, their replay, a torn last record, new files and old ones removed. */
class LogFileTest {
  /** Small files, so that a few records fill several. */
  private static final long FILE_BYTES = 1024;

  @TempDir
  Path dir;

  private Vertx vertx;
  private WorkerExecutor writer;
  private LogFile file;

  @BeforeEach
  void open() {
    vertx = Vertx.vertx();
    writer = vertx.createSharedWorkerExecutor("log-file-test", 1);
    file = LogFile.open(dir, StoreSync.FSYNC, writer, FILE_BYTES);
  }

  @AfterEach
  void close() throws Exception {
    file.close();
    writer.close();
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private void reopen() {
    file.close();
    file = LogFile.open(dir, StoreSync.FSYNC, writer, FILE_BYTES);
  }

  private static List<LogEntry> entries(long from, long to, long term) {
    return LongStream.rangeClosed(from, to).mapToObj(i -> new LogEntry(i, term, "key-" + i, "{\"n\":" + i + "}", 1000 + i)).toList();
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private List<LogEntry> all() {
    return file.read(1, Integer.MAX_VALUE, Long.MAX_VALUE, true);
  }

  private List<Path> files() throws IOException {
    try (Stream<Path> listing = Files.list(dir)) {
      return listing.sorted().toList();
    }
  }

  @Test
  void aRecordReplacesTheLogFromItsFirstIndexOnAndTheReplayDoesTheSame() throws Exception {
    await(file.write(1, entries(1, 5, 1), 0));
    await(file.write(4, entries(4, 6, 2), 3)); // a new coordinator's entries from 4 on
    await(file.write(6, List.of(), 3)); // a cut: entry 6 goes
    await(file.write(6, entries(6, 6, 3), 5));
    List<LogEntry> expected = new ArrayList<>(entries(1, 3, 1));
    expected.addAll(entries(4, 5, 2));
    expected.addAll(entries(6, 6, 3));
    assertEquals(expected, all());
    assertEquals(entries(3, 5, 1).subList(0, 1), file.read(3, 1, Long.MAX_VALUE, true));
    reopen();
    assertEquals(expected, all(), "the replay ends where the writes did");
    assertEquals(5, file.commitIndex());
  }

  @Test
  void aRecordCutShortAtTheEndIsDroppedAndTheNextRecordsFollowTheGoodOnes() throws Exception {
    await(file.write(1, entries(1, 3, 1), 0));
    Path only = files().get(0);
    long firstRecordEnds = Files.size(only);
    await(file.write(4, entries(4, 5, 1), 0));
    long size = Files.size(only);
    // As a power loss leaves a record that was being written: its first bytes only.
    try (FileChannel channel = FileChannel.open(only, StandardOpenOption.WRITE)) {
      channel.truncate(size - 5);
    }
    reopen();
    assertEquals(entries(1, 3, 1), all(), "the torn record is not in the log");
    assertEquals(firstRecordEnds, Files.size(only), "the file was cut back to the last good record");
    await(file.write(4, entries(4, 6, 2), 0));
    reopen();
    assertEquals(new ArrayList<>(Stream.concat(entries(1, 3, 1).stream(), entries(4, 6, 2).stream()).toList()), all(),
        "a record written after the cut is found by the next replay");
  }

  @Test
  void filesBeyondTheirSizeStartANewOneAndTheOldestGoOnceThePagesHoldTheirEntries() throws Exception {
    for (long i = 1; i <= 60; i++) {
      await(file.write(i, entries(i, i, 1), 0));
    }
    int count = files().size();
    assertTrue(count >= 3, "60 records of about 100 bytes fill several files of 1 KiB: " + files());
    file.release(5);
    assertEquals(count, files().size(), "the first file holds entries past 5");
    file.release(40);
    int left = files().size();
    assertTrue(left < count && left >= 2, "the oldest files went, the ones with entries past 40 stayed: " + files());
    assertEquals(entries(41, 60, 1), file.read(41, 100, Long.MAX_VALUE, true));
    file.release(60);
    assertEquals(1, files().size(), "the newest file stays, for the writes to come");
    reopen();
    await(file.write(61, entries(61, 61, 1), 60));
    reopen();
    assertEquals(entries(61, 61, 1), file.read(61, 10, Long.MAX_VALUE, true));
  }

  @Test
  void aDamagedRecordInAFileThatALaterOneFollowsStopsTheStartWithWhatToDo() throws Exception {
    for (long i = 1; i <= 30; i++) {
      await(file.write(i, entries(i, i, 1), 0));
    }
    file.close();
    Path first = files().get(0);
    try (FileChannel channel = FileChannel.open(first, StandardOpenOption.WRITE)) {
      channel.write(java.nio.ByteBuffer.wrap(new byte[] {'x', 'x', 'x'}), 40);
    }
    IllegalStateException failure = assertThrows(IllegalStateException.class,
        () -> file = LogFile.open(dir, StoreSync.FSYNC, writer, FILE_BYTES));
    assertTrue(failure.getMessage().contains(first.toString()) && failure.getMessage().contains("start it empty"),
        failure.getMessage());
    file = LogFile.open(dir.resolve("elsewhere"), StoreSync.FSYNC, writer, FILE_BYTES); // for close()
  }

  @Test
  void writesThatArriveWhileTheFileIsForcedShareTheNextForce() throws Exception {
    List<Future<Void>> writes = new ArrayList<>();
    for (long i = 1; i <= 200; i++) {
      writes.add(file.write(i, entries(i, i, 1), 0));
    }
    await(Future.all(writes));
    assertEquals(entries(1, 200, 1), all());
    long forces = file.forces().count();
    assertTrue(forces >= 1 && forces <= 100, "200 writes in a row, " + forces + " forces");
  }
}
