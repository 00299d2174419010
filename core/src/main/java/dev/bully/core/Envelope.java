package dev.bully.core;

/**
 * A message and the node it goes to.
 *
 * <p>An APPEND of entries that have left the coordinator's memory (see {@link ReplicatedLog#release})
 * carries no entries and {@code entriesFromStore > 0}: the driver reads that many entries, from
 * the APPEND's {@code prevIndex + 1} on, from its store, and sends the APPEND with them. Such
 * entries are committed and durable there, so they read back exactly as they were appended. The
 * driver keeps each follower's APPENDs in the order the core made them.
 *
 * <p>Likewise a {@link Message.SnapshotChunk} with {@code chunkFromStore} carries no documents
 * yet: the driver reads the chunk from its store's snapshot for that follower, and sends it filled.
 */
public record Envelope(int to, Message message, int entriesFromStore, boolean chunkFromStore) {
  public Envelope(int to, Message message, int entriesFromStore) {
    this(to, message, entriesFromStore, false);
  }

  public Envelope(int to, Message message) {
    this(to, message, 0, false);
  }

  /** A snapshot chunk for the driver to fill from its store. */
  static Envelope snapshotChunk(int to, Message.SnapshotChunk skeleton) {
    return new Envelope(to, skeleton, 0, true);
  }
}
