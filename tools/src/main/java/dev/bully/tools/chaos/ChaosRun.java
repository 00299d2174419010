package dev.bully.tools.chaos;

import dev.bully.tools.Await;
import dev.bully.tools.LocalCluster;
import dev.bully.tools.chaos.History.Coordinator;
import dev.bully.tools.chaos.History.Entry;
import dev.bully.tools.chaos.History.Fault;
import dev.bully.tools.chaos.History.TermSample;
import io.vertx.core.json.JsonObject;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@code bin/chaos.sh}: a local cluster under write load while faults are injected on a schedule
 * drawn from a seed; then everything is healed, the cluster converges, and the history is checked
 * ({@link Checker}). Prints one summary line, writes an HTML report and the history under
 * {@code target/chaos/}, and exits 1 naming the first violation if any check fails.
 */
public final class ChaosRun {
  private static final Duration CONVERGE_TIMEOUT = Duration.ofSeconds(90);
  static final Duration SAMPLE_TIMEOUT = Duration.ofMillis(300);
  /** How much of each node's log a convergence that never comes prints. */
  private static final int LOG_TAIL = 40;

  private final ChaosOptions options;
  private final PrintStream out;
  private final List<Fault> faults = Collections.synchronizedList(new ArrayList<>());
  private final Map<Integer, List<TermSample>> terms = new ConcurrentHashMap<>();
  /** The highest term any sample saw, for the forger's plausible forgeries. */
  private final java.util.concurrent.atomic.AtomicLong highestTerm = new java.util.concurrent.atomic.AtomicLong(1);
  private final Map<Integer, List<Sample>> samples = new ConcurrentHashMap<>();
  private final Set<Integer> down = ConcurrentHashMap.newKeySet();
  private Nodes nodes;
  private long startNs;
  private Path dir;

  /** A node's role and term as sampled for the report's timeline. */
  record Sample(long atMs, String role, long term) {
  }

  ChaosRun(ChaosOptions options, PrintStream out) {
    this.options = options;
    this.out = out;
  }

  public static void main(String[] args) {
    System.exit(new picocli.CommandLine(new ChaosOptions.Cli()).execute(args));
  }

  /** A run with these command-line arguments, printing to {@code out}; {@link #run()} it, then read its {@link #dir()}. */
  public static ChaosRun of(String[] args, PrintStream out) {
    return new ChaosRun(ChaosOptions.parse(args), out);
  }

  public static Checker.Result run(String[] args, PrintStream out) throws Exception {
    return new ChaosRun(ChaosOptions.parse(args), out).run();
  }

  /** Where the run keeps its report, history and (for its own cluster) the nodes' logs. */
  public Path dir() {
    return dir;
  }

  /** Runs the whole thing; the result's summary has been printed. */
  public Checker.Result run() throws Exception {
    String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    dir = Files.createDirectories(Path.of("target", "chaos", stamp + "-seed" + options.seed()));
    out.printf("chaos: %d nodes, %d s, seed %d, faults %s, %.0f writes/s from %d clients, %s payloads; logs and report in %s%n",
        options.nodes(), options.durationS(), options.seed(), new java.util.TreeSet<>(options.faults()), options.rate(),
        options.clients(), options.payload().name().toLowerCase(), dir);
    try (Nodes opened = open(dir)) {
      nodes = opened;
      Await.until(CONVERGE_TIMEOUT, "a coordinator", () -> agreedCoordinator(nodes.ids()) != 0);
      startNs = System.nanoTime();
      Thread sampler = startSampler();
      Writer writer = new Writer(this::liveUrls, options.clients(), options.rate(), startNs, options.payload());
      writer.start(options.seed());
      Registers registers = new Registers(this::liveUrls, options.registers());
      registers.start(options.seed());
      Forger forger = options.faults().contains("forge") ? startForger() : null;
      FaultMix mix = new FaultMix(options, nodes, down, out, this::nowMs, this::fault, this::agreedCoordinator);
      mix.run(new SplittableRandom(options.seed()));
      mix.healEverything();
      List<History.Request> requests = writer.stop();
      List<Linearizability.Op> registerOps = registers.stop();
      long stolen = 0;
      if (forger != null) {
        forger.close();
        stolen = forger.stolen();
        out.printf("chaos: the forger sent %d forgeries; it received %d messages meant for a node%n", forger.sent(), stolen);
      }
      converge();
      sampler.interrupt();
      NodeLogFacts logged = NodeLogFacts.read(nodes);
      History history = new History(requests, collect("/api/writes"), collectRollbacks(), coordinators(logged),
          Map.copyOf(terms), List.copyOf(faults), logged.votes(), logged.terms());
      Checker.Result result = Checker.check(history);
      if (options.registers() > 0) {
        java.util.Optional<Linearizability.Violation> violation = Linearizability.check(registerOps);
        List<String> wentBack = Registers.localViolations(registers.localReads());
        out.printf("chaos: registers: %d operations (%d of unknown outcome) on %d documents, %s; %d local reads, %s%n",
            registerOps.size(), registerOps.stream().filter(op -> !op.known()).count(),
            registerOps.stream().map(Linearizability.Op::key).distinct().count(),
            violation.isEmpty() ? "linearizable" : violation.get().conclusive() ? "NOT linearizable"
                : "linearizability not decided (" + violation.get().why() + ")", registers.localReads().size(),
            wentBack.isEmpty() ? "none went back in time" : wentBack.size() + " went back in time");
        writeRegisterHistory(registerOps);
        if (violation.isPresent() && violation.get().conclusive()) {
          printAround(violation.get());
        }
        if (violation.isPresent() && violation.get().conclusive() && options.linearizabilityFails()) {
          result = result.with("not linearizable: register " + violation.get().key() + ": " + violation.get().why()
              + " (history in " + dir.resolve(REGISTER_HISTORY) + ")");
        }
        for (String back : wentBack.stream().limit(5).toList()) {
          result = result.with("local read: " + back);
        }
      }
      if (stolen > 0) {
        result = result.with("stolen: " + stolen + " protocol messages meant for a node reached the forger");
      }
      Report.write(dir, options, history, result, Map.copyOf(samples));
      out.println(result.summary());
      if (!result.passed()) {
        out.println("FAILED (seed " + options.seed() + "): " + result.violations().get(0));
        result.violations().stream().skip(1).limit(20).forEach(v -> out.println("  also: " + v));
      }
      out.println("report: " + dir.resolve("report.html"));
      return result;
    }
  }

  /** Where the register workload's history is written, one operation per line, oldest call first. */
  static final String REGISTER_HISTORY = "registers.txt";

  /** The violating key's operations within a second of the one no order explains, for a log that must explain itself. */
  private void printAround(Linearizability.Violation violation) {
    out.println("chaos: register " + violation.key() + " NOT linearizable: " + violation.why());
    long from = violation.stuck().callNs() - 1_000_000_000L;
    long to = violation.stuck().returnNs() + 1_000_000_000L;
    violation.ops().stream().sorted(Comparator.comparingLong(Linearizability.Op::callNs))
        .filter(op -> op.callNs() <= to && (!op.known() || op.returnNs() >= from))
        .limit(200).forEach(op -> out.println("  " + op));
  }

  private void writeRegisterHistory(List<Linearizability.Op> ops) throws java.io.IOException {
    List<String> lines = ops.stream().sorted(Comparator.comparingLong(Linearizability.Op::callNs))
        .map(op -> op.key() + " " + op).toList();
    Files.write(dir.resolve(REGISTER_HISTORY), lines);
  }

  /** The forge fault: a rogue member for the whole run (recorded as one fault), joined to this run's own cluster. */
  private Forger startForger() throws Exception {
    Path config = ((Nodes.Local) nodes).cluster().config(nodes.ids().get(0));
    Forger forger = new Forger(config, nodes.ids(), highestTerm::get, options.seed());
    fault("forge: a member without the cluster secret listens on every node's address and forges claims and APPENDs");
    return forger;
  }

  private Nodes open(Path dir) {
    if (!options.attach().isEmpty()) {
      return new Nodes.Remote(options.attach(), options.token());
    }
    String token = UUID.randomUUID().toString();
    JsonObject extra = new JsonObject()
        .put("chaos", new JsonObject().put("enabled", true))
        .put("admin", new JsonObject().put("token", token))
        .put("store", new JsonObject().put("sync", options.sync()))
        // The history checker reads every node's whole log: none of it may be compacted away, however long the run.
        .put("log", new JsonObject().put("retainEntries", Integer.MAX_VALUE));
    NetNamespaces net = options.netns() ? NetNamespaces.create(options.nodes(), new SplittableRandom(options.seed()),
        options.tcpRtoMaxMs()) : null;
    LocalCluster cluster;
    if (net != null) {
      out.printf("chaos: each node in a network namespace of its own: %s%s%n", net.address(1).replaceAll("\\.1$", ".N"),
          net.hasNetem() ? "" : " (no tc netem on this kernel: random loss from iptables, no delay)");
      cluster = new LocalCluster(dir, options.nodes(), extra, net::address).launcher(net::launcher);
    } else {
      cluster = new LocalCluster(dir, options.nodes(), extra);
    }
    if (options.faults().contains("powerloss")) {
      Path library = PowerLoss.buildLibrary(dir.resolve("powerloss"));
      cluster.environment(id -> PowerLoss.environment(library, cluster.dataDir(id)));
    }
    try {
      cluster.startAll();
    } catch (RuntimeException e) {
      cluster.close();
      if (net != null) {
        net.close();
      }
      throw e;
    }
    return new Nodes.Local(cluster, token, net);
  }

  /** Every listed node's status, leaving out those that do not answer at once. */
  private Map<Integer, JsonObject> statuses(List<Integer> ids) {
    Map<Integer, JsonObject> statuses = new TreeMap<>();
    for (int id : ids) {
      try {
        statuses.put(id, nodes.status(id, SAMPLE_TIMEOUT));
      } catch (RuntimeException e) {
        // down, paused or starting
      }
    }
    return statuses;
  }

  /** The coordinator every listed node follows, which itself leads; 0 if there is none. */
  private int agreedCoordinator(List<Integer> ids) {
    return LocalCluster.agreedCoordinator(statuses(ids), ids);
  }

  private long nowMs() {
    return (System.nanoTime() - startNs) / 1_000_000;
  }

  private List<String> liveUrls() {
    List<String> urls = new ArrayList<>();
    for (int id : nodes.ids()) {
      if (!down.contains(id)) {
        urls.add(nodes.url(id));
      }
    }
    return urls.isEmpty() ? List.of(nodes.url(nodes.ids().get(0))) : urls;
  }

  // ------------------------------------------------------------------ faults

  private List<Integer> liveIds() {
    return nodes.ids().stream().filter(id -> !down.contains(id)).toList();
  }

  private void fault(String description) {
    long at = nowMs();
    faults.add(new Fault(at, description));
    out.printf("chaos: %6.1f s  %s%n", at / 1000.0, description);
  }

  // ------------------------------------------------------------------ observation and collection

  private Thread startSampler() {
    Thread sampler = new Thread(() -> {
      while (!Thread.currentThread().isInterrupted()) {
        for (int id : nodes.ids()) {
          if (down.contains(id)) {
            samples.computeIfAbsent(id, k -> Collections.synchronizedList(new ArrayList<>())).add(new Sample(nowMs(), "DOWN", 0));
            continue;
          }
          try {
            JsonObject status = nodes.status(id, SAMPLE_TIMEOUT);
            terms.computeIfAbsent(id, k -> Collections.synchronizedList(new ArrayList<>()))
                .add(new TermSample(nowMs(), status.getLong("term")));
            highestTerm.accumulateAndGet(status.getLong("term"), Math::max);
            samples.computeIfAbsent(id, k -> Collections.synchronizedList(new ArrayList<>()))
                .add(new Sample(nowMs(), status.getString("role"), status.getLong("term")));
          } catch (RuntimeException e) {
            samples.computeIfAbsent(id, k -> Collections.synchronizedList(new ArrayList<>())).add(new Sample(nowMs(), "DOWN", 0));
          }
        }
        try {
          Thread.sleep(200);
        } catch (InterruptedException e) {
          return;
        }
      }
    }, "chaos-sampler");
    sampler.setDaemon(true);
    sampler.start();
    return sampler;
  }

  /**
   * Waits until the highest live node leads (so no priority takeover is still to come and append)
   * and every node has committed the coordinator's whole log. If that never comes, the failure says
   * what each node last reported and the run prints the end of each node's own log, so that a
   * failure on a clean clone (CI) can be read from its output alone.
   */
  private void converge() {
    Map<Integer, JsonObject> lastSeen = new TreeMap<>();
    try {
      Await.until(CONVERGE_TIMEOUT, "the highest live node leads and every node has committed its whole log", () -> {
        List<Integer> live = liveIds();
        Map<Integer, JsonObject> statuses = statuses(live);
        lastSeen.clear();
        lastSeen.putAll(statuses);
        int coordinator = LocalCluster.agreedCoordinator(statuses, live);
        if (coordinator == 0 || coordinator != live.stream().max(Integer::compare).orElseThrow()) {
          return false;
        }
        long last = statuses.get(coordinator).getLong("lastIndex");
        return statuses.size() == live.size()
            && statuses.values().stream().allMatch(s -> s.getLong("commitIndex") == last && s.getLong("lastIndex") == last);
      });
    } catch (IllegalStateException e) {
      for (int id : liveIds()) {
        List<String> lines = nodes.logLines(id);
        out.println("chaos: ---- the last " + LOG_TAIL + " lines of node " + id + "'s log ----");
        lines.subList(Math.max(0, lines.size() - LOG_TAIL), lines.size()).forEach(line -> out.println("  " + line));
      }
      throw new IllegalStateException(e.getMessage() + " (seed " + options.seed() + "); last seen: "
          + LocalCluster.describe(lastSeen, liveIds()), e);
    }
  }

  /**
   * Every live node's committed log up to one index, the highest any of them has committed when the
   * collection starts: a write that a client sent before the writers stopped may still commit while
   * the nodes are read one after another, and must not make one node's log longer than another's.
   */
  private Map<Integer, List<Entry>> collect(String path) {
    Map<Integer, List<Entry>> logs = new TreeMap<>();
    long commit = statuses(liveIds()).values().stream().mapToLong(s -> s.getLong("commitIndex")).max().orElse(0);
    for (int id : liveIds()) {
      // A node serves an entry once its own store holds it, one force to the device after it knows it committed: read
      // again until it serves every entry up to the index (or the wait runs out, and the checker sees the shorter log).
      List<Entry> log = new ArrayList<>();
      try {
        Await.until(Duration.ofSeconds(10), "node " + id + " serves its committed log up to " + commit, () -> {
          log.clear();
          // A page of the read API stops at 1,000 entries or about 4 MiB of text: read on from where it says.
          for (Long from = 1L; from != null && from <= commit; ) {
            JsonObject page = nodes.get(id, path + "?from=" + from + "&limit=" + Math.min(1000, commit - from + 1));
            page.getJsonArray("entries").forEach(e -> log.add(entry((JsonObject) e)));
            from = page.getLong("next");
          }
          return log.size() >= commit;
        });
      } catch (IllegalStateException e) {
        out.println("chaos: " + e.getMessage());
      }
      logs.put(id, List.copyOf(log));
    }
    return logs;
  }

  private Map<Integer, List<Entry>> collectRollbacks() {
    Map<Integer, List<Entry>> rollbacks = new TreeMap<>();
    for (int id : liveIds()) {
      List<Entry> entries = new ArrayList<>();
      nodes.get(id, "/api/rollback?limit=10000").getJsonArray("entries")
          .forEach(e -> entries.add(entry((JsonObject) e)));
      rollbacks.put(id, entries);
    }
    return rollbacks;
  }

  private static Entry entry(JsonObject json) {
    return new Entry(json.getLong("index"), json.getLong("term"), json.getString("requestId"));
  }

  /**
   * Every coordinator announcement in the nodes' logs (a restarted node's log keeps its earlier
   * lives), and every sampled status that said COORDINATOR (all an attached run can see).
   */
  private List<Coordinator> coordinators(NodeLogFacts logged) {
    List<Coordinator> all = new ArrayList<>(logged.coordinators());
    samples.forEach((id, list) -> {
      synchronized (list) {
        list.stream().filter(s -> "COORDINATOR".equals(s.role())).forEach(s -> all.add(new Coordinator(id, s.term(), s.atMs())));
      }
    });
    return all;
  }
}
