package dev.bully.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bully.scenario.ScenarioScript;
import dev.bully.tools.Scenarios;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every scenario file (the seven Bully seed cases and the rejoin case), each on five fresh real
 * node processes, as bin/scenario.sh runs them; the simulator runs the same files
 * (ScenarioFilesTest in the core module).
 */
class ScenarioIT {
  static Stream<String> scenarios() {
    List<String> names = ScenarioScript.all().stream().map(ScenarioScript::name).toList();
    assertTrue(names.size() >= 8, "the scenario files: " + names);
    return names.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("scenarios")
  void scenarioMeetsItsExpectations(String name) throws Exception {
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
