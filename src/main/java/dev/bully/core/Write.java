package dev.bully.core;

/**
 * A client's write before it has a place in the log.
 *
 * @param requestId the client's idempotency key, or null
 * @param data      the client's JSON object, as text
 */
public record Write(String requestId, String data) {
}
