package dev.bully.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bully.tools.chaos.ChaosRun;
import dev.bully.tools.chaos.Checker;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@code bin/chaos.sh --nodes 5 --duration 60 --faults kill,pause,partition,restart,forge} as a test:
 * kills, restarts, pauses and partitions under write load, with a forger without the cluster secret
 * listening and forging all along, then the history check must pass. The seed is random unless {@code -Dchaos.seed}
 * names one; a failure prints it, and {@code bin/chaos.sh --seed S} replays the same schedule.
 */
class ChaosIT {
  @Test
  void noAcknowledgedWriteIsLostUnderChaos() throws Exception {
    long seed = Long.getLong("chaos.seed", new SplittableRandom().nextLong(1, 1_000_000));
    Checker.Result result = ChaosRun.run(new String[] {"--nodes", "5", "--duration", "60", "--seed", String.valueOf(seed),
        "--faults", "kill,pause,partition,restart,forge"}, System.out);
    assertTrue(result.passed(), "seed " + seed + ": " + result.summary() + "\n" + String.join("\n", result.violations()));
    assertTrue(result.acknowledged() > 1000, "the writers made progress through the faults: " + result.summary());
  }
}
