package dev.bully.tools.chaos;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code bin/bench.sh handoff [SECONDS] [--rate R] [--no-rolling]}: graceful hand-offs on five real nodes under a steady
 * writer (R writes/s, default 200), in two chaos runs that the history checker verifies.
 * <ol>
 *   <li>{@code --faults stepdown} for SECONDS (default 60): every few seconds the coordinator is
 *       asked to step down ({@code POST /admin/stepdown}); after {@code takeoverDelayMs} the highest
 *       node takes leadership back by priority, which is a hand-off too.</li>
 *   <li>{@code --faults rolling}: one whole rolling restart, each node stopped with SIGTERM and
 *       restarted in turn, the coordinator last (it hands over as it stops).</li>
 * </ol>
 * For every hand-off the nodes logged, it prints the time from the coordinator's decision (its
 * "steps down" or "asks node N to take over" line: it takes no new writes from then on) to the
 * successor's "is coordinator of term" line (logged once the successor's first entry is durable,
 * so a little after it takes writes), then min / median / p90 / max, next to each run's summary.
 */
@Command(name = "bench.sh handoff", mixinStandardHelpOptions = true,
    description = "Five nodes under a steady writer: step-downs for SECONDS, then one rolling restart; time of each hand-off.")
public final class HandOffBench implements Callable<Integer> {
  private static final Pattern STEPS_DOWN = Pattern.compile("Node (\\d+) steps down: .* hands over to node (\\d+)");
  private static final Pattern PRIORITY = Pattern.compile("Node (\\d+) asks node (\\d+) to take over");
  private static final Pattern COORDINATOR = Pattern.compile("Node (\\d+) is coordinator of term (\\d+)");
  private static final Pattern ABANDONED = Pattern.compile("Node (\\d+) leads on: node (\\d+) did not take over");

  /** One hand-off: who to whom, why, and how long until the successor led (-1: it never did). */
  public record HandOff(String at, int from, int to, String why, long ms) {
  }

  private HandOffBench() {
  }

  @Parameters(index = "0", arity = "0..1", defaultValue = "60", paramLabel = "SECONDS",
      description = "how long the step-downs go on (default: ${DEFAULT-VALUE})")
  private int seconds;

  @Option(names = "--rate", paramLabel = "R", defaultValue = "200", description = "the writer's writes per second (default: ${DEFAULT-VALUE})")
  private String rate;

  @Option(names = "--no-rolling", description = "no rolling restart after the step-downs")
  private boolean noRolling;

  public static void main(String[] args) {
    System.exit(new CommandLine(new HandOffBench()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    List<String[]> runs = new ArrayList<>();
    runs.add(new String[] {"--nodes", "5", "--duration", String.valueOf(seconds), "--faults", "stepdown", "--rate", rate});
    if (!noRolling) {
      runs.add(new String[] {"--nodes", "5", "--duration", "10", "--faults", "rolling", "--rate", rate});
    }
    List<HandOff> handOffs = new ArrayList<>();
    List<String> summaries = new ArrayList<>();
    for (String[] run : runs) {
      ChaosRun chaos = new ChaosRun(ChaosOptions.parse(run), System.out);
      Checker.Result result = chaos.run();
      summaries.add(String.join(" ", run) + ": " + result.summary() + (result.passed() ? "" : "  FAILED"));
      handOffs.addAll(handOffs(chaos.dir()));
    }
    System.out.println();
    handOffs.forEach(h -> System.out.printf("hand-off %s  node %d -> node %d (%s): %s%n", h.at(), h.from(), h.to(), h.why(),
        h.ms() < 0 ? "abandoned" : h.ms() + " ms"));
    summaries.forEach(System.out::println);
    List<Long> done = handOffs.stream().filter(h -> h.ms() >= 0).map(HandOff::ms).sorted().toList();
    if (done.isEmpty()) {
      System.out.println("no hand-off finished");
      return 1;
    }
    System.out.printf("hand-off, no new writes to new coordinator (from the logs), ms: min %d / median %d / p90 %d / max %d"
            + " over %d hand-offs; %d abandoned%n", done.get(0), percentile(done, 50), percentile(done, 90),
        done.get(done.size() - 1), done.size(), handOffs.size() - done.size());
    return 0;
  }

  /** Every hand-off in the protocol lines of the node logs under {@code dir}, in time order. */
  public static List<HandOff> handOffs(Path dir) throws IOException {
    List<String> lines = new ArrayList<>();
    try (Stream<Path> logs = Files.list(dir)) {
      for (Path log : logs.filter(p -> p.getFileName().toString().matches("node\\d+\\.log")).toList()) {
        Files.readAllLines(log).stream().filter(l -> l.contains(" Protocol - ")).forEach(lines::add);
      }
    }
    lines.sort(null);
    List<HandOff> found = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      Matcher requested = STEPS_DOWN.matcher(lines.get(i));
      Matcher priority = PRIORITY.matcher(lines.get(i));
      Matcher start = requested.find() ? requested : priority.find() ? priority : null;
      if (start == null) {
        continue;
      }
      int from = Integer.parseInt(start.group(1));
      int to = Integer.parseInt(start.group(2));
      long ms = -1;
      for (int j = i + 1; j < lines.size(); j++) {
        Matcher led = COORDINATOR.matcher(lines.get(j));
        Matcher gaveUp = ABANDONED.matcher(lines.get(j));
        if (led.find() && Integer.parseInt(led.group(1)) == to) {
          ms = Duration.between(time(lines.get(i)), time(lines.get(j))).toMillis();
          break;
        }
        if (gaveUp.find() && Integer.parseInt(gaveUp.group(1)) == from) {
          break;
        }
      }
      found.add(new HandOff(lines.get(i).substring(11, 23), from, to, start == requested ? "stepped down" : "priority", ms));
    }
    return found;
  }

  private static LocalDateTime time(String line) {
    return LocalDateTime.parse(line.substring(0, 23));
  }

  private static long percentile(List<Long> sorted, int p) {
    int rank = (int) Math.ceil(p / 100.0 * sorted.size());
    return sorted.get(Math.max(0, rank - 1));
  }
}
