package dev.bully.it;


import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bully.core.LogEntry;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A write the store reported durable survives kill -9 of the process that wrote it. The embedded
 * store on its own commits only about once a second, so without group commit this test loses the
 * writes of the last second.
 */
@ExtendWith(NodeLogsOnFailure.class)
class DurabilityIT {
  private static final int ACKS_BEFORE_KILL = 400;

  @TempDir
  Path dir;

  @Test
  void everyWriteReportedDurableSurvivesKillMinusNine() throws Exception {
    Path dataDir = dir.resolve("data");
    Process writer = new ProcessBuilder("java", "-cp", System.getProperty("java.class.path"),
        "dev.bully.it.DurableWriter", dataDir.toString(), "32")
        .redirectError(dir.resolve("writer.err").toFile())
        .start();
    Set<Long> acknowledged = new ConcurrentSkipListSet<>();
    CountDownLatch enough = new CountDownLatch(1);
    Thread reader = new Thread(() -> {
      try (BufferedReader lines = new BufferedReader(new InputStreamReader(writer.getInputStream()))) {
        for (String line = lines.readLine(); line != null; line = lines.readLine()) {
          if (line.startsWith("durable ")) {
            acknowledged.add(Long.parseLong(line.substring(8)));
            if (acknowledged.size() >= ACKS_BEFORE_KILL) {
              writer.destroyForcibly(); // kill -9 while more writes are in flight
              enough.countDown();
            }
          }
        }
      } catch (Exception e) {
        // The stream closes when the process dies.
      }
      enough.countDown();
    });
    reader.start();
    try {
      assertTrue(enough.await(90, TimeUnit.SECONDS), "the writer did not report " + ACKS_BEFORE_KILL + " durable writes");
      writer.destroyForcibly();
      assertTrue(writer.waitFor(10, TimeUnit.SECONDS));
      reader.join(10_000);
    } finally {
      writer.destroyForcibly();
    }
    assertTrue(acknowledged.size() >= ACKS_BEFORE_KILL, "only " + acknowledged.size() + " writes were acknowledged");
    Set<Long> acknowledgedAtKill = new TreeSet<>(acknowledged);

    List<LogEntry> stored = StoreFixture.withStore(dataDir, store -> store.entries(1, 1_000_000));
    Set<Long> storedIndexes = stored.stream().map(LogEntry::index).collect(Collectors.toSet());
    Set<Long> lost = new TreeSet<>(acknowledgedAtKill);
    lost.removeAll(storedIndexes);
    assertEquals(Set.of(), lost, "writes reported durable but missing after kill -9 (of "
        + acknowledgedAtKill.size() + " acknowledged, " + stored.size() + " stored)");
  }
}
