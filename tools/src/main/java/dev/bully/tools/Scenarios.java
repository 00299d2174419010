package dev.bully.tools;

import dev.bully.scenario.ScenarioScript;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * The scenario files ({@code scenarios/*.txt}: the seven cases of the Bully seed and the rejoin
 * case) on five real node processes: {@code bin/scenario.sh NAME}. Each starts a fresh cluster on
 * free loopback ports, waits for coordinator 5, runs the file's steps (the simulator runs the same
 * ones, see {@link ScenarioScript}), prints the merged transcript of every node in time order and
 * the messages sent by type, and exits non-zero if an expectation was not met.
 */
public final class Scenarios {
  static final Duration OUTCOME_TIMEOUT = Duration.ofSeconds(20);

  private final ScenarioScript script;
  private final LocalCluster cluster;
  private final String token;
  private final PrintStream out;
  private final List<String> failures = new ArrayList<>();
  /** The nodes that run now: neither killed nor paused. */
  private final Set<Integer> running = new TreeSet<>(List.of(1, 2, 3, 4, 5));
  /** Nodes armed to die by a chaos fault; they leave {@link #running} once they did. */
  private final Set<Integer> armed = new TreeSet<>();
  private String faultAt;
  private long term;

  Scenarios(ScenarioScript script, LocalCluster cluster, String token, PrintStream out) {
    this.script = script;
    this.cluster = cluster;
    this.token = token;
    this.out = out;
  }

  public static void main(String[] args) {
    System.exit(new CommandLine(new Cli()).execute(args));
  }

  /** {@code bin/scenario.sh NAME}: one scenario, or all of them. */
  @Command(name = "scenario.sh", mixinStandardHelpOptions = true,
      description = "Runs a scenario file of scenarios/ on five fresh nodes and says whether its expectations were met.")
  private static final class Cli implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Parameters(paramLabel = "NAME", description = "a scenario (a file scenarios/NAME.txt), or all")
    private String name;

    @Override
    public Integer call() throws IOException {
      if (name.equals("all")) {
        return runAll();
      }
      if (!Files.exists(ScenarioScript.directory().resolve(name + ".txt"))) {
        throw new ParameterException(spec.commandLine(), "no scenario named '" + name + "'; the scenarios: "
            + String.join(", ", ScenarioScript.all().stream().map(ScenarioScript::name).toList()) + ", all");
      }
      return run(name, System.out) ? 0 : 1;
    }
  }

  private static int runAll() throws IOException {
    List<String> failed = new ArrayList<>();
    for (ScenarioScript scenario : ScenarioScript.all()) {
      if (!run(scenario.name(), System.out)) {
        failed.add(scenario.name());
      }
    }
    System.out.println(failed.isEmpty() ? "All scenarios passed." : "Failed: " + failed);
    return failed.isEmpty() ? 0 : 1;
  }

  /** Runs one scenario in a fresh folder under target/scenarios; whether its expectations were met. */
  public static boolean run(String name, PrintStream out) throws IOException {
    ScenarioScript script = ScenarioScript.named(name);
    String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    Path dir = Files.createDirectories(Path.of("target", "scenarios", name + "-" + stamp));
    String token = UUID.randomUUID().toString();
    JsonObject extra = new JsonObject()
        .put("chaos", new JsonObject().put("enabled", true))
        .put("admin", new JsonObject().put("token", token));
    for (ScenarioScript.Setting setting : script.settings()) {
      extra.put(setting.key(), setting.value().matches("-?[0-9]+") ? (Object) Long.parseLong(setting.value()) : setting.value());
    }
    out.println("== " + name + ": " + script.description());
    try (LocalCluster cluster = new LocalCluster(dir, 5, extra)) {
      return new Scenarios(script, cluster, token, out).execute();
    }
  }

  private boolean execute() {
    cluster.startAll();
    term = cluster.awaitCoordinator(5, cluster.ids(), OUTCOME_TIMEOUT);
    cluster.awaitLogsAgree(cluster.ids(), OUTCOME_TIMEOUT);
    out.println("   5 nodes up; coordinator 5 in term " + term + "; logs in " + cluster.dir());
    Map<Integer, JsonObject> before = cluster.statuses();
    faultAt = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS"));
    for (ScenarioScript.Step step : script.steps()) {
      try {
        run(step);
      } catch (IllegalStateException e) {
        failures.add(step + ": " + e.getMessage() + "; statuses: " + cluster.statuses());
        break;
      }
    }
    out.println("-- transcript (all nodes, time order, from the first step on)");
    transcript().forEach(line -> out.println("   " + line));
    out.println("-- messages sent by type (running nodes, during the scenario)");
    sentByType(List.copyOf(running), before).forEach((type, count) -> out.printf("   %-12s %d%n", type, count));
    if (failures.isEmpty()) {
      out.println("PASS " + script.name() + ": every expectation was met");
      return true;
    }
    failures.forEach(f -> out.println("FAIL " + script.name() + ": " + f));
    return false;
  }

  private void run(ScenarioScript.Step step) {
    switch (step.verb()) {
      case KILL -> {
        cluster.node(step.node(0)).killNow();
        cluster.node(step.node(0)).kill();
        running.remove(step.node(0));
      }
      case PAUSE -> {
        cluster.node(step.node(0)).pause();
        running.remove(step.node(0));
      }
      case RESUME -> {
        cluster.node(step.node(0)).resume();
        running.add(step.node(0));
      }
      case RESTART -> {
        cluster.start(step.node(0)).awaitReady(LocalCluster.READY_TIMEOUT);
        running.add(step.node(0));
      }
      case START_ELECTION -> step.args().parallelStream().forEach(id -> chaos(Integer.parseInt(id), "start-election"));
      case DIE_DURING_ANNOUNCEMENT -> arm(step.node(0), "die-during-announcement");
      case DIE_DURING_ELECTION -> arm(step.node(0), "die-during-election");
      case WAIT -> sleep(Long.parseLong(step.args().get(0)));
      case EXPECT -> expect(step);
    }
  }

  private void expect(ScenarioScript.Step step) {
    // A node armed to die has died by the time anything is expected of the others.
    for (int id : armed) {
      Await.until(OUTCOME_TIMEOUT, "node " + id + " dies of its chaos fault", () -> !cluster.node(id).isAlive());
      running.remove(id);
    }
    armed.clear();
    List<Integer> nodes = List.copyOf(running);
    switch (step.args().get(0)) {
      case "coordinator" -> {
        long now = cluster.awaitCoordinator(step.node(1), nodes, OUTCOME_TIMEOUT);
        String qualifier = step.args().size() > 2 ? step.args().get(2) : "";
        check(!qualifier.equals("newer-term") || now > term, step + ": term " + now + " is newer than " + term);
        check(!qualifier.equals("same-term") || now == term, step + ": term " + now + " is still " + term);
        term = now;
      }
      case "stays" -> Await.during(Duration.ofMillis(Long.parseLong(step.args().get(2))),
          "coordinator " + step.node(1) + " stays", () -> cluster.agreedCoordinator(nodes) == step.node(1));
      case "not-coordinator" -> check(!"COORDINATOR".equals(cluster.node(step.node(1)).status().getString("role")), step.toString());
      case "follows" -> Await.until(OUTCOME_TIMEOUT, step.toString(),
          () -> Integer.valueOf(step.node(2)).equals(cluster.node(step.node(1)).status().getInteger("coordinatorId")));
      case "said" -> Await.until(OUTCOME_TIMEOUT, step.toString(),
          () -> transcript().stream().anyMatch(line -> line.contains(step.rest(1))));
      default -> throw new IllegalArgumentException("line " + step.line() + ": no expectation '" + step.args().get(0) + "'");
    }
  }

  private void arm(int id, String fault) {
    chaos(id, fault);
    armed.add(id);
  }

  private void chaos(int id, String fault) {
    int status = cluster.node(id).admin("/admin/chaos/" + fault, token).statusCode();
    check(status == 200, "chaos " + fault + " on node " + id + " answered " + status);
  }

  private void check(boolean condition, String what) {
    if (!condition) {
      failures.add("expected: " + what);
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Every node's protocol lines since the fault, merged by their timestamps. */
  private List<String> transcript() {
    List<String> lines = new ArrayList<>();
    for (int id : cluster.ids()) {
      cluster.logLines(id).stream()
          .filter(line -> line.contains(" Protocol - ") || line.contains(" (chaos)"))
          .filter(line -> faultAt == null || line.compareTo(faultAt) >= 0)
          .forEach(lines::add);
    }
    lines.sort(null);
    return lines.stream().map(line -> line.substring(11, 23) + "  " + line.substring(line.indexOf(" - ") + 3)).toList();
  }

  /** Messages the surviving nodes sent since {@code before}, summed by type. */
  private Map<String, Long> sentByType(List<Integer> ids, Map<Integer, JsonObject> before) {
    Map<String, Long> sent = new TreeMap<>();
    cluster.statuses().forEach((id, status) -> {
      if (!ids.contains(id)) {
        return;
      }
      JsonObject earlier = before.containsKey(id) && status.getLong("term") >= before.get(id).getLong("term")
          ? before.get(id).getJsonObject("messagesSent", new JsonObject()) : new JsonObject();
      status.getJsonObject("messagesSent", new JsonObject()).forEach(e -> sent.merge(e.getKey(),
          ((Number) e.getValue()).longValue() - earlier.getLong(e.getKey(), 0L), Long::sum));
    });
    return sent;
  }
}
