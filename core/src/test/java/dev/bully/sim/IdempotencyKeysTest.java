package dev.bully.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.bully.core.Write;
import dev.bully.driver.WriteConcern;
import dev.bully.driver.WriteOutcome;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A client's idempotency key names one request: a retry with the same key and the same request is
 * answered with the original entry, the same key with another request is refused, whether the first
 * is in the log already or in the same batch. (A client that reused a key got the first request's
 * outcome, and took it for its own: the chaos run's register workload did so once.)
 */
class IdempotencyKeysTest {
  @Test
  void aKeyUsedAgainForAnotherRequestIsRefusedAndTheFirstStillAnswers() {
    Simulation sim = new Simulation(11, 3, 50, 200, 1000);
    int leader = sim.awaitAgreement(5_000);
    assertNotEquals(0, leader, "a coordinator is agreed");
    SimNode node = sim.node(leader);
    List<WriteOutcome> outcomes = new ArrayList<>();
    write(sim, node, "order-1", "put d0 -1 {\"pay\":1}", outcomes);
    sim.runFor(500);
    write(sim, node, "order-1", "put d0 -1 {\"pay\":2}", outcomes);
    write(sim, node, "order-1", "put d0 -1 {\"pay\":1}", outcomes);
    // One write in flight, then two with one key and different requests, which wait for the next batch together.
    write(sim, node, "filler", "put d1 -1 {}", outcomes);
    write(sim, node, "order-2", "put d2 -1 {\"pay\":3}", outcomes);
    write(sim, node, "order-2", "put d2 -1 {\"pay\":4}", outcomes);
    sim.runFor(500);

    WriteOutcome.Committed first = assertInstanceOf(WriteOutcome.Committed.class, outcomes.get(0));
    assertEquals(new WriteOutcome.KeyReused("order-1", first.index()), outcomes.get(1));
    assertEquals(first.index(), assertInstanceOf(WriteOutcome.Committed.class, outcomes.get(2)).index(),
        "a retry of the same request is answered with its entry");
    List<WriteOutcome> later = outcomes.subList(3, outcomes.size());
    assertEquals(1, later.stream().filter(o -> o.equals(new WriteOutcome.KeyReused("order-2", 0))).count(), later.toString());
    assertEquals(2, later.stream().filter(o -> o instanceof WriteOutcome.Committed).count(), later.toString());
  }

  private static void write(Simulation sim, SimNode node, String key, String data, List<WriteOutcome> outcomes) {
    node.driver.write(new Write(key, data, sim.now()), WriteConcern.MAJORITY, outcomes::add);
  }
}
