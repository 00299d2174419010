package dev.bully.sim;

import dev.bully.core.Role;
import dev.bully.driver.ReadOutcome;
import java.util.SplittableRandom;

/**
 * A client that makes linearizable reads through random live nodes (coordinators, stale
 * coordinators cut off from the rest, followers that redirect it), each through that node's
 * driver. When a node answers a read with its read index, the read must see every write whose
 * client was told it committed before the read was made: the index is at least the highest such
 * write's, and no more than the node has committed.
 *
 * <p>{@link #unsafe()} reads as a coordinator would that trusts its role without asking a
 * majority: from its commit index, at once. The test that shows the check catches stale reads runs
 * it.
 */
final class SimReader {
  private final Simulation sim;
  private final SplittableRandom random;
  private boolean stopped;
  private boolean unsafe;
  private long confirmed;

  SimReader(Simulation sim, SplittableRandom random) {
    this.sim = sim;
    this.random = random;
  }

  /** A read every {@code intervalMs}, until {@link #stop()}. */
  void every(long intervalMs) {
    sim.schedule(sim.now() + intervalMs, null, () -> {
      if (!stopped) {
        read(1 + random.nextInt(sim.size()));
        every(intervalMs);
      }
    });
  }

  void stop() {
    stopped = true;
  }

  /** Fault, for the test that shows the check catches it: reads trust the node's role. */
  void unsafe() {
    unsafe = true;
  }

  /** Reads answered with a read index so far. */
  long confirmed() {
    return confirmed;
  }

  private void read(int id) {
    if (!sim.isUp(id)) {
      return;
    }
    long issuedMs = sim.now();
    long floor = sim.invariants().highestAcknowledged();
    SimNode node = sim.node(id);
    if (unsafe) {
      if (node.replica().status().role() == Role.COORDINATOR) {
        answered(id, node.replica().status().commitIndex(), issuedMs, floor);
      }
      return;
    }
    node.driver.read(outcome -> {
      if (outcome instanceof ReadOutcome.Ready ready) {
        answered(id, ready.index(), issuedMs, floor);
      }
    });
    sim.invariants().check(node);
  }

  private void answered(int id, long index, long issuedMs, long floor) {
    confirmed++;
    if (index < floor) {
      throw sim.violation("a linearizable read made at node " + id + " at " + issuedMs + " ms was answered from index "
          + index + ", below index " + floor + " of a write acknowledged before it");
    }
    long committed = sim.status(id).commitIndex();
    if (index > committed) {
      throw sim.violation("node " + id + " answered a linearizable read from index " + index + ", beyond its commit index "
          + committed);
    }
  }
}
