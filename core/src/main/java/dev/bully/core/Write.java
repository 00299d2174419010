package dev.bully.core;

/**
 * A client's write before it has a place in the log.
 *
 * @param requestId   the client's idempotency key, or null
 * @param data        the client's JSON object, as text; null only for {@link #NOOP}
 * @param timestampMs when the coordinator received it, in milliseconds since the epoch
 */
public record Write(String requestId, String data, long timestampMs) {
  /** The entry a new coordinator appends in its own term, carrying no client data. */
  public static final Write NOOP = new Write(null, null, 0);
}
