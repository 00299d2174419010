package dev.bully.core;

/**
 * The shape a client's write may have, checked once, at the HTTP door, before anything is
 * appended; and the sizes every layer below derives from it, so that whatever the door admits can
 * be stored, replicated, paged, rolled back, restored and read back on every node.
 *
 * <p>The data of an entry travels as its JSON text from the door to every store and reader; no
 * layer parses it into a tree on the way, and the layers that copy it do so token by token with a
 * depth limit ({@link #MAX_DEPTH_CEILING} plus the few levels they wrap it in), far below the
 * parsers' own limit of 1,000 and the stack.
 *
 * <p>Sizes below are counted in characters of JSON text. A character is at most three bytes in
 * UTF-8 (a surrogate pair is two characters and four bytes), so {@link #DOCUMENT_CHARS} characters
 * always fit in one MongoDB document (16 MiB), with room for the document's other fields.
 *
 * @param maxWriteBytes the largest write body, in bytes ({@code api.maxWriteBytes}); the compact
 *                      JSON text that is stored is at most this long too
 * @param maxDepth      how deeply objects and arrays may nest ({@code api.maxDepth}); the body's
 *                      own object is depth 1
 * @param maxKeys       how many keys the write may have, over all of its objects ({@code api.maxKeys})
 */
public record WriteLimits(int maxWriteBytes, int maxDepth, int maxKeys) {
  /** The most {@code api.maxWriteBytes} may be: one entry of it must fit in a store document. */
  public static final int MAX_WRITE_BYTES_CEILING = 4 * 1024 * 1024;
  /** The most {@code api.maxDepth} may be: MongoDB's own limit of document nesting. */
  public static final int MAX_DEPTH_CEILING = 100;
  /**
   * How many levels the layers below wrap a client's object in (a document operation, an array of
   * entries, an entry, a message), and one to spare.
   */
  public static final int WRAPPING_DEPTH = 5;
  /** Characters an encoded entry adds to its data, besides its idempotency key: index, term, timestamp, field names. */
  public static final int ENTRY_OVERHEAD_CHARS = 128;
  /** The longest idempotency key, in characters (quoted, at most six characters each). */
  public static final int MAX_KEY_CHARS = 256;
  /**
   * The entry text one store document (a log segment or a page) holds at most, unless a single
   * entry is larger: 2 Mi characters. A document always holds at least one entry; the largest
   * entry ({@link #MAX_WRITE_BYTES_CEILING} plus its key and overhead, at most 12 MiB of UTF-8)
   * fits under MongoDB's 16 MiB per document, and so does any document within this budget. Kept
   * small because the embedded store serializes a document whole, in memory, several times over.
   */
  public static final int DOCUMENT_CHARS = 2 * 1024 * 1024;
  /**
   * The bytes of client writes a node holds at once, from the first byte of the body to the
   * answer (8 MiB: two of the largest writes {@link #MAX_WRITE_BYTES_CEILING} admits, eight of
   * the default): a write beyond it waits at the door with its body unread, so any number of
   * clients leaves the heap bounded.
   */
  public static final long IN_FLIGHT_BYTES = 8L * 1024 * 1024;
  /** The entry text one APPEND carries at most (at least one entry): what a follower holds per batch in flight. */
  public static final int BATCH_CHARS = 1024 * 1024;

  public static final WriteLimits DEFAULT = new WriteLimits(1024 * 1024, 64, 100_000);

  public WriteLimits {
    if (maxWriteBytes < 64 || maxWriteBytes > MAX_WRITE_BYTES_CEILING) {
      throw new IllegalArgumentException("maxWriteBytes must be from 64 to " + MAX_WRITE_BYTES_CEILING);
    }
    if (maxDepth < 1 || maxDepth > MAX_DEPTH_CEILING) {
      throw new IllegalArgumentException("maxDepth must be from 1 to " + MAX_DEPTH_CEILING);
    }
    if (maxKeys < 0) {
      throw new IllegalArgumentException("maxKeys must be at least 0");
    }
  }

  /** The characters an entry takes as JSON text in the store and on the wire, at most (a key's character quotes as at most six). */
  public static long entryChars(LogEntry entry) {
    return (entry.data() == null ? 4 : entry.data().length()) + ENTRY_OVERHEAD_CHARS
        + (entry.requestId() == null ? 0 : 6L * entry.requestId().length());
  }
}
