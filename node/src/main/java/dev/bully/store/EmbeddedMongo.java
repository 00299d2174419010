package dev.bully.store;

import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import java.io.IOException;
import org.h2.mvstore.MVStore;
import java.io.UncheckedIOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The MongoDB-wire server a node runs in-process when no external MongoDB is configured:
 * mongo-java-server on its H2 MVStore backend, with one file under the data folder, listening on
 * 127.0.0.1 only.
 *
 * <p>The MVStore commits to its file by itself only about once a second, so a write the server has
 * acknowledged can still be lost by a crash. {@link #commit()} makes everything acknowledged so far
 * survive a process crash; {@link GroupCommit} calls it once for many writes. It does not fsync, so
 * it does not protect against an operating-system crash or power loss.
 */
public final class EmbeddedMongo implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EmbeddedMongo.class);

  static final String FILE_NAME = "store.mv.db";
  /** The store's page cache, in MB. */
  static final int CACHE_MB = 8;

  private final H2Backend backend;
  private final MongoServer server;
  private final String connectionString;
  private final Path file;
  /** The file system the store file lives on, found once: finding it reads the mount table (tens of microseconds). */
  private final FileStore disk;
  private volatile long minFreeBytes;

  private EmbeddedMongo(H2Backend backend, MongoServer server, String connectionString, Path file, FileStore disk) {
    this.backend = backend;
    this.server = server;
    this.connectionString = connectionString;
    this.file = file;
    this.disk = disk;
  }

  /** Opens (or creates) the store file under {@code dataDir} and starts serving it on a free loopback port. */
  public static EmbeddedMongo start(Path dataDir) {
    return start(dataDir, "127.0.0.1", 0);
  }

  /** Opens (or creates) the store file under {@code dataDir} and serves it on {@code host:port} (0: a free port). */
  public static EmbeddedMongo start(Path dataDir, String host, int port) {
    try {
      Files.createDirectories(dataDir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create data folder " + dataDir, e);
    }
    Path file = dataDir.resolve(FILE_NAME);
    FileStore disk;
    try {
      disk = Files.getFileStore(dataDir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot find the file system of data folder " + dataDir, e);
    }
    // As MVStore.open does, with a smaller page cache than its 16 MB: documents of large entries fill a cache quickly,
    // and the heap a node runs in is small (see WriteLimits).
    H2Backend backend = new H2Backend(new MVStore.Builder().fileName(file.toString()).cacheSize(CACHE_MB).open());
    MongoServer server = new MongoServer(backend);
    server.bind(host, port);
    String connectionString = server.getConnectionString();
    log.info("Embedded store {} serving at {}", file, connectionString);
    return new EmbeddedMongo(backend, server, connectionString, file, disk);
  }

  /**
   * Keeps {@code bytes} free on the store file's disk: below that, store writes wait ({@link #diskShortage}).
   * The embedded store closes itself for good when a write of its own fails, as on a full disk, so
   * the node must never let it get there.
   */
  public EmbeddedMongo keepFree(long bytes) {
    this.minFreeBytes = bytes;
    return this;
  }

  /**
   * Why store writes must wait now: less than {@link #keepFree} bytes are free on the store's disk.
   * Asked before every store write, on the event loop: one statvfs call, about a microsecond.
   */
  public java.util.Optional<String> diskShortage() {
    if (minFreeBytes <= 0) {
      return java.util.Optional.empty();
    }
    try {
      long free = disk.getUsableSpace();
      return free >= minFreeBytes ? java.util.Optional.empty() : java.util.Optional.of("only " + free / (1024 * 1024)
          + " MiB are free on the disk of " + file + ", less than store.minFreeBytes (" + minFreeBytes / (1024 * 1024)
          + " MiB): writes wait until there is room");
    } catch (IOException e) {
      return java.util.Optional.of("the free space on the disk of " + file + " cannot be read: " + e);
    }
  }

  /** The {@code mongodb://} address the node's MongoDB client connects to. */
  public String connectionString() {
    return connectionString;
  }

  /** Writes everything the server has acknowledged so far to the store file. Blocking. */
  public void commit() {
    backend.commit();
  }

  /** Stops serving, then commits and closes the store file. */
  @Override
  public void close() {
    server.shutdownNow();
    backend.commit();
    backend.close();
  }
}
