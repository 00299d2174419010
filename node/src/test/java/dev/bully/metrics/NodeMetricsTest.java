package dev.bully.metrics;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.ref.WeakReference;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class NodeMetricsTest {
  /**
   * The meters that read a supplier keep reading it after a collection: with the suppliers handed to
   * Micrometer alone (it keeps weak references), a running node's scrape said
   * {@code bully_applied_index NaN} and {@code bully_log_forces_total 0.0}.
   */
  @Test
  void functionMetersStillReadTheirSuppliersAfterACollection() {
    NodeMetrics metrics = new NodeMetrics(1, List.of(2, 3));
    AtomicLong applied = new AtomicLong(42);
    AtomicLong forces = new AtomicLong(7);
    metrics.appliedIndex(applied::get);
    metrics.logForces(forces::get, () -> 3_000_000_000L);
    collectGarbage();
    String scrape = metrics.registry().scrape();
    assertTrue(scrape.contains("bully_applied_index 42.0"), scrape);
    assertTrue(scrape.contains("bully_log_forces_total 7.0"), scrape);
    assertTrue(scrape.contains("bully_log_force_seconds_total 3.0"), scrape);
  }

  /** Collects until an object only weakly referenced is gone, which takes the meters' weak references with it. */
  private static void collectGarbage() {
    WeakReference<Object> probe = new WeakReference<>(new Object());
    for (int i = 0; i < 50 && probe.get() != null; i++) {
      System.gc();
    }
    assertTrue(probe.get() == null, "the collector did not run");
  }
}
