package dev.bully.http;

import dev.bully.data.Operation;
import dev.bully.election.Addresses;
import dev.bully.election.Outcome;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

/**
 * The proof a linearizable read waits for: a barrier entry appended after the read arrived and
 * committed by a majority in the coordinator's term. Once it is committed, no other node led a
 * newer term before it was appended, so everything committed when the read arrived is at or below
 * its index; once applied here, a read of this node's documents sees all of it.
 *
 * <p>Reads share barriers: a read that arrives while one is on its way waits for the next, which is
 * appended as soon as that one is answered; at most two are pending, however many reads come.
 * On the HTTP verticle's event loop only.
 */
final class ReadBarrier {
  private static final long TIMEOUT_MS = 10_000;

  /** A barrier that was not committed: the write path's reply says why (redirect or unavailable). */
  static final class NotCommitted extends RuntimeException {
    final JsonObject reply;

    NotCommitted(JsonObject reply) {
      super(reply.getString("message", "not committed"), null, false, false);
      this.reply = reply;
    }
  }

  private final Vertx vertx;
  private boolean inFlight;
  private Promise<Long> next;

  ReadBarrier(Vertx vertx) {
    this.vertx = vertx;
  }

  /** The index of a barrier appended after this call, once it is committed. */
  Future<Long> await() {
    if (next == null) {
      next = Promise.promise();
    }
    Future<Long> mine = next.future();
    if (!inFlight) {
      send();
    }
    return mine;
  }

  private void send() {
    Promise<Long> sending = next;
    next = null;
    inFlight = true;
    JsonObject request = new JsonObject().put("data", Operation.BARRIER).put("w", "MAJORITY");
    vertx.eventBus().<JsonObject>request(Addresses.LOCAL_WRITE, request, Addresses.local().setSendTimeout(TIMEOUT_MS))
        .onComplete(done -> {
          inFlight = false;
          if (done.failed()) {
            sending.fail(new NotCommitted(Outcome.unavailable("the read's barrier was not committed in time")));
          } else {
            JsonObject reply = done.result().body();
            if (Outcome.COMMITTED.equals(reply.getString(Outcome.KEY))) {
              sending.complete(reply.getLong("index"));
            } else {
              sending.fail(new NotCommitted(reply));
            }
          }
          if (next != null) {
            send();
          }
        });
  }
}
