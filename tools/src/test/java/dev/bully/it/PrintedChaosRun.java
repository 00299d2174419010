package dev.bully.it;

import dev.bully.tools.chaos.ChaosRun;
import dev.bully.tools.chaos.Checker;
import dev.bully.tools.chaos.KeptOutput;

/** A chaos run whose output goes to the test's output and is kept, for assertions on the faults it printed. */
final class PrintedChaosRun {
  private final KeptOutput printed = new KeptOutput();
  private final Checker.Result result;

  PrintedChaosRun(String... args) throws Exception {
    result = ChaosRun.of(args, printed.stream()).run();
  }

  Checker.Result result() {
    return result;
  }

  String output() {
    return printed.text();
  }
}
