package dev.bully.driver;

/**
 * What became of a client's write: {@link Committed} (its write concern met), {@link Redirect}ed to
 * the node that leads, {@link Unavailable} for now (the client may retry with the same idempotency
 * key), or refused because its idempotency key was used for another request ({@link KeyReused}). Only the HTTP layer turns these into status codes.
 */
public sealed interface WriteOutcome {
  record Committed(long index, long term, int node) implements WriteOutcome {
  }

  record Redirect(int coordinatorId) implements WriteOutcome {
  }

  /**
   * Refused: the write's idempotency key names an entry ({@code index}, 0 if it is in the same batch)
   * written for another request; answering with that entry's outcome would tell the client that its
   * write was made. Checked while the entry is in memory (the newest entries), not against older ones.
   */
  record KeyReused(String requestId, long index) implements WriteOutcome {
  }

  /** {@code error} is a short code ({@code unavailable}, {@code overloaded}); {@code message} says why. */
  record Unavailable(String error, String message) implements WriteOutcome {
    static Unavailable because(String why) {
      return new Unavailable("unavailable", why + "; retry");
    }
  }
}
