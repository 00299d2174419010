package dev.bully.core;

/**
 * One entry of the replicated log.
 *
 * @param index       position in the log, from 1, without gaps
 * @param term        the term of the coordinator that appended it
 * @param requestId   the client's idempotency key, or null when the client sent none
 * @param data        the client's JSON object, as text
 * @param timestampMs when the coordinator appended it, in milliseconds since the epoch
 */
public record LogEntry(long index, long term, String requestId, String data, long timestampMs) {

  /** The position of this entry, for up-to-date comparisons. */
  public LogPosition position() {
    return new LogPosition(term, index);
  }
}
