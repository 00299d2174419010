package dev.bully.it;

import dev.bully.tools.chaos.ChaosRun;
import dev.bully.tools.chaos.Checker;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** A chaos run whose output goes to the test's output and is kept, for assertions on the faults it printed. */
final class PrintedChaosRun {
  private final ByteArrayOutputStream printed = new ByteArrayOutputStream();
  private final Checker.Result result;

  PrintedChaosRun(String... args) throws Exception {
    PrintStream both = new PrintStream(new OutputStream() {
      @Override
      public void write(int b) {
        printed.write(b);
        System.out.write(b);
      }
    }, true, StandardCharsets.UTF_8);
    result = ChaosRun.of(args, both).run();
  }

  Checker.Result result() {
    return result;
  }

  String output() {
    return printed.toString(StandardCharsets.UTF_8);
  }
}
