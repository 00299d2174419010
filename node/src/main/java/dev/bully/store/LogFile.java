package dev.bully.store;

import dev.bully.core.LogEntry;
import dev.bully.core.WriteLimits;
import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The log's entries that are not yet in a page, in append-only files of the node's own beside its
 * MongoDB, as MongoDB's journal and ZooKeeper's transaction log sit beside their data.
 *
 * <p>A file ({@code log/<sequence>.wal}) is a run of records ({@link LogRecord}), each "from index
 * {@code from} on, the log is these entries" (none for a cut), with an
 * index known to be committed when it was written. Writes are grouped ({@link GroupCommit}): every
 * record that arrives while the file is being forced goes into the next write, and one
 * {@code fdatasync} makes all of them durable. A file grows to {@link #FILE_BYTES} and the next one
 * starts; the oldest files go once the pages ({@link LogPages}) hold every entry in them.
 *
 * <p>Reading the files back replays the records in order: each one drops what its {@code from}
 * replaces, so a record written twice (a retry) leaves the log as once. A record that is cut short
 * or fails its checksum can only be the last one written (each file is forced before the next one
 * gets a record): the file is cut back to the record before it, so new records follow good ones.
 */
final class LogFile implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LogFile.class);
  /**
   * A file holds about this much before the next one starts. The newest file stays however long ago
   * the pages took its entries, so this is also about how much of the disk the files of entries long
   * paged keep: 64 MiB was about as much as a node's documents and retained log together in one run.
   */
  static final long FILE_BYTES = 16L << 20;
  private static final String SUFFIX = ".wal";

  /** Where a record's entries are: in file {@code sequence}, from {@code position}; {@code last} is the last entry still in the log. */
  private record Place(long sequence, long position, int length, long first, long last) {
  }

  /** A record waiting for the next group write. */
  private record Pending(long from, long last, long commit, ByteBuffer bytes) {
  }

  private final Path dir;
  private final StoreSync sync;
  private final GroupCommit groupCommit;
  private final long fileBytes;
  /** Open files by sequence, oldest first; the last one takes the writes. */
  private final TreeMap<Long, FileChannel> files = new TreeMap<>();
  /** The highest index any record of a file holds, by the file's sequence. */
  private final TreeMap<Long, Long> lastIndexOf = new TreeMap<>();
  /** The records whose entries are in the log, by their first index: later records cut earlier ones. */
  private final NavigableMap<Long, Place> places = new TreeMap<>();
  private final ArrayDeque<Pending> pending = new ArrayDeque<>();
  /** Only the writing thread uses the write position. */
  private long position;
  private long commitIndex;
  private long forces;
  private long forceNanos;

  private LogFile(Path dir, StoreSync sync, WorkerExecutor writer, long fileBytes) {
    this.dir = dir;
    this.fileBytes = fileBytes;
    this.sync = sync;
    this.groupCommit = new GroupCommit(writer, this::writePending);
  }

  /**
   * Opens the files under {@code dir} (creating it) and replays their records' places, so that
   * {@link #read} finds every entry in the log; writes then go to the newest file on {@code writer},
   * one group at a time.
   */
  static LogFile open(Path dir, StoreSync sync, WorkerExecutor writer) {
    return open(dir, sync, writer, FILE_BYTES);
  }

  /** {@link #open(Path, StoreSync, WorkerExecutor)} with files of about {@code fileBytes}. */
  static LogFile open(Path dir, StoreSync sync, WorkerExecutor writer, long fileBytes) {
    LogFile file = new LogFile(dir, sync, writer, fileBytes);
    try {
      file.replay();
    } catch (IOException e) {
      file.close();
      throw new UncheckedIOException("cannot read the log files in " + dir, e);
    } catch (RuntimeException e) {
      file.close();
      throw e;
    }
    return file;
  }

  /** Reads every record's header, checks its checksum and notes its place; the entries are read when asked for. */
  private void replay() throws IOException {
    boolean created = !Files.isDirectory(dir);
    Files.createDirectories(dir);
    if (created) {
      forceDirectory(dir.toAbsolutePath().getParent());
    }
    List<Long> sequences;
    try (Stream<Path> listing = Files.list(dir)) {
      sequences = listing.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(SUFFIX))
          .map(n -> Long.parseLong(n.substring(0, n.length() - SUFFIX.length()))).sorted().toList();
    }
    for (int i = 0; i < sequences.size(); i++) {
      long sequence = sequences.get(i);
      FileChannel channel = FileChannel.open(path(sequence), StandardOpenOption.READ, StandardOpenOption.WRITE);
      files.put(sequence, channel);
      long end = 0;
      long size = channel.size();
      for (LogRecord.Read record; (record = LogRecord.readAt(channel, end, size)) != null; end = record.end()) {
        commitIndex = Math.max(commitIndex, record.commit());
        cut(record.from());
        if (record.last() >= record.from()) {
          places.put(record.from(), new Place(sequence, record.entriesAt(), record.entriesLength(), record.from(), record.last()));
          lastIndexOf.merge(sequence, record.last(), Math::max);
        }
      }
      if (end < size) {
        if (i < sequences.size() - 1) {
          throw new IllegalStateException("log file " + path(sequence) + " is damaged at byte " + end
              + ", before the end of a file that a later one follows: this node's data cannot be trusted. Stop it, move its"
              + " data folder aside and start it empty, and it catches up from the others");
        }
        log.warn("Log file {} ends in a record cut short at byte {} of {} (not forced when the node stopped): cutting it there",
            path(sequence), end, size);
        channel.truncate(end);
        channel.force(true);
      }
      position = end;
    }
    if (files.isEmpty()) {
      startFile(1);
    }
  }

  /** The highest commit index a record carries. */
  synchronized long commitIndex() {
    return commitIndex;
  }

  /**
   * Makes "from index {@code from} on, the log is {@code entries}" durable (entries start at
   * {@code from}; none for a cut), with {@code commitIndex}.
   */
  Future<Void> write(long from, List<LogEntry> entries, long commitIndex) {
    ByteBuffer record = LogRecord.encode(from, entries, commitIndex);
    synchronized (this) {
      pending.add(new Pending(from, from + entries.size() - 1, commitIndex, record));
    }
    return groupCommit.sync();
  }

  /** On the writing thread: writes every pending record, forces the file once, then marks them written. */
  private void writePending() {
    List<Pending> group;
    synchronized (this) {
      group = new ArrayList<>(pending);
      pending.clear();
    }
    if (group.isEmpty()) {
      return;
    }
    try {
      if (position >= fileBytes) {
        startFile(newestFile() + 1);
      }
      long sequence = newestFile();
      FileChannel channel;
      synchronized (this) {
        channel = files.get(sequence);
      }
      long at = position;
      List<Place> written = new ArrayList<>(group.size());
      for (Pending record : group) {
        ByteBuffer bytes = record.bytes().duplicate();
        int length = bytes.remaining();
        while (bytes.hasRemaining()) {
          channel.write(bytes, at + length - bytes.remaining());
        }
        written.add(new Place(sequence, LogRecord.entriesAt(at), LogRecord.entriesLength(record.bytes()), record.from(),
            record.last()));
        at += length;
      }
      if (sync == StoreSync.FSYNC) {
        long started = System.nanoTime();
        channel.force(false);
        synchronized (this) {
          forces++;
          forceNanos += System.nanoTime() - started;
        }
      }
      position = at;
      synchronized (this) {
        group.forEach(record -> commitIndex = Math.max(commitIndex, record.commit()));
        for (Place place : written) {
          cut(place.first());
          if (place.last() >= place.first()) {
            places.put(place.first(), place);
            lastIndexOf.merge(sequence, place.last(), Math::max);
          }
        }
      }
    } catch (IOException e) {
      synchronized (this) {
        // Written again by the next group, at the same place: the file never holds a gap of garbage before a good record.
        for (int i = group.size() - 1; i >= 0; i--) {
          pending.addFirst(group.get(i));
        }
      }
      throw new UncheckedIOException("cannot write the log file " + path(newestFile()), e);
    }
  }

  /** Entries from {@code from} on leave the log: records that start there or later, and the tail of one that straddles it. */
  private void cut(long from) {
    places.tailMap(from, true).clear();
    Map.Entry<Long, Place> straddling = places.lowerEntry(from);
    if (straddling != null && straddling.getValue().last() >= from) {
      Place p = straddling.getValue();
      places.put(p.first(), new Place(p.sequence(), p.position(), p.length(), p.first(), from - 1));
    }
  }

  private synchronized long newestFile() {
    return files.lastKey();
  }

  private void startFile(long sequence) throws IOException {
    // A file of this number can only be left by a start of it that failed before any record went in: begin it again.
    FileChannel channel = FileChannel.open(path(sequence), StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
        StandardOpenOption.READ, StandardOpenOption.WRITE);
    try {
      forceDirectory(dir); // the new file's name is durable before any record in it is acknowledged
    } catch (IOException e) {
      channel.close();
      throw e;
    }
    synchronized (this) {
      files.put(sequence, channel);
    }
    position = 0;
  }

  private static void forceDirectory(Path directory) throws IOException {
    try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
      channel.force(true);
    }
  }

  private Path path(long sequence) {
    return dir.resolve(String.format("%020d%s", sequence, SUFFIX));
  }

  /**
   * The pages hold every entry up to {@code pagedIndex}: records that end there are forgotten, and
   * the oldest files, up to the first one that holds a later entry, are removed.
   */
  synchronized void release(long pagedIndex) {
    while (!places.isEmpty() && places.firstEntry().getValue().last() <= pagedIndex) {
      places.pollFirstEntry();
    }
    while (files.size() > 1) {
      long oldest = files.firstKey();
      if (lastIndexOf.getOrDefault(oldest, 0L) > pagedIndex) {
        break;
      }
      try {
        files.remove(oldest).close();
        lastIndexOf.remove(oldest);
        Files.deleteIfExists(path(oldest));
      } catch (IOException e) {
        log.warn("Could not remove the log file {}, which the pages cover: {}", path(oldest), e.toString());
        break;
      }
    }
  }

  /**
   * Up to {@code limit} entries from {@code from} on, in order, within {@code maxChars} of text
   * (the first always, if {@code first}); fewer if the files hold no more.
   */
  List<LogEntry> read(long from, int limit, long maxChars, boolean first) {
    List<Place> covering;
    synchronized (this) {
      Long start = places.floorKey(from);
      covering = new ArrayList<>(places.tailMap(start == null ? from : start, true).values());
    }
    List<LogEntry> result = new ArrayList<>();
    long chars = 0;
    long next = from;
    for (Place place : covering) {
      if (place.last() < next) {
        continue;
      }
      if (place.first() > next) {
        break; // not in the files (yet)
      }
      FileChannel channel;
      synchronized (this) {
        channel = files.get(place.sequence());
      }
      List<LogEntry> recorded;
      try {
        recorded = channel == null ? null : LogRecord.entries(channel, place.position(), place.length());
        if (recorded == null) {
          break; // removed meanwhile: a page holds it now
        }
      } catch (IOException e) {
        break; // removed meanwhile, as above
      }
      for (LogEntry entry : recorded) {
        if (entry.index() < next || entry.index() > place.last()) {
          continue;
        }
        chars += WriteLimits.entryChars(entry);
        if (result.size() >= limit || (chars > maxChars && (!result.isEmpty() || !first))) {
          return result;
        }
        result.add(entry);
        next = entry.index() + 1;
      }
    }
    return result;
  }

  /** How many times the files were forced, and how long that took altogether. */
  synchronized NodeStore.Forces forces() {
    return new NodeStore.Forces(forces, forceNanos);
  }

  @Override
  public synchronized void close() {
    for (FileChannel channel : files.values()) {
      try {
        channel.close();
      } catch (IOException e) {
        log.warn("Could not close a log file: {}", e.toString());
      }
    }
    files.clear();
  }
}
