package dev.bully.store;

import dev.bully.core.LogEntry;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * One record of the log files ({@link LogFile}), as the disk holds it: {@code [length, crc32c,
 * from, last, commit, entries]}, big-endian, where {@code length} counts what follows the checksum,
 * the checksum covers the same bytes, {@code last} is {@code from - 1} for a cut, and the entries
 * are their JSON text ({@link EntryCodec#encode}) in UTF-8.
 */
final class LogRecord {
  private static final int HEADER = 4 + 4;
  private static final int FIELDS = 8 + 8 + 8;

  private LogRecord() {
  }

  /** A record read back: what it says, where its entries lie in the file, and where the next record begins. */
  record Read(long from, long last, long commit, long entriesAt, int entriesLength, long end) {
  }

  /** "From index {@code from} on, the log is {@code entries}" (none for a cut), with {@code commit}, ready to write. */
  static ByteBuffer encode(long from, List<LogEntry> entries, long commit) {
    byte[] text = entries.isEmpty() ? new byte[0] : EntryCodec.encode(entries).getBytes(StandardCharsets.UTF_8);
    ByteBuffer record = ByteBuffer.allocate(HEADER + FIELDS + text.length);
    record.putInt(FIELDS + text.length).putInt(0).putLong(from).putLong(from + entries.size() - 1).putLong(commit).put(text).flip();
    record.putInt(4, crc32c(record.duplicate().position(HEADER)));
    return record;
  }

  /** Where the entries of a record written at {@code at} lie. */
  static long entriesAt(long at) {
    return at + HEADER + FIELDS;
  }

  /** How long the entries of an {@link #encode encoded} record are. */
  static int entriesLength(ByteBuffer record) {
    return record.remaining() - HEADER - FIELDS;
  }

  /**
   * The record at {@code at} of a file of {@code size} bytes, its checksum checked, its entries
   * not read; null if the file ends within it or the checksum fails (a record cut short).
   */
  static Read readAt(FileChannel channel, long at, long size) throws IOException {
    ByteBuffer header = read(channel, at, HEADER, size);
    if (header == null) {
      return null;
    }
    int length = header.getInt();
    int crc = header.getInt();
    if (length < FIELDS || at + HEADER + length > size) {
      return null;
    }
    ByteBuffer body = read(channel, at + HEADER, length, size);
    if (body == null || crc32c(body) != crc) {
      return null;
    }
    return new Read(body.getLong(), body.getLong(), body.getLong(), entriesAt(at), length - FIELDS, at + HEADER + length);
  }

  /** The entries that lie at {@code entriesAt} for {@code length} bytes, or null if the file ends before them. */
  static List<LogEntry> entries(FileChannel channel, long entriesAt, int length) throws IOException {
    ByteBuffer text = read(channel, entriesAt, length, Long.MAX_VALUE);
    if (text == null) {
      return null;
    }
    byte[] bytes = new byte[text.remaining()];
    text.get(bytes);
    return EntryCodec.decode(bytes);
  }

  /** {@code length} bytes at {@code at}, or null if the file ends before them. */
  private static ByteBuffer read(FileChannel channel, long at, int length, long size) throws IOException {
    if (at + length > size) {
      return null;
    }
    ByteBuffer buffer = ByteBuffer.allocate(length);
    while (buffer.hasRemaining()) {
      if (channel.read(buffer, at + buffer.position()) < 0) {
        return null;
      }
    }
    return buffer.flip();
  }

  private static int crc32c(ByteBuffer bytes) {
    CRC32C crc = new CRC32C();
    crc.update(bytes.duplicate());
    return (int) crc.getValue();
  }
}
