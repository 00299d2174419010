package dev.bully.election;

import dev.bully.driver.ReadOutcome;
import dev.bully.driver.WriteOutcome;
import io.vertx.core.json.JsonObject;

/**
 * What became of a request to the election verticle, as its node-local reply says it in
 * {@code outcome}: a write {@link #COMMITTED} (its write concern met), {@link #REDIRECT}ed to the
 * coordinator, {@link #UNAVAILABLE} for now, or refused as {@link #KEY_REUSED}; a linearizable read
 * {@link #READY} (with its read index), redirected or unavailable; a step-down {@link #HANDED_OVER}, {@link #REFUSED}
 * (with why in {@code error}), or {@code UNAVAILABLE}. Only the HTTP layer turns these into status
 * codes.
 */
public final class Outcome {
  public static final String KEY = "outcome";
  public static final String COMMITTED = "committed";
  public static final String READY = "ready";
  public static final String REDIRECT = "redirect";
  public static final String UNAVAILABLE = "unavailable";
  public static final String HANDED_OVER = "handed_over";
  public static final String REFUSED = "refused";
  /** A write refused: its idempotency key names an entry written for another request ({@code error}, {@code message}). */
  public static final String KEY_REUSED = "key_reused";
  /** The failure code of a node-local read whose store read failed (the HTTP layer answers it as a server error). */
  public static final int STORE_UNREADABLE = 1;
  /** A read of log entries that left this node's store: its message is the first index the log still holds. */
  public static final int COMPACTED = 2;

  private Outcome() {
  }

  /** {@code outcome} of {@code reply}, removed from it: what is left is the answer's body. */
  public static String take(JsonObject reply) {
    return (String) reply.remove(KEY);
  }

  static JsonObject of(String outcome) {
    return new JsonObject().put(KEY, outcome);
  }

  /** A client write's outcome as the reply says it. */
  static JsonObject of(WriteOutcome outcome) {
    if (outcome instanceof WriteOutcome.Committed committed) {
      return of(COMMITTED).put("index", committed.index()).put("term", committed.term()).put("node", committed.node());
    }
    if (outcome instanceof WriteOutcome.Redirect redirect) {
      return of(REDIRECT).put("coordinatorId", redirect.coordinatorId());
    }
    if (outcome instanceof WriteOutcome.KeyReused reused) {
      return of(KEY_REUSED).put("error", "idempotency_key_reused").put("message", "Idempotency-Key '" + reused.requestId()
          + "' was used for another request" + (reused.index() > 0 ? " (entry " + reused.index() + ")" : "")
          + "; a retry must send the same request, a new request a new key");
    }
    WriteOutcome.Unavailable unavailable = (WriteOutcome.Unavailable) outcome;
    return of(UNAVAILABLE).put("error", unavailable.error()).put("message", unavailable.message());
  }

  /** A linearizable read's confirmation as the reply says it. */
  static JsonObject of(ReadOutcome outcome) {
    if (outcome instanceof ReadOutcome.Ready ready) {
      return of(READY).put("index", ready.index()).put("term", ready.term());
    }
    if (outcome instanceof ReadOutcome.Redirect redirect) {
      return of(REDIRECT).put("coordinatorId", redirect.coordinatorId());
    }
    ReadOutcome.Unavailable unavailable = (ReadOutcome.Unavailable) outcome;
    return of(UNAVAILABLE).put("error", unavailable.error()).put("message", unavailable.message());
  }

  /** Not now: no coordinator, or it stopped leading; the client retries. */
  public static JsonObject unavailable(String message) {
    return of(UNAVAILABLE).put("error", "unavailable").put("message", message + "; retry");
  }
}
