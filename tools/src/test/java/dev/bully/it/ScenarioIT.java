package dev.bully.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bully.tools.Scenarios;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The seven Bully seed cases and the rejoin case, each on five fresh real node processes, as bin/scenario.sh runs them. */
class ScenarioIT {

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"case1", "case2", "case3a", "case3b", "case4", "case5.1", "case5.2", "rejoin"})
  void scenarioEndsWithTheExpectedCoordinator(String name) throws Exception {
    ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    boolean passed;
    try (PrintStream out = new PrintStream(buffer, true, StandardCharsets.UTF_8)) {
      passed = Scenarios.run(name, out);
    }
    String report = buffer.toString(StandardCharsets.UTF_8);
    System.out.println(report);
    assertTrue(passed, report);
    assertTrue(report.contains("PASS " + name), report);
  }
}
