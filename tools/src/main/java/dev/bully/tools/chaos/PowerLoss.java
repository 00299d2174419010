package dev.bully.tools.chaos;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A power loss for nodes on this machine: what a node had written to its store but not forced to
 * the device is taken away after the node was killed, as if the machine had lost its power.
 *
 * <p>A node started with {@link #environment} runs with {@code powerloss.so} preloaded (built here
 * from its C source with gcc): before each change to a file under its data folder the library
 * appends what the change overwrites to the file's {@code .undo} log, and it empties that log each
 * time the file is forced (fsync, fdatasync). After the node was killed, {@link #rollBack} applies
 * every undo log backwards, so each file holds what the device held at its last force.
 */
public final class PowerLoss {
  static final String UNDO_SUFFIX = ".undo";
  private static final byte[] MAGIC = {'P', 'L', 'U', '1'};
  private static final int HEADER_BYTES = 28;

  private PowerLoss() {
  }

  /** What {@link #rollBack} took away from one data folder: of its {@code tracked} files, {@code files} had changes undone. */
  public record Undone(int tracked, int files, long changes, long bytes) {
    @Override
    public String toString() {
      return changes + " writes not forced to the device undone in " + files + " of " + tracked + " tracked files ("
          + bytes + " bytes restored)";
    }
  }

  /**
   * Builds {@code powerloss.so} into {@code dir} with gcc (from the source in this jar) and returns
   * it; fails with what to install when gcc is missing.
   */
  public static Path buildLibrary(Path dir) {
    try {
      Files.createDirectories(dir);
      Path source = dir.resolve("powerloss.c");
      try (InputStream in = PowerLoss.class.getResourceAsStream("powerloss.c")) {
        if (in == null) {
          throw new IllegalStateException("powerloss.c is not on the class path next to " + PowerLoss.class.getName());
        }
        Files.copy(in, source, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      }
      Path library = dir.resolve("powerloss.so");
      Path output = dir.resolve("powerloss-gcc.txt");
      Process gcc;
      try {
        gcc = new ProcessBuilder("gcc", "-O2", "-Wall", "-shared", "-fPIC", "-o", library.toString(), source.toString(),
            "-ldl", "-lpthread").redirectErrorStream(true).redirectOutput(output.toFile()).start();
      } catch (IOException e) {
        throw new IllegalStateException("the power-loss fault needs gcc to build its preload library"
            + " (Debian: apt-get install gcc): " + e.getMessage(), e);
      }
      if (gcc.waitFor() != 0) {
        throw new IllegalStateException("gcc could not build " + library + ":\n" + Files.readString(output));
      }
      return library;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** The environment of a node whose writes under {@code dataDir} can be taken away by a power loss. */
  public static Map<String, String> environment(Path library, Path dataDir) {
    return Map.of("LD_PRELOAD", library.toAbsolutePath().toString(), "POWERLOSS_DIR", dataDir.toAbsolutePath().toString());
  }

  /**
   * Turns every file under {@code dataDir} back into what the device held at its last force, from
   * the undo logs, and removes them. Only for a folder no running process writes to.
   */
  public static Undone rollBack(Path dataDir) {
    if (!Files.isDirectory(dataDir)) {
      return new Undone(0, 0, 0, 0);
    }
    List<Path> logs;
    try (Stream<Path> files = Files.walk(dataDir)) {
      logs = files.filter(f -> f.getFileName().toString().endsWith(UNDO_SUFFIX)).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    int touched = 0;
    long changes = 0;
    long bytes = 0;
    for (Path log : logs) {
      String name = log.getFileName().toString();
      Path file = log.resolveSibling(name.substring(0, name.length() - UNDO_SUFFIX.length()));
      List<Change> undo = read(log);
      if (!undo.isEmpty()) {
        touched++;
        changes += undo.size();
        bytes += apply(file, undo);
      }
      try {
        Files.delete(log);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return new Undone(logs.size(), touched, changes, bytes);
  }

  /** One recorded change: the file's size before it and the bytes it overwrote at {@code offset}. */
  record Change(long offset, long sizeBefore, byte[] old) {
  }

  /** The undo log's records in the order they were made; an incomplete last one (its change never happened) is left out. */
  static List<Change> read(Path log) {
    ByteBuffer in;
    try {
      in = ByteBuffer.wrap(Files.readAllBytes(log)).order(ByteOrder.LITTLE_ENDIAN);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    List<Change> changes = new ArrayList<>();
    while (in.remaining() >= HEADER_BYTES) {
      byte[] magic = new byte[MAGIC.length];
      in.get(magic);
      if (!java.util.Arrays.equals(magic, MAGIC)) {
        throw new IllegalStateException(log + " is not an undo log of powerloss.so (a record at byte "
            + (in.position() - MAGIC.length) + " does not start with PLU1)");
      }
      long offset = in.getLong();
      long sizeBefore = in.getLong();
      long length = in.getLong();
      if (length > in.remaining()) {
        break;
      }
      byte[] old = new byte[(int) length];
      in.get(old);
      changes.add(new Change(offset, sizeBefore, old));
    }
    return changes;
  }

  /** Undoes {@code changes}, the last first; returns the bytes written back. */
  private static long apply(Path file, List<Change> changes) {
    long bytes = 0;
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.CREATE)) {
      for (int i = changes.size() - 1; i >= 0; i--) {
        Change change = changes.get(i);
        ByteBuffer old = ByteBuffer.wrap(change.old());
        while (old.hasRemaining()) {
          channel.write(old, change.offset() + old.position());
        }
        channel.truncate(change.sizeBefore());
        bytes += change.old().length;
      }
      channel.force(true);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes;
  }
}
