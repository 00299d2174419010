package dev.bully.sim;

import dev.bully.apply.Change;
import dev.bully.core.Role;
import dev.bully.core.Write;
import dev.bully.driver.WriteConcern;
import dev.bully.driver.WriteOutcome;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A client of the simulated cluster: it sends each write to the node that leads now (the highest
 * term among live coordinators), through that node's client-write batching, and when it is told
 * the write is committed the invariants check it is the committed entry at the index it was told.
 * Each write is an operation on one of a few documents ({@link SimOp}): a put, a create-only put, a
 * compare-and-set on the version it last saw acknowledged, or a delete.
 */
final class SimClient {
  private static final int KEYS = 4;
  private final Simulation sim;
  /** The padding of each write: from none to about a batch's or a page's worth. */
  private final SplittableRandom writeSizes;
  /** Which document, and which operation. */
  private final SplittableRandom operations;
  /** The version of each document as this client last saw a put of it acknowledged (its condition may have failed). */
  private final Map<String, Long> versions = new HashMap<>();
  private long sequence;
  private boolean stopped;

  SimClient(Simulation sim, SplittableRandom writeSizes, SplittableRandom operations) {
    this.sim = sim;
    this.writeSizes = writeSizes;
    this.operations = operations;
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
      String fields = "{\"n\":" + sequence + ",\"pad\":\"" + "p".repeat(writeSizes.nextInt(1_200)) + "\"}";
      String id = "d" + operations.nextInt(KEYS);
      long known = versions.getOrDefault(id, 0L);
      int pick = operations.nextInt(10);
      String data = switch (pick) {
        case 0 -> SimOp.delete(id, Change.ANY);
        case 1 -> SimOp.delete(id, known);
        case 2 -> SimOp.put(id, Change.ABSENT, fields);
        case 3, 4, 5 -> SimOp.put(id, known, fields);
        default -> SimOp.put(id, Change.ANY, fields);
      };
      SimNode node = sim.node(target);
      node.driver.write(new Write(key, data, sim.now()), WriteConcern.MAJORITY, outcome -> {
        if (outcome instanceof WriteOutcome.Committed committed) {
          sim.invariants().acknowledged(key, committed.index());
          if (pick >= 2) {
            versions.put(id, committed.index());
          }
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
