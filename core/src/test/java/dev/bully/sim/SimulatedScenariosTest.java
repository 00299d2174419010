package dev.bully.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bully.core.LogEntry;
import dev.bully.core.ProtocolEvent;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Scenarios on the simulator that need more than the steps of a scenario file (the seven Bully
 * cases and the rejoin case are files, see {@link ScenarioFilesTest}): client writes, rollbacks,
 * isolation and hand-offs. Each opens with one sentence describing the situation.
 */
class SimulatedScenariosTest {
  static final long HEARTBEAT_MS = 50;
  static final long FAILURE_TIMEOUT_MS = 200;
  static final long TAKEOVER_DELAY_MS = 1000;
  static final long AGREEMENT_MS = 3000;

  private Simulation booted(long seed) {
    Simulation sim = new Simulation(seed, 5, HEARTBEAT_MS, FAILURE_TIMEOUT_MS, TAKEOVER_DELAY_MS);
    assertEquals(5, sim.awaitAgreement(AGREEMENT_MS), "a fresh cluster elects node 5\n" + sim.transcriptTail(40));
    sim.runFor(500);
    return sim;
  }

  private static void assertCoordinator(Simulation sim, int expected, long termAbove) {
    assertTrue(sim.awaitCoordinator(expected, AGREEMENT_MS), "node " + expected + " is the agreed coordinator\n"
        + sim.transcriptTail(60));
    assertTrue(sim.status(expected).term() > termAbove, "the new coordinator's term is higher than " + termAbove);
  }

  private static boolean said(Simulation sim, String line) {
    return sim.transcript().stream().anyMatch(l -> l.endsWith(line));
  }

  @Test
  void rejoinWithStaleTermWaitsUntilCaughtUp() {
    // Coordinator 5 crashes; node 4 takes over and commits writes; 5 restarts with its stale term and a log that is
    // behind. It must not lead before it has caught up; then it takes over, holding every acknowledged write.
    Simulation sim = booted(8);
    long term = sim.status(5).term();
    sim.crash(5);
    assertCoordinator(sim, 4, term);
    for (int i = 0; i < 200; i++) {
      sim.write();
      sim.runFor(2);
    }
    sim.runFor(200);
    assertEquals(200, sim.acknowledged().size());
    sim.restart(5);
    sim.runFor(TAKEOVER_DELAY_MS / 2);
    assertEquals(4, sim.agreedCoordinator(), "node 5 does not lead at once\n" + sim.transcriptTail(30));
    assertEquals(sim.status(4).log(), sim.status(5).log(), "it has caught up");
    assertCoordinator(sim, 5, sim.status(4).term());
    List<String> keys = sim.committedLog(5).stream().map(LogEntry::requestId).toList();
    assertTrue(keys.containsAll(sim.acknowledged().keySet()), "every acknowledged write is on the new coordinator");
  }

  @Test
  void writesAnIsolatedCoordinatorCouldNotReplicateGoToItsRollback() {
    // Coordinator 5 is cut off and still takes writes for a moment; the majority elects 4 and goes on; when 5 returns
    // it steps down, and the writes it could not replicate move to its rollback, never acknowledged.
    Simulation sim = booted(11);
    sim.isolate(5);
    for (int i = 0; i < 5; i++) {
      assertEquals(5, sim.write(), "5 still believes it leads");
    }
    sim.runFor(1000);
    for (int id = 1; id <= 4; id++) {
      assertEquals(4, sim.status(id).coordinatorId(), "the majority side follows 4\n" + sim.transcriptTail(20));
    }
    for (int i = 0; i < 5; i++) {
      assertEquals(4, sim.write());
    }
    sim.runFor(200);
    sim.heal();
    sim.runFor(TAKEOVER_DELAY_MS + 1000);
    List<String> rolledBack = sim.rolledBack(5).stream().map(LogEntry::requestId).toList();
    assertEquals(List.of("w1", "w2", "w3", "w4", "w5"), rolledBack.subList(rolledBack.size() - 5, rolledBack.size()),
        sim.transcriptTail(30));
    assertTrue(rolledBack.stream().noneMatch(sim.acknowledged()::containsKey), "none of them was acknowledged");
    assertEquals(5, sim.acknowledged().size());
  }

  @Test
  void isolatedFollowerDoesNotInflateTerms() {
    // Follower 3 is cut off from everyone for ten seconds; its pre-votes fail, so when it returns the coordinator and
    // its term are undisturbed.
    Simulation sim = booted(9);
    long term = sim.status(5).term();
    sim.isolate(3);
    sim.runFor(10_000);
    assertEquals(term, sim.status(3).term(), "the isolated node never raised its term");
    sim.heal();
    sim.runFor(1000);
    assertEquals(5, sim.agreedCoordinator(), sim.transcriptTail(20));
    assertEquals(term, sim.status(5).term());
  }

  @Test
  void isolatedCoordinatorStepsDownAndTheMajorityGoesOn() {
    // Coordinator 5 is cut off from the others: it steps down within twice the failure timeout, the majority elects 4, and
    // after healing 5 takes over again through a takeover.
    Simulation sim = booted(10);
    long term = sim.status(5).term();
    sim.isolate(5);
    sim.runFor(2 * FAILURE_TIMEOUT_MS + 2 * Simulation.TICK_MS + HEARTBEAT_MS);
    assertTrue(said(sim, "Node 5 stepped down: lost contact with a majority (heard 5 within " + 2 * FAILURE_TIMEOUT_MS + " ms, 3 needed)"),
        sim.transcriptTail(20));
    sim.runFor(1000);
    assertEquals(Set.of(4), Set.of(sim.status(1).coordinatorId()), sim.transcriptTail(20));
    sim.heal();
    assertCoordinator(sim, 4, term);
    sim.runFor(TAKEOVER_DELAY_MS + 1000);
    assertEquals(5, sim.agreedCoordinator(), sim.transcriptTail(20));
  }

  @Test
  void steppingDownHandsOverWithoutAFailureDetectorElection() {
    // Coordinator 5 is asked to step down under a stream of writes: it stops taking writes, commits what it took, brings
    // node 4 level and tells it to take over; node 4 claims the next term at once, long before any follower could have
    // suspected anything, and every write 5 took is committed. After takeoverDelayMs node 5 takes over again.
    Simulation sim = booted(12);
    long term = sim.status(5).term();
    sim.writeEvery(3);
    sim.runFor(300);
    int before = sim.transcript().size();
    long askedAt = sim.now();
    sim.stepDown(5);
    List<LogEntry> took = sim.entries(5); // it takes no new writes from here on
    long[] coordinatorAt = {0};
    sim.onEvent(event -> {
      if (coordinatorAt[0] == 0 && event.kind() == ProtocolEvent.Kind.COORDINATOR && event.node() == 4) {
        coordinatorAt[0] = sim.now();
      }
    });
    sim.runFor(FAILURE_TIMEOUT_MS);
    List<String> after = sim.transcript().subList(before, sim.transcript().size());
    assertTrue(coordinatorAt[0] != 0, "node 4 leads within the failure timeout\n" + String.join("\n", after));
    assertEquals(term + 1, sim.status(4).term(), "with the next term");
    assertTrue(after.get(0).endsWith("Node 5 steps down: it takes no new writes and hands over to node 4"), after.get(0));
    assertTrue(said(sim, "Node 4 claims term " + (term + 1) + " (takeover from node 5)"), String.join("\n", after));
    assertFalse(after.stream().anyMatch(l -> l.contains("suspects") || l.contains("starting an election")),
        "no one had to detect a failure:\n" + String.join("\n", after));
    assertTrue(coordinatorAt[0] - askedAt < FAILURE_TIMEOUT_MS, "hand-off took " + (coordinatorAt[0] - askedAt) + " ms");
    sim.stopWriting();
    sim.runFor(200);
    assertEquals(took, sim.committedLog(4).subList(0, took.size()), "everything node 5 took is committed, as it was");
    assertTrue(sim.acknowledged().size() > 50, "writes went on: " + sim.acknowledged().size());
    sim.runFor(TAKEOVER_DELAY_MS + 1000);
    assertEquals(5, sim.agreedCoordinator(), "the highest node takes over again\n" + sim.transcriptTail(20));
  }
}
