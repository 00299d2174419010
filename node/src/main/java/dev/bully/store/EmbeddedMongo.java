package dev.bully.store;

import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The MongoDB-wire server a node runs in-process when no external MongoDB is configured:
 * mongo-java-server on its H2 MVStore backend, with one file under the data folder, listening on
 * 127.0.0.1 only.
 *
 * <p>A write the server has acknowledged is only in the MVStore's memory. {@link #commit()} writes
 * everything acknowledged so far to the file and, with {@link StoreSync#FSYNC}, forces the file to
 * the device; {@link GroupCommit} calls it once for many writes. The store never commits by itself
 * (its background writer is off): a background commit serializes in a thread of its own, and a
 * commit of ours that overlapped it would return before the other one's pages were in the file.
 * So every write to the file happens in {@link #commit()}, one at a time, and a force that follows
 * covers everything written before it. The background writer's housekeeping (rewriting sparse
 * chunks) runs in {@link #commit()} too, at most once a second.
 */
public final class EmbeddedMongo implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EmbeddedMongo.class);

  static final String FILE_NAME = "store.mv.db";
  /** The store's page cache, in MB. */
  static final int CACHE_MB = 8;
  private static final long HOUSEKEEPING_EVERY_NS = 1_000_000_000L;
  /** Chunks filled less than this (percent) are rewritten, at most this many bytes per housekeeping. */
  private static final int HOUSEKEEPING_FILL_RATE = 50;
  private static final int HOUSEKEEPING_BYTES = 4 * 1024 * 1024;
  /**
   * How long an unused chunk of the file is kept before its space is reused, with {@code fsync}:
   * MVStore's default of 45 s assumes the disk may hold writes back that long, but every commit here
   * forces the file, and the embedded server reads a query's documents at once. Measured here, the
   * default let a node's file grow by about 1.6 KB per document put, past 200 MB in 150,000 puts.
   */
  private static final int FORCED_RETENTION_MS = 2_000;

  private final H2Backend backend;
  private final MongoServer server;
  private final String connectionString;
  private final Path file;
  /** The file system the store file lives on, found once: finding it reads the mount table (tens of microseconds). */
  private final FileStore disk;
  private final StoreSync sync;
  private volatile long minFreeBytes;
  /** When {@link #commit()} last rewrote sparse chunks (only the committing thread reads and writes it). */
  private long lastHousekeepingNs = System.nanoTime();

  private EmbeddedMongo(H2Backend backend, MongoServer server, String connectionString, Path file, FileStore disk,
                        StoreSync sync) {
    this.backend = backend;
    this.server = server;
    this.connectionString = connectionString;
    this.file = file;
    this.disk = disk;
    this.sync = sync;
  }

  /** Opens (or creates) the store file under {@code dataDir} and starts serving it on a free loopback port. */
  public static EmbeddedMongo start(Path dataDir, StoreSync sync) {
    return start(dataDir, "127.0.0.1", 0, sync);
  }

  /** Opens (or creates) the store file under {@code dataDir} and serves it on {@code host:port} (0: a free port). */
  public static EmbeddedMongo start(Path dataDir, String host, int port, StoreSync sync) {
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
    // and the heap a node runs in is small (see WriteLimits). No background writer: see the class comment.
    MVStore mvStore = new MVStore.Builder().fileName(file.toString()).cacheSize(CACHE_MB).autoCommitDisabled().open();
    if (sync == StoreSync.FSYNC) {
      mvStore.setRetentionTime(FORCED_RETENTION_MS);
    }
    H2Backend backend = new IndexedH2Backend(mvStore);
    MongoServer server = new MongoServer(backend);
    server.bind(host, port);
    String connectionString = server.getConnectionString();
    log.info("Embedded store {} serving at {} (store.sync: {})", file, connectionString, sync.configName());
    return new EmbeddedMongo(backend, server, connectionString, file, disk, sync);
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

  /**
   * Writes everything the server has acknowledged so far to the store file and, with
   * {@link StoreSync#FSYNC}, forces the file to the device. Blocking; one caller at a time
   * ({@link GroupCommit}).
   */
  public void commit() {
    MVStore store = backend.getMvStore();
    long now = System.nanoTime();
    if (now - lastHousekeepingNs >= HOUSEKEEPING_EVERY_NS) {
      lastHousekeepingNs = now;
      // What the background writer would do: rewrite the live pages of sparse chunks, a bounded amount at a time,
      // so that their space can be reused. The rewritten pages go to the file with this commit.
      store.compact(HOUSEKEEPING_FILL_RATE, HOUSEKEEPING_BYTES);
    }
    backend.commit();
    if (sync == StoreSync.FSYNC) {
      store.sync();
    }
  }

  /**
   * mongo-java-server's H2 backend with its unique indexes opened on {@link IndexKeyType}: each
   * index map is opened here first, with that key type, and the backend's own opening of it
   * finds it open (MVStore hands out the map already open under a name).
   */
  private static final class IndexedH2Backend extends H2Backend {
    IndexedH2Backend(MVStore mvStore) {
      super(openIndexes(mvStore));
    }

    /** The indexes the file holds, opened before the backend opens its databases (in its constructor). */
    private static MVStore openIndexes(MVStore mvStore) {
      mvStore.getMapNames().stream().filter(name -> name.contains(INDEX_MARK)).forEach(name -> open(mvStore, name));
      return mvStore;
    }

    /** An index's map, on a key type of its own (and so a cache of its own keys' bytes). */
    private static void open(MVStore mvStore, String name) {
      mvStore.openMap(name, new org.h2.mvstore.MVMap.Builder<Object, Object>().keyType(new IndexKeyType()));
    }

    @Override
    protected de.bwaldvogel.mongo.MongoDatabase openOrCreateDatabase(String databaseName) {
      return new de.bwaldvogel.mongo.backend.h2.H2Database(databaseName, getMvStore(), getCursorRegistry()) {
        @Override
        protected de.bwaldvogel.mongo.backend.Index<Object> openOrCreateUniqueIndex(String collectionName, String indexName,
            java.util.List<de.bwaldvogel.mongo.backend.IndexKey> keys, boolean sparse) {
          // An index created now (a new collection's _id index): open its map with the key type before the backend does.
          open(getMvStore(), getFullCollectionNamespace(collectionName) + INDEX_MARK + indexName);
          return super.openOrCreateUniqueIndex(collectionName, indexName, keys, sparse);
        }

        @Override
        public void moveCollection(de.bwaldvogel.mongo.MongoDatabase oldDatabase,
            de.bwaldvogel.mongo.MongoCollection<?> collection, String newCollectionName) {
          moveMaps(getMvStore(), collection.getFullName(), getFullCollectionNamespace(newCollectionName),
              () -> super.moveCollection(oldDatabase, collection, newCollectionName));
        }
      };
    }

    /**
     * A rename ({@code renameCollection}) that takes the collection's maps with it. The backend's own
     * moves nothing: it looks the maps up by the new name (it asks the collection for its name after
     * renaming it), so it creates empty ones there, and the indexes' maps it leaves out entirely.
     * The collection's open maps kept working until the store was reopened, which then found the
     * documents and the {@code _id} index under the old name; and a collection created again under
     * the old name shared the index of the renamed one. Here every map of the collection (documents,
     * meta, each index) is renamed to the new name, and the empty ones the backend created there go.
     */
    private static void moveMaps(MVStore store, String from, String to, Runnable move) {
      Map<MVMap<?, ?>, String> renames = new LinkedHashMap<>();
      for (String name : store.getMapNames()) {
        String renamed = name.equals(DATA_PREFIX + from) ? DATA_PREFIX + to
            : name.equals(META_PREFIX + from) ? META_PREFIX + to
            : name.startsWith(from + INDEX_MARK) ? to + name.substring(from.length()) : null;
        if (renamed != null) {
          renames.put(store.openMap(name), renamed); // the map the collection holds open, not a new one
        }
      }
      move.run();
      for (Map.Entry<MVMap<?, ?>, String> rename : renames.entrySet()) {
        if (store.hasMap(rename.getValue())) {
          store.removeMap(rename.getValue());
        }
        store.renameMap(rename.getKey(), rename.getValue());
      }
    }
  }

  /** How mongo-java-server's H2 backend names a collection's map of documents and its map of metadata. */
  private static final String DATA_PREFIX = "databases.";
  private static final String META_PREFIX = "meta.";

  /** How mongo-java-server's H2 backend names an index's map: {@code <db>.<collection>._index_<name>}. */
  private static final String INDEX_MARK = "._index_";

  /** Stops serving, then commits and closes the store file. */
  @Override
  public void close() {
    server.shutdownNow();
    backend.commit();
    backend.close();
  }
}
