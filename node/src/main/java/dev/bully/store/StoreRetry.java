package dev.bully.store;

import com.mongodb.MongoBulkWriteException;
import com.mongodb.MongoCommandException;
import com.mongodb.MongoSocketException;
import com.mongodb.MongoTimeoutException;
import com.mongodb.MongoWriteException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.Optional;
import java.util.Set;
import java.util.function.IntFunction;
import java.util.function.Supplier;
import org.bson.BSONException;
import org.bson.BsonMaximumSizeExceededException;
import org.bson.BsonSerializationException;
import org.bson.codecs.configuration.CodecConfigurationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a node's store writes meet failure. A failure of the node's own making, one that would fail
 * the same way every time (a document too large, a value the store cannot encode, a key that
 * already exists), or a store that closed itself (the embedded store does when its own write
 * fails), is a bug: {@link #run} fails with it, and the caller stops the node with a
 * clear message rather than retry for ever. Anything else (the disk is full, the connection to
 * MongoDB broke, a timeout) may pass: the write is tried again, with back-off from
 * {@value #FIRST_BACK_OFF_MS} ms up to {@value #MAX_BACK_OFF_MS} ms, and meanwhile the node shows the
 * trouble in {@code /health/ready} and on the dashboard ({@link #trouble()}). A write also waits,
 * in the same way, while the store's disk has less room than it must keep free: the embedded store
 * would close itself for good on a full disk.
 *
 * <p>Every write retried here must be idempotent: the store's writes are (a segment's retry first
 * removes what the failed try may have left, a page is written by its id, the term by upsert).
 */
public final class StoreRetry {
  private static final Logger log = LoggerFactory.getLogger(StoreRetry.class);
  static final long FIRST_BACK_OFF_MS = 50;
  static final long MAX_BACK_OFF_MS = 5_000;
  /**
   * MongoDB error codes that mean the request itself is wrong: BadValue, FailedToParse, TypeMismatch,
   * InvalidLength, InvalidBSON, a duplicate key, documents too large, a key MongoDB does not allow.
   */
  private static final Set<Integer> REQUEST_ERRORS = Set.of(2, 9, 14, 16, 22, 11000, 10334, 17419, 17420, 52, 56, 57);

  private final Vertx vertx;
  /** Why writes must wait before they are tried (a disk nearly full), or empty. */
  private final Supplier<Optional<String>> room;
  private volatile String trouble;
  /** The store was closed: nothing is tried again. */
  private volatile boolean closed;

  StoreRetry(Vertx vertx, Supplier<Optional<String>> room) {
    this.vertx = vertx;
    this.room = room;
  }

  /** What is failing in the store and since when, while a write is being retried. */
  public Optional<String> trouble() {
    return Optional.ofNullable(trouble);
  }

  /**
   * Runs {@code attempt} (given the number of tries before it, so a retry can clear what a failed
   * try left) until it succeeds; the future fails only with a failure that a retry cannot mend
   * ({@link #isDeterministic}).
   */
  public <T> Future<T> run(String what, IntFunction<Future<T>> attempt) {
    Promise<T> done = Promise.promise();
    attempt(what, attempt, done, 0, FIRST_BACK_OFF_MS, 0);
    return done.future();
  }

  private <T> void attempt(String what, IntFunction<Future<T>> attempt, Promise<T> done, int tries, long backOffMs, long sinceMs) {
    Future<T> tried;
    Optional<String> shortage = room.get();
    try {
      // Waiting for room is one more failure that may pass: retried with back-off and shown meanwhile.
      tried = shortage.isPresent() ? Future.failedFuture(new IllegalStateException(shortage.get())) : attempt.apply(tries);
    } catch (RuntimeException e) {
      tried = Future.failedFuture(e); // an encoder that throws before the write starts
    }
    tried.onComplete(result -> {
      if (result.succeeded()) {
        if (sinceMs != 0) {
          trouble = null;
          log.info("The store works again: {} succeeded after {} ms of retries", what, System.currentTimeMillis() - sinceMs);
        }
        done.complete(result.result());
      } else if (closed || isDeterministic(result.cause())) {
        done.fail(result.cause());
      } else {
        long since = sinceMs == 0 ? System.currentTimeMillis() : sinceMs;
        if (sinceMs == 0) {
          log.warn("The store failed {} ({}); retrying with back-off", what, result.cause().toString());
        }
        trouble = what + " has failed since " + java.time.Instant.ofEpochMilli(since) + ": " + result.cause();
        vertx.setTimer(backOffMs, id -> attempt(what, attempt, done, tries + 1, Math.min(MAX_BACK_OFF_MS, backOffMs * 2), since));
      }
    });
  }

  /** The store is closing: failures from now on are final, not retried. */
  void close() {
    closed = true;
  }

  /** Whether {@code failure} would happen again on every try: the request is at fault, not the store's state. */
  static boolean isDeterministic(Throwable failure) {
    for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
      if (cause instanceof MongoSocketException || cause instanceof MongoTimeoutException) {
        return false;
      }
      if (cause instanceof Error || String.valueOf(cause.getMessage()).contains("store is closed")) {
        return true; // the embedded store gave up (it closes itself when a write of its own fails): it never comes back
      }
      if (cause instanceof BsonMaximumSizeExceededException || cause instanceof BsonSerializationException
          || cause instanceof BSONException || cause instanceof CodecConfigurationException
          || cause instanceof IllegalArgumentException || cause instanceof ClassCastException) {
        return true;
      }
      if (cause instanceof MongoWriteException write && REQUEST_ERRORS.contains(write.getCode())) {
        return true;
      }
      if (cause instanceof MongoBulkWriteException bulk
          && bulk.getWriteErrors().stream().anyMatch(error -> REQUEST_ERRORS.contains(error.getCode()))) {
        return true;
      }
      if (cause instanceof MongoCommandException command && REQUEST_ERRORS.contains(command.getErrorCode())) {
        return true;
      }
      if (cause == cause.getCause()) {
        break;
      }
    }
    return false;
  }
}
