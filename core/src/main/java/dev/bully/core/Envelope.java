package dev.bully.core;

/**
 * A message and the node it goes to.
 *
 * <p>An APPEND of entries that have left the coordinator's memory (see {@link ReplicatedLog#release})
 * carries no entries and {@code entriesFromStore > 0}: the driver reads that many entries, from
 * the APPEND's {@code prevIndex + 1} on, from its store, and sends the APPEND with them. Such
 * entries are committed and durable there, so they read back exactly as they were appended. The
 * driver keeps each follower's APPENDs in the order the core made them.
 */
public record Envelope(int to, Message message, int entriesFromStore) {
  public Envelope(int to, Message message) {
    this(to, message, 0);
  }
}
