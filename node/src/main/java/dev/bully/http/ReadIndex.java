package dev.bully.http;

import dev.bully.election.Addresses;
import dev.bully.election.Outcome;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

/**
 * What a linearizable read waits for: the coordinator's confirmation, by a majority's answer to a
 * heartbeat round that left after the read arrived, that it still leads, and the index its state
 * must be applied up to (the read index; see the core's {@code ReadRounds}). No log write: the
 * reads that arrive together share one round.
 */
final class ReadIndex {
  private static final long TIMEOUT_MS = 10_000;

  /** The read was not confirmed here: the reply says why (redirect or unavailable). */
  static final class NotConfirmed extends RuntimeException {
    final JsonObject reply;

    NotConfirmed(JsonObject reply) {
      super(reply.getString("message", "not confirmed"), null, false, false);
      this.reply = reply;
    }
  }

  private final Vertx vertx;

  ReadIndex(Vertx vertx) {
    this.vertx = vertx;
  }

  /** The read index of a read that arrives now, once this node confirmed it leads; else fails with {@link NotConfirmed}. */
  Future<Long> await() {
    return vertx.eventBus().<JsonObject>request(Addresses.LOCAL_READ_INDEX, null, Addresses.local().setSendTimeout(TIMEOUT_MS))
        .recover(timeout -> Future.failedFuture(new NotConfirmed(Outcome.unavailable("no majority confirmed the read in time"))))
        .compose(message -> {
          JsonObject reply = message.body();
          return Outcome.READY.equals(reply.getString(Outcome.KEY)) ? Future.succeededFuture(reply.getLong("index"))
              : Future.failedFuture(new NotConfirmed(reply));
        });
  }
}
