package dev.bully.tools.chaos;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code bin/bench.sh rejoin [SECONDS] [--rate R] [--seed S]}: three nodes, each in a network
 * namespace of its own, under a steady writer; for SECONDS one node after another (the coordinator
 * half the time) is cut off from every other by iptables for 1-4 s, and after each heal the run
 * times how long the node takes to follow the coordinator again with everything committed at the
 * heal. A chaos run ({@code --netns --faults isolate}) that the history checker verifies; prints
 * each rejoin and min / median / p90 / max. Needs root, ip and iptables.
 */
@Command(name = "bench.sh rejoin", mixinStandardHelpOptions = true,
    description = "Three nodes in network namespaces under writes; nodes cut off for 1-4 s; time from each heal to caught up.")
public final class RejoinBench implements Callable<Integer> {
  private static final Pattern REJOINED = Pattern.compile("node (\\d+) follows and is caught up ([0-9.]+) s after the heal");

  @Parameters(index = "0", arity = "0..1", defaultValue = "90", paramLabel = "SECONDS",
      description = "how long the cuts go on (default: ${DEFAULT-VALUE})")
  private int seconds;

  @Option(names = "--rate", paramLabel = "R", defaultValue = "200", description = "the writer's writes per second (default: ${DEFAULT-VALUE})")
  private String rate;

  @Option(names = "--seed", paramLabel = "S", description = "seed of the cuts (default: random, printed)")
  private Long seed;

  @Option(names = "--fault-seconds", paramLabel = "MIN-MAX", defaultValue = "1-4",
      description = "how long each cut lasts, drawn between MIN and MAX seconds (default: ${DEFAULT-VALUE})")
  private String cutSeconds;

  @Option(names = "--tcp-rto-max-ms", paramLabel = "MS", defaultValue = "0",
      description = "net.ipv4.tcp_rto_max_ms in the nodes' namespaces (Linux 6.15 or later; default: the kernel's)")
  private int tcpRtoMaxMs;

  private RejoinBench() {
  }

  public static void main(String[] args) {
    System.exit(new CommandLine(new RejoinBench()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    List<String> args = new ArrayList<>(List.of("--netns", "--nodes", "3", "--duration", String.valueOf(seconds),
        "--faults", "isolate", "--rate", rate, "--fault-seconds", cutSeconds));
    if (tcpRtoMaxMs > 0) {
      args.addAll(List.of("--tcp-rto-max-ms", String.valueOf(tcpRtoMaxMs)));
    }
    if (seed != null) {
      args.addAll(List.of("--seed", String.valueOf(seed)));
    }
    KeptOutput printed = new KeptOutput();
    Checker.Result result = ChaosRun.of(args.toArray(String[]::new), printed.stream()).run();
    String output = printed.text();
    List<Double> seconds = new ArrayList<>();
    Matcher rejoined = REJOINED.matcher(output);
    while (rejoined.find()) {
      seconds.add(Double.parseDouble(rejoined.group(2)));
    }
    long missed = output.lines().filter(line -> line.contains("not caught up after the heal")).count();
    seconds.sort(null);
    System.out.println();
    if (seconds.isEmpty()) {
      System.out.println("rejoin: no node was caught up after a heal; " + missed + " not within 90 s");
      return 1;
    }
    System.out.printf("rejoin, heal to caught up (a node cut off for %s s, 3 nodes, %s writes/s%s), s: min %.2f / median %.2f"
            + " / p90 %.2f / max %.2f over %d heals; %d not within 90 s; history %s%n", cutSeconds, rate,
        tcpRtoMaxMs > 0 ? ", tcp_rto_max_ms " + tcpRtoMaxMs : "", seconds.get(0),
        percentile(seconds, 50), percentile(seconds, 90), seconds.get(seconds.size() - 1), seconds.size(), missed,
        result.passed() ? "checked" : "FAILED");
    return result.passed() && missed == 0 ? 0 : 1;
  }

  private static double percentile(List<Double> sorted, int p) {
    int rank = (int) Math.ceil(p / 100.0 * sorted.size());
    return sorted.get(Math.max(0, rank - 1));
  }
}
