package dev.bully.driver;

import dev.bully.core.Output;

/** What the driver tells the process it runs in: the node's verticle, or the simulator. */
public interface Host {
  /** An output of the replica was taken, before any of it is done (the simulator checks it against the store). */
  default void accepted(Output output) {
  }

  /** The output's events are true now (what they depend on is durable): log them, publish the status. */
  void record(Output output);

  /** The store failed a write for good: the replica's state and the store's no longer agree, so the node must stop. */
  void failStop(String why, Throwable cause);

  /** Something failed that the protocol recovers from by itself (a read for an APPEND: the APPEND is lost). */
  void warn(String message);
}
