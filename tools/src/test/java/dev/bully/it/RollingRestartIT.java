package dev.bully.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bully.tools.chaos.ChaosRun;
import dev.bully.tools.chaos.Checker;
import dev.bully.tools.chaos.HandOffBench;
import dev.bully.tools.chaos.HandOffBench.HandOff;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code bin/chaos.sh --faults rolling} as a test: five real nodes restarted one by one with
 * SIGTERM under a steady writer, the coordinator last. Nothing acknowledged is lost, every write
 * succeeds (a client retry at most), and the coordinator hands over as it stops instead of leaving
 * the others to notice its absence.
 */
class RollingRestartIT {
  @Test
  void aRollingRestartUnderWritesLosesNothingAndTheCoordinatorHandsOver() throws Exception {
    ChaosRun run = ChaosRun.of(new String[] {"--nodes", "5", "--duration", "10", "--faults", "rolling", "--rate", "100",
        "--clients", "4", "--seed", "1"}, System.out);
    Checker.Result result = run.run();
    assertTrue(result.passed(), result.summary() + "\n" + String.join("\n", result.violations()));
    assertEquals(0, result.unacknowledged(), "every write was acknowledged in the end: " + result.summary());
    assertTrue(result.acknowledged() > 500, "the writers made progress through the restarts: " + result.summary());

    List<HandOff> handOffs = HandOffBench.handOffs(run.dir());
    assertTrue(handOffs.stream().anyMatch(h -> h.why().equals("stepped down") && h.ms() >= 0),
        "the coordinator handed over when it was stopped (SIGTERM is the only step-down in this run): " + handOffs);
  }
}
