package dev.bully.it;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import org.opentest4j.AssertionFailedError;

/** Waits for a condition on real processes, with a deadline; never a fixed sleep. */
public final class Await {
  private static final long POLL_MS = 50;

  private Await() {
  }

  public static void until(Duration timeout, String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      try {
        if (condition.getAsBoolean()) {
          return;
        }
      } catch (RuntimeException e) {
        // Not yet: a node that is starting or stopping may refuse connections.
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionFailedError("Timed out after " + timeout.toMillis() + " ms waiting for: " + what);
      }
      try {
        Thread.sleep(POLL_MS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionFailedError("Interrupted waiting for: " + what);
      }
    }
  }
}
