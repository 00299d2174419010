package dev.bully.sim;

import dev.bully.core.Role;
import dev.bully.core.Write;
import dev.bully.driver.WriteConcern;
import dev.bully.driver.WriteOutcome;
import java.util.SplittableRandom;

/**
 * A client of the simulated cluster: it sends each write to the node that leads now (the highest
 * term among live coordinators), through that node's client-write batching, and when it is told
 * the write is committed the invariants check it is the committed entry at the index it was told.
 */
final class SimClient {
  private final Simulation sim;
  /** The padding of each write: from none to about a batch's or a page's worth. */
  private final SplittableRandom writeSizes;
  private long sequence;
  private boolean stopped;

  SimClient(Simulation sim, SplittableRandom writeSizes) {
    this.sim = sim;
    this.writeSizes = writeSizes;
  }

  /** One write, to the node that leads now; the node it went to, or 0 when none leads. */
  int write() {
    int target = 0;
    long bestTerm = -1;
    for (int id = 1; id <= sim.size(); id++) {
      if (sim.isUp(id) && sim.status(id).role() == Role.COORDINATOR && sim.status(id).term() > bestTerm) {
        target = id;
        bestTerm = sim.status(id).term();
      }
    }
    if (target != 0) {
      String key = "w" + (++sequence);
      String data = "{\"n\":" + sequence + ",\"pad\":\"" + "p".repeat(writeSizes.nextInt(1_200)) + "\"}";
      SimNode node = sim.node(target);
      node.driver.write(new Write(key, data, sim.now()), WriteConcern.MAJORITY, outcome -> {
        if (outcome instanceof WriteOutcome.Committed committed) {
          sim.invariants().acknowledged(key, committed.index());
        }
      });
      sim.invariants().check(node);
    }
    return target;
  }

  /** A write every {@code intervalMs}, until {@link #stop()}. */
  void writeEvery(long intervalMs) {
    sim.schedule(sim.now() + intervalMs, null, () -> {
      if (!stopped) {
        write();
        writeEvery(intervalMs);
      }
    });
  }

  void stop() {
    stopped = true;
  }
}
