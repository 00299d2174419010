package dev.bully.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.bully.core.Role;
import dev.bully.scenario.ScenarioScript;
import dev.bully.scenario.ScenarioScript.Step;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every scenario file in {@code scenarios/} on the simulator: five nodes boot and elect node 5,
 * then the file's steps run, and the protocol transcript from the first step on must be the one
 * the file holds, line for line. {@code bin/scenario.sh} runs the same files on real processes.
 * After a change that alters a transcript on purpose, {@code mvn test -pl core
 * -Dtest=ScenarioFilesTest -Dscenarios.rewrite=true} writes the new ones; read their diff.
 */
class ScenarioFilesTest {
  static final long HEARTBEAT_MS = 50;
  static final long FAILURE_TIMEOUT_MS = 200;
  static final long TAKEOVER_DELAY_MS = 1000;
  /** How long an expectation may take to come true, in virtual time. */
  static final long TIMEOUT_MS = 3000;

  @TestFactory
  Stream<DynamicTest> everyScenarioFileGivesItsTranscript() {
    List<ScenarioScript> scripts = ScenarioScript.all();
    assertFalse(scripts.isEmpty(), "no scenario files in " + ScenarioScript.directory().toAbsolutePath());
    return scripts.stream().map(script -> DynamicTest.dynamicTest(script.name() + ": " + script.description(), () -> {
      List<String> transcript = run(script);
      Path file = ScenarioScript.directory().resolve(script.name() + ".txt");
      if (Boolean.getBoolean("scenarios.rewrite")) {
        Files.writeString(file, script.withTranscript(file, transcript));
        return;
      }
      assertEquals(String.join("\n", script.transcript()), String.join("\n", transcript),
          "the transcript of " + file + " (after an intended change: -Dscenarios.rewrite=true, then read the diff)");
    }));
  }

  /** Runs the script's steps; the transcript from the first step on, without the times. */
  static List<String> run(ScenarioScript script) throws IOException {
    Simulation sim = new Simulation(script.seed(), 5, HEARTBEAT_MS, FAILURE_TIMEOUT_MS, TAKEOVER_DELAY_MS);
    check(sim.awaitAgreement(TIMEOUT_MS) == 5, sim, "a fresh cluster elects node 5");
    sim.runFor(500);
    int from = sim.transcript().size();
    long term = sim.status(5).term();
    for (Step step : script.steps()) {
      switch (step.verb()) {
        case KILL -> sim.crash(step.node(0));
        case PAUSE -> sim.pause(step.node(0));
        case RESUME -> sim.resume(step.node(0));
        case RESTART -> sim.restart(step.node(0));
        case START_ELECTION -> step.args().forEach(id -> sim.startElectionNow(Integer.parseInt(id)));
        case DIE_DURING_ANNOUNCEMENT -> sim.dieDuringAnnouncement(step.node(0));
        case DIE_DURING_ELECTION -> sim.dieDuringElection(step.node(0));
        case WAIT -> sim.runFor(Long.parseLong(step.args().get(0)));
        case EXPECT -> term = expect(sim, step, term, from);
      }
    }
    List<String> lines = new ArrayList<>();
    for (String line : sim.transcript().subList(from, sim.transcript().size())) {
      lines.add(line.substring(line.indexOf(" ms  ") + 5));
    }
    return lines;
  }

  /** Checks one {@code expect} step; returns the term of the coordinator it names, or {@code term}. */
  private static long expect(Simulation sim, Step step, long term, int from) {
    String what = step.args().get(0);
    switch (what) {
      case "coordinator" -> {
        int id = step.node(1);
        check(sim.awaitCoordinator(id, TIMEOUT_MS), sim, step + ": node " + id + " is the agreed coordinator");
        long now = sim.status(id).term();
        String qualifier = step.args().size() > 2 ? step.args().get(2) : "";
        check(!qualifier.equals("newer-term") || now > term, sim, step + ": term " + now + " is newer than " + term);
        check(!qualifier.equals("same-term") || now == term, sim, step + ": term " + now + " is still " + term);
        return now;
      }
      case "stays" -> {
        int id = step.node(1);
        long until = sim.now() + Long.parseLong(step.args().get(2));
        while (sim.now() < until) {
          sim.runFor(Simulation.TICK_MS);
          check(sim.agreedCoordinator() == id, sim, step + ": node " + id + " stays the agreed coordinator");
        }
      }
      case "not-coordinator" -> check(sim.status(step.node(1)).role() != Role.COORDINATOR, sim, step.toString());
      case "follows" -> await(sim, () -> sim.status(step.node(1)).coordinatorId() == step.node(2), step.toString());
      case "said" -> {
        String text = step.rest(1);
        await(sim, () -> sim.transcript().subList(from, sim.transcript().size()).stream().anyMatch(l -> l.contains(text)),
            step.toString());
      }
      default -> throw new IllegalArgumentException("line " + step.line() + ": no expectation '" + what + "'");
    }
    return term;
  }

  private static void await(Simulation sim, BooleanSupplier condition, String what) {
    long deadline = sim.now() + TIMEOUT_MS;
    while (!condition.getAsBoolean() && sim.now() < deadline) {
      sim.runFor(Simulation.TICK_MS);
    }
    check(condition.getAsBoolean(), sim, what);
  }

  private static void check(boolean condition, Simulation sim, String what) {
    if (!condition) {
      throw new AssertionError("expected: " + what + "\n" + sim.transcriptTail(40));
    }
  }
}
