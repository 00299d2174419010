package dev.bully.tools;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Waits for a condition on real processes with a deadline, polling; never a fixed sleep. */
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
      } catch (NodeProcess.Exited e) {
        throw e;
      } catch (RuntimeException e) {
        // Not yet: a node that is starting or stopping may refuse connections or answer 503.
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("Timed out after " + timeout.toMillis() + " ms waiting for: " + what);
      }
      try {
        Thread.sleep(POLL_MS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("Interrupted waiting for: " + what);
      }
    }
  }

  /** Waits until {@code supplier} gives a value (not null) and returns it. */
  public static <T> T value(Duration timeout, String what, java.util.function.Supplier<T> supplier) {
    Object[] found = new Object[1];
    until(timeout, what, () -> (found[0] = supplier.get()) != null);
    @SuppressWarnings("unchecked")
    T value = (T) found[0];
    return value;
  }

  /** Checks that {@code condition} holds throughout {@code duration}; fails at the first poll where it does not. */
  public static void during(Duration duration, String what, BooleanSupplier condition) {
    long end = System.nanoTime() + duration.toNanos();
    while (System.nanoTime() < end) {
      if (!condition.getAsBoolean()) {
        throw new IllegalStateException("Stopped holding: " + what);
      }
      try {
        Thread.sleep(POLL_MS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("Interrupted checking: " + what);
      }
    }
  }
}
