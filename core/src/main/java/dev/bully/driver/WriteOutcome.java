package dev.bully.driver;

/**
 * What became of a client's write: {@link Committed} (its write concern met), {@link Redirect}ed to
 * the node that leads, or {@link Unavailable} for now (the client may retry with the same
 * idempotency key). Only the HTTP layer turns these into status codes.
 */
public sealed interface WriteOutcome {
  record Committed(long index, long term, int node) implements WriteOutcome {
  }

  record Redirect(int coordinatorId) implements WriteOutcome {
  }

  /** {@code error} is a short code ({@code unavailable}, {@code overloaded}); {@code message} says why. */
  record Unavailable(String error, String message) implements WriteOutcome {
    static Unavailable because(String why) {
      return new Unavailable("unavailable", why + "; retry");
    }
  }
}
