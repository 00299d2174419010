package dev.bully.tools.chaos;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** What a chaos run does, from its command line ({@code bin/chaos.sh [--nodes N] [--duration S] ...}), checked before anything starts. */
record ChaosOptions(int nodes, int durationS, long seed, Set<String> faults, double rate, int clients, List<String> attach,
                    String token, Writer.Payload payload, String sync, boolean netns, int tcpRtoMaxMs, int registers,
                    boolean linearizabilityFails, int faultMinS, int faultMaxS) {
  private static final Set<String> FAULTS = Set.of("kill", "pause", "partition", "isolate", "restart", "stepdown", "rolling",
      "forge", "powerloss");

  /** The options of a command line; a {@link ParameterException} says what is wrong with one that cannot run. */
  static ChaosOptions parse(String[] args) {
    CommandLine line = new CommandLine(new Cli());
    line.parseArgs(args);
    return line.<Cli>getCommand().options();
  }

  @Command(name = "chaos.sh", mixinStandardHelpOptions = true, sortOptions = false, usageHelpWidth = 120,
      description = "A cluster under write load while faults are injected on a schedule drawn from a seed; then everything"
          + " is healed, the cluster converges, and the history is checked: nothing acknowledged lost, at most one"
          + " coordinator per term. Prints one summary line and writes an HTML report.",
      footer = {"", "Without --attach it starts its own cluster on free loopback ports under target/chaos/ and stops every"
          + " node by PID at the end. Exit status: 0 when every check passed, 1 when one failed, 2 on bad arguments."})
  static final class Cli implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Option(names = "--nodes", defaultValue = "5", paramLabel = "N", description = "nodes in the local cluster (default: ${DEFAULT-VALUE})")
    private int nodes;

    @Option(names = "--duration", defaultValue = "90", paramLabel = "SECONDS", description = "seconds of writes and faults (default: ${DEFAULT-VALUE})")
    private int duration;

    @Option(names = "--seed", paramLabel = "S", description = "seed of the fault schedule and the writers (default: random, printed)")
    private Long seed;

    @Option(names = "--faults", split = ",", defaultValue = "kill,pause,partition,restart", paramLabel = "LIST",
        description = {"comma-separated (default: ${DEFAULT-VALUE}), or rolling alone:",
            "  kill       kill -9 a node (the coordinator half the time)",
            "  restart    restart a killed node after a few seconds",
            "             (else it stays down until the end)",
            "  pause      SIGSTOP a node for 1-4 s (a zombie, when it is the coordinator)",
            "  partition  isolate the coordinator, split into a minority and a majority,",
            "             isolate a follower, or one-way loss (admin chaos endpoints)",
            "  isolate    with --netns only: cut one node off from all others for 1-4 s,",
            "             then time how long it takes to follow and catch up after the heal",
            "  stepdown   not a fault: POST /admin/stepdown to the coordinator (a hand-off)",
            "  forge      a member of the cluster manager without the cluster secret listens",
            "             on every node's address and forges claims and APPENDs all run long",
            "  powerloss  every node loses its power at once: stopped at one instant, killed,",
            "             and every write it had not forced to the device undone (a library",
            "             preloaded into each node, built with gcc, records what to undo);",
            "             restarted together 1-4 s later",
            "  rolling    not a fault: rolling restarts for the whole run, each node in turn",
            "             stopped with SIGTERM (the coordinator last; it hands over),",
            "             restarted and waited for until ready and caught up; the run",
            "             ends after a whole round"})
    private Set<String> faults = new LinkedHashSet<>();

    @Option(names = "--fault-seconds", defaultValue = "1-4", paramLabel = "MIN-MAX",
        description = "how long a kill, pause or cut lasts, drawn between MIN and MAX seconds (default: ${DEFAULT-VALUE})")
    private String faultSeconds;

    @Option(names = "--rate", defaultValue = "200", paramLabel = "R", description = "writes per second, all clients together (default: ${DEFAULT-VALUE})")
    private double rate;

    @Option(names = "--clients", defaultValue = "8", paramLabel = "C", description = "concurrent writers (default: ${DEFAULT-VALUE})")
    private int clients;

    @Option(names = "--registers", defaultValue = "2", paramLabel = "C",
        description = "register clients besides the writers (default: ${DEFAULT-VALUE}; 0: none): linearizable reads, writes"
            + " and compare-and-sets of a few documents, whose history must be linearizable")
    private int registers;

    @Option(names = "--linearizability", defaultValue = "fail", paramLabel = "V",
        description = "what a register history that is not linearizable does to the run: fail (default) or report"
            + " (printed with its history in registers.txt; the run's other checks decide)")
    private String linearizability;

    @Option(names = "--payload", defaultValue = "small", paramLabel = "P",
        description = "small (default), or mixed: one write in ten at the door's limits, half of 1 MiB and half nested 64 deep")
    private String payload;

    @Option(names = "--sync", defaultValue = "fsync", paramLabel = "MODE",
        description = "the nodes' store.sync: fsync (default) or os, which a power loss can undo: with --faults powerloss"
            + " the checker then finds acknowledged writes lost or votes forgotten")
    private String sync;

    @Option(names = "--netns", description = {"run each node in a network namespace of its own, on a bridge this run",
        "makes (needs root, ip and iptables): partitions are then real: iptables cuts",
        "(isolate, minority|majority, one way, a majorities ring with 5 or more nodes,",
        "a bridge node, random loss) instead of the admin chaos endpoints"})
    private boolean netns;

    @Option(names = "--tcp-rto-max-ms", defaultValue = "0", paramLabel = "MS", description = {"with --netns: the most TCP",
        "waits between retransmissions, in every namespace (net.ipv4.tcp_rto_max_ms, Linux 6.15",
        "or later; 1000 to 120000; default: the kernel's, 120000)"})
    private int tcpRtoMaxMs;

    @Option(names = "--attach", split = ",", paramLabel = "URL",
        description = "use a running cluster (its nodes' HTTP URLs, comma-separated) instead of starting one; its nodes"
            + " need chaos.enabled. Faults go through the admin chaos endpoints: kill is /admin/chaos/die (the node"
            + " comes back only if what runs it restarts it), pause is /admin/chaos/pause.")
    private List<String> attach = new ArrayList<>();

    @Option(names = "--token", defaultValue = "${env:BULLY_ADMIN_TOKEN}", paramLabel = "TOKEN",
        description = "the attached cluster's admin.token (default: the environment variable BULLY_ADMIN_TOKEN)")
    private String token;

    @Override
    public Integer call() throws Exception {
      return new ChaosRun(options(), System.out).run().passed() ? 0 : 1;
    }

    ChaosOptions options() {
      for (String fault : faults) {
        if (!FAULTS.contains(fault)) {
          throw usage("unknown fault '" + fault + "' (kill, pause, partition, isolate, restart, stepdown, rolling, forge, powerloss)");
        }
      }
      if (faults.contains("rolling") && faults.size() > 1) {
        throw usage("--faults rolling runs alone: a rolling restart is maintenance, not a fault mix");
      }
      if (faults.contains("forge") && !attach.isEmpty()) {
        throw usage("--faults forge needs nodes this run starts (the forger joins their cluster manager); not --attach");
      }
      if (faults.contains("powerloss") && !attach.isEmpty()) {
        throw usage("--faults powerloss needs nodes this run starts (each with the power-loss library preloaded); not --attach");
      }
      if (faults.contains("isolate") && !netns) {
        throw usage("--faults isolate cuts real links: it needs --netns");
      }
      if (tcpRtoMaxMs != 0 && (!netns || tcpRtoMaxMs < 1_000 || tcpRtoMaxMs > 120_000)) {
        throw usage("--tcp-rto-max-ms is 1000 to 120000 and needs --netns");
      }
      if (netns && !attach.isEmpty()) {
        throw usage("--netns needs nodes this run starts (each in its own network namespace); not --attach");
      }
      if (!sync.equals("fsync") && !sync.equals("os")) {
        throw usage("--sync is fsync or os, not '" + sync + "'");
      }
      if (faults.contains("rolling") && !attach.isEmpty()) {
        throw usage("--faults rolling needs nodes this run starts (it stops them with SIGTERM); not --attach");
      }
      if (nodes < 3 || duration < 10 || clients < 1 || rate <= 0 || registers < 0) {
        throw usage("need --nodes >= 3, --duration >= 10, --clients >= 1, --rate > 0, --registers >= 0");
      }
      if (!attach.isEmpty() && (token == null || token.isBlank())) {
        throw usage("--attach needs the cluster's admin token: --token TOKEN or BULLY_ADMIN_TOKEN");
      }
      Writer.Payload kind = switch (payload) {
        case "small" -> Writer.Payload.SMALL;
        case "mixed" -> Writer.Payload.MIXED;
        default -> throw usage("--payload is small or mixed, not '" + payload + "'");
      };
      if (!linearizability.equals("fail") && !linearizability.equals("report")) {
        throw usage("--linearizability is fail or report, not '" + linearizability + "'");
      }
      Matcher range = Pattern.compile("(\\d{1,3})-(\\d{1,3})").matcher(faultSeconds);
      if (!range.matches() || Integer.parseInt(range.group(1)) < 1 || Integer.parseInt(range.group(1)) >= Integer.parseInt(range.group(2))) {
        throw usage("--fault-seconds is MIN-MAX, whole seconds with 1 <= MIN < MAX, not '" + faultSeconds + "'");
      }
      long drawn = seed != null ? seed : new SplittableRandom().nextLong(1, 1_000_000);
      return new ChaosOptions(attach.isEmpty() ? nodes : attach.size(), duration, drawn, Set.copyOf(faults), rate, clients,
          List.copyOf(attach), token, kind, sync, netns, tcpRtoMaxMs, registers,
          linearizability.equals("fail"), Integer.parseInt(range.group(1)), Integer.parseInt(range.group(2)));
    }

    private ParameterException usage(String message) {
      return new ParameterException(spec.commandLine(), message);
    }
  }
}
