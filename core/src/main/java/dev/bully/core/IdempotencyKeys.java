package dev.bully.core;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * The idempotency keys of a log's newest entries, up to {@link LogLimits#idempotencyKeys()}: a
 * retry with a key the log holds is answered with its entry, never appended twice. The first
 * entry written with a key is the one a retry gets; the oldest keys are forgotten first, and a
 * rollback forgets the keys of the entries it removes.
 */
final class IdempotencyKeys {
  private final int capacity;
  private final Map<String, Long> indexByRequestId = new HashMap<>();
  /** The remembered keys in index order, so the oldest are forgotten first and a rollback drops the newest. */
  private final ArrayDeque<IdempotencyKey> inOrder = new ArrayDeque<>();

  IdempotencyKeys(int capacity) {
    this.capacity = capacity;
  }

  /** The index of the entry written with {@code requestId}, if remembered. */
  Long indexOf(String requestId) {
    return requestId == null ? null : indexByRequestId.get(requestId);
  }

  void remember(IdempotencyKey key) {
    if (capacity == 0 || indexByRequestId.putIfAbsent(key.requestId(), key.index()) != null) {
      return; // the first entry written with a key is the one a retry is answered with
    }
    inOrder.addLast(key);
    if (inOrder.size() > capacity) {
      IdempotencyKey oldest = inOrder.pollFirst();
      indexByRequestId.remove(oldest.requestId(), oldest.index());
    }
  }

  /** The entries from {@code index} on are gone: so are their keys. */
  void forgetFrom(long index) {
    while (!inOrder.isEmpty() && inOrder.peekLast().index() >= index) {
      IdempotencyKey key = inOrder.pollLast();
      indexByRequestId.remove(key.requestId(), key.index());
    }
  }
}
