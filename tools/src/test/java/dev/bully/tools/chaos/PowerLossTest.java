package dev.bully.tools.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The power-loss library on a real process: what the process forced survives, what it wrote after
 * its last force is undone, whatever it overwrote, appended or truncated; files outside the
 * tracked folder are left alone.
 */
class PowerLossTest {
  @TempDir
  Path dir;

  @Test
  void aKilledProcessKeepsExactlyWhatItForced() throws Exception {
    Path data = Files.createDirectories(dir.resolve("data"));
    Path outside = dir.resolve("outside.txt");
    Path library = PowerLoss.buildLibrary(dir.resolve("lib"));
    Process writer = start(library, data, outside);
    try (BufferedReader lines = new BufferedReader(new InputStreamReader(writer.getInputStream(), StandardCharsets.UTF_8))) {
      assertEquals("written", lines.readLine(), "the writer reached the point to cut its power at");
      writer.destroyForcibly();
      assertTrue(writer.waitFor(10, TimeUnit.SECONDS));
    } finally {
      writer.destroyForcibly();
    }
    assertEquals("forced once, then more not forced", Files.readString(data.resolve("store")),
        "before the loss the file holds the unforced writes too; here it is as the writer had read it back: "
            + Files.readString(data.resolve("store")).length() + " characters");

    PowerLoss.Undone undone = PowerLoss.rollBack(data);

    assertEquals("forced once", Files.readString(data.resolve("store")), "what was forced, nothing after it");
    assertEquals("", Files.readString(data.resolve("never-forced")), "a file never forced comes back empty");
    assertEquals("not tracked, not forced", Files.readString(outside), "a file outside the folder keeps its writes");
    assertEquals(2, undone.files(), undone.toString());
    try (var files = Files.list(data)) {
      assertFalse(files.anyMatch(f -> f.toString().endsWith(PowerLoss.UNDO_SUFFIX)), "the undo logs are gone");
    }
  }

  @Test
  void anIncompleteLastRecordIsLeftOut() throws Exception {
    Path log = dir.resolve("f.undo");
    byte[] record = {'P', 'L', 'U', '1', 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 'a', 'b', 'c'};
    byte[] torn = java.util.Arrays.copyOf(record, record.length * 2 - 2);
    System.arraycopy(record, 0, torn, record.length, record.length - 2);
    Files.write(log, torn);
    List<PowerLoss.Change> changes = PowerLoss.read(log);
    assertEquals(1, changes.size(), "the torn second record's change never happened");
    assertEquals(5, changes.get(0).sizeBefore());
  }

  private Process start(Path library, Path data, Path outside) throws Exception {
    ProcessBuilder builder = new ProcessBuilder("java", "-cp", System.getProperty("java.class.path"), Writer.class.getName(),
        data.toString(), outside.toString()).redirectError(ProcessBuilder.Redirect.INHERIT);
    builder.environment().putAll(PowerLoss.environment(library, data));
    return builder.start();
  }

  /** The process whose power is cut: it forces some writes, makes more, says so, and waits to be killed. */
  public static final class Writer {
    public static void main(String[] args) throws Exception {
      Path data = Path.of(args[0]);
      try (RandomAccessFile store = new RandomAccessFile(data.resolve("store").toFile(), "rw");
           RandomAccessFile never = new RandomAccessFile(data.resolve("never-forced").toFile(), "rw")) {
        store.write("forced once".getBytes(StandardCharsets.UTF_8));
        store.getChannel().force(true);
        store.setLength(3); // a truncation, then writes over the forced bytes and past them
        store.seek(0);
        store.write("forced once, then more not forced".getBytes(StandardCharsets.UTF_8));
        never.write("gone".getBytes(StandardCharsets.UTF_8));
        Files.writeString(Path.of(args[1]), "not tracked, not forced");
        System.out.println("written");
        System.out.flush();
        Thread.sleep(60_000);
      }
    }
  }
}
