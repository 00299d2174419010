package dev.bully.core;

/** A client's idempotency key and the index of the entry written with it. */
public record IdempotencyKey(long index, String requestId) {
}
