package dev.bully.driver;

/**
 * What became of a linearizable read on this node: {@link Ready} (this node confirmed with a
 * majority that it leads: the read sees every write committed before it arrived once the state is
 * applied up to {@code index}), {@link Redirect}ed to the node that leads, or {@link Unavailable}
 * for now. Only the HTTP layer turns these into status codes.
 */
public sealed interface ReadOutcome {
  record Ready(long index, long term) implements ReadOutcome {
  }

  record Redirect(int coordinatorId) implements ReadOutcome {
  }

  record Unavailable(String error, String message) implements ReadOutcome {
    static Unavailable because(String why) {
      return new Unavailable("unavailable", why + "; retry");
    }
  }
}
