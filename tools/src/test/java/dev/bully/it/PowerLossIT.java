package dev.bully.it;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bully.tools.chaos.Checker;
import org.junit.jupiter.api.Test;

/**
 * {@code bin/chaos.sh --faults powerloss} as a test: three real nodes under writes lose their power
 * together, again and again; each time every write a node had not forced to the device is undone
 * before they restart. Nothing acknowledged may be lost, no node may vote twice in a term or come
 * back in an older term, and no term may have two coordinators. The same run with the force traded
 * away ({@code store.sync: os}) must fail those checks, or this test could not catch a missing force.
 */
class PowerLossIT {
  private static final String[] RUN = {"--nodes", "3", "--duration", "45", "--faults", "powerloss", "--rate", "150",
      "--clients", "4", "--seed", "15"};

  @Test
  void nothingAcknowledgedAndNoVoteIsLostWhenEveryNodeLosesItsPower() throws Exception {
    PrintedChaosRun run = new PrintedChaosRun(RUN);
    Checker.Result result = run.result();
    String output = run.output();
    assertTrue(result.passed(), result.summary() + "\n" + String.join("\n", result.violations()) + "\n" + output);
    assertTrue(output.lines().filter(l -> l.contains("power loss: every node at once")).count() >= 2,
        "the run had power losses to survive:\n" + output);
    assertTrue(output.contains("writes not forced to the device undone") && !output.contains(" of 0 tracked files"),
        "every node's store was tracked, so each loss could undo what was not forced:\n" + output);
    // Progress only: with restarts of a few seconds a run has four losses or more and spends most of its time recovering.
    assertTrue(result.acknowledged() > 100, "the writers made progress between the losses: " + result.summary());
  }

  @Test
  void withoutTheForceToTheDeviceThePowerLossLosesWhatWasAcknowledged() throws Exception {
    String[] withoutForce = java.util.stream.Stream.concat(java.util.Arrays.stream(RUN), java.util.stream.Stream.of("--sync", "os"))
        .toArray(String[]::new);
    PrintedChaosRun run = new PrintedChaosRun(withoutForce);
    Checker.Result result = run.result();
    assertFalse(result.passed(), "with store.sync os a power loss must undo acknowledged writes, and the checker must"
        + " see it: " + result.summary() + "\n" + run.output());
    assertTrue(result.lost() > 0 || result.violations().stream().anyMatch(v -> v.startsWith("term went down")
        || v.startsWith("voted twice")), "the failure is a lost write or a forgotten term or vote: " + result.violations());
  }
}
