package dev.bully.tools.chaos;

import dev.bully.tools.Await;
import dev.bully.tools.LocalCluster;
import dev.bully.tools.NodeProcess;
import dev.bully.tools.chaos.History.Coordinator;
import dev.bully.tools.chaos.History.Entry;
import dev.bully.tools.chaos.History.Fault;
import dev.bully.tools.chaos.History.TermSample;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code bin/chaos.sh}: a local cluster under write load while faults are injected on a schedule
 * drawn from a seed; then everything is healed, the cluster converges, and the history is checked
 * ({@link Checker}). Prints one summary line, writes an HTML report and the history under
 * {@code target/chaos/}, and exits 1 naming the first violation if any check fails.
 */
public final class ChaosRun {
  static final String USAGE = """
      usage: bin/chaos.sh [--nodes N] [--duration SECONDS] [--seed S] [--faults LIST] [--rate R] [--clients C]

        --nodes N          nodes in the local cluster (default 5)
        --duration S       seconds of writes and faults (default 90)
        --seed S           seed of the fault schedule and the writers (default: random, printed)
        --faults LIST      comma-separated, from kill,pause,partition,restart (default: all)
                             kill       kill -9 a node (the coordinator half the time)
                             restart    restart a killed node after a few seconds (else it stays down until the end)
                             pause      SIGSTOP a node for 1-4 s (the "zombie coordinator" when it is the coordinator)
                             partition  through the admin chaos endpoints: isolate the coordinator, split the cluster
                                        into a minority and a majority, isolate a follower, or one-way loss
        --rate R           writes per second, all clients together (default 200)
        --clients C        concurrent writers (default 8)
        --help             this text

      Starts its own cluster on free loopback ports under target/chaos/, stops every node by PID at the end.
      Exit status: 0 when every check passed, 1 when one failed, 2 on bad arguments.
      """;

  private static final Pattern COORDINATOR = Pattern.compile("Node (\\d+) is coordinator of term (\\d+)");
  private static final Duration CONVERGE_TIMEOUT = Duration.ofSeconds(90);
  private static final Duration SAMPLE_TIMEOUT = Duration.ofMillis(300);

  private final Options options;
  private final PrintStream out;
  private final List<Fault> faults = Collections.synchronizedList(new ArrayList<>());
  private final Map<Integer, List<TermSample>> terms = new ConcurrentHashMap<>();
  private final Map<Integer, List<Sample>> samples = new ConcurrentHashMap<>();
  private final Set<Integer> down = ConcurrentHashMap.newKeySet();
  private LocalCluster cluster;
  private String token;
  private long startNs;

  /** A node's role and term as sampled for the report's timeline. */
  record Sample(long atMs, String role, long term) {
  }

  record Options(int nodes, int durationS, long seed, Set<String> faults, double rate, int clients) {
    static Options parse(String[] args) {
      int nodes = 5;
      int duration = 90;
      long seed = new SplittableRandom().nextLong(1, 1_000_000);
      Set<String> faults = Set.of("kill", "pause", "partition", "restart");
      double rate = 200;
      int clients = 8;
      for (int i = 0; i < args.length; i++) {
        String flag = args[i];
        if (flag.equals("--help") || flag.equals("-h")) {
          throw new Usage(null);
        }
        if (i + 1 >= args.length) {
          throw new Usage(flag + " needs a value");
        }
        String value = args[++i];
        try {
          switch (flag) {
            case "--nodes" -> nodes = Integer.parseInt(value);
            case "--duration" -> duration = Integer.parseInt(value);
            case "--seed" -> seed = Long.parseLong(value);
            case "--faults" -> faults = Set.of(value.split(","));
            case "--rate" -> rate = Double.parseDouble(value);
            case "--clients" -> clients = Integer.parseInt(value);
            default -> throw new Usage("unknown flag " + flag);
          }
        } catch (NumberFormatException e) {
          throw new Usage(flag + " needs a number, not '" + value + "'");
        }
      }
      for (String fault : faults) {
        if (!Set.of("kill", "pause", "partition", "restart").contains(fault)) {
          throw new Usage("unknown fault '" + fault + "' (kill, pause, partition, restart)");
        }
      }
      if (nodes < 3 || duration < 10 || clients < 1 || rate <= 0) {
        throw new Usage("need --nodes >= 3, --duration >= 10, --clients >= 1, --rate > 0");
      }
      return new Options(nodes, duration, seed, faults, rate, clients);
    }
  }

  static final class Usage extends RuntimeException {
    Usage(String message) {
      super(message);
    }
  }

  ChaosRun(Options options, PrintStream out) {
    this.options = options;
    this.out = out;
  }

  public static void main(String[] args) throws Exception {
    Options options;
    try {
      options = Options.parse(args);
    } catch (Usage usage) {
      if (usage.getMessage() != null) {
        System.err.println("chaos.sh: " + usage.getMessage());
      }
      System.out.print(USAGE);
      System.exit(usage.getMessage() == null ? 0 : 2);
      return;
    }
    Checker.Result result = new ChaosRun(options, System.out).run();
    System.exit(result.passed() ? 0 : 1);
  }

  /** Runs with command-line arguments, printing to {@code out}; for tests. */
  public static Checker.Result run(String[] args, PrintStream out) throws Exception {
    return new ChaosRun(Options.parse(args), out).run();
  }

  /** Runs the whole thing; the result's summary has been printed. */
  public Checker.Result run() throws Exception {
    String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    Path dir = Files.createDirectories(Path.of("target", "chaos", stamp + "-seed" + options.seed()));
    token = UUID.randomUUID().toString();
    JsonObject extra = new JsonObject()
        .put("chaos", new JsonObject().put("enabled", true))
        .put("admin", new JsonObject().put("token", token));
    out.printf("chaos: %d nodes, %d s, seed %d, faults %s, %.0f writes/s from %d clients; logs and report in %s%n",
        options.nodes(), options.durationS(), options.seed(), new java.util.TreeSet<>(options.faults()), options.rate(),
        options.clients(), dir);
    try (LocalCluster local = new LocalCluster(dir, options.nodes(), extra)) {
      cluster = local;
      cluster.startAll();
      Await.until(CONVERGE_TIMEOUT, "a coordinator", () -> cluster.agreedCoordinator(cluster.ids()) != 0);
      startNs = System.nanoTime();
      Thread sampler = startSampler();
      Writer writer = new Writer(this::liveUrls, options.clients(), options.rate(), startNs);
      writer.start(options.seed());
      injectFaults(new SplittableRandom(options.seed()));
      healEverything();
      List<History.Request> requests = writer.stop(10_000);
      converge();
      sampler.interrupt();
      History history = new History(requests, collect("/api/writes"), collectRollbacks(), coordinators(), Map.copyOf(terms),
          List.copyOf(faults));
      Checker.Result result = Checker.check(history);
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

  private long nowMs() {
    return (System.nanoTime() - startNs) / 1_000_000;
  }

  private List<String> liveUrls() {
    List<String> urls = new ArrayList<>();
    for (int id : cluster.ids()) {
      if (!down.contains(id)) {
        urls.add(cluster.node(id).baseUrl());
      }
    }
    return urls.isEmpty() ? List.of(cluster.node(1).baseUrl()) : urls;
  }

  // ------------------------------------------------------------------ faults

  private void injectFaults(SplittableRandom random) throws InterruptedException {
    List<String> kinds = new ArrayList<>();
    for (String kind : List.of("kill", "pause", "partition")) {
      if (options.faults().contains(kind)) {
        kinds.add(kind);
      }
    }
    long endMs = options.durationS() * 1000L;
    Thread.sleep(2_000);
    while (nowMs() < endMs - 3_000 && !kinds.isEmpty()) {
      String kind = kinds.get(random.nextInt(kinds.size()));
      long lastsMs = 1_000 + random.nextLong(3_000);
      switch (kind) {
        case "kill" -> kill(random, lastsMs);
        case "pause" -> pause(random, lastsMs);
        default -> partition(random, lastsMs);
      }
      Thread.sleep(1_000 + random.nextLong(3_000));
    }
    Thread.sleep(Math.max(0, endMs - nowMs()));
  }

  /** The node that leads now, or 0; the target of half the faults. */
  private int target(SplittableRandom random) {
    int coordinator = 0;
    try {
      coordinator = cluster.agreedCoordinator(liveIds());
    } catch (RuntimeException e) {
      // none agreed
    }
    List<Integer> live = liveIds();
    return coordinator != 0 && random.nextBoolean() ? coordinator : live.get(random.nextInt(live.size()));
  }

  private List<Integer> liveIds() {
    return cluster.ids().stream().filter(id -> !down.contains(id)).toList();
  }

  private void kill(SplittableRandom random, long downMs) throws InterruptedException {
    if (down.size() + 1 > (options.nodes() - 1) / 2) {
      return; // keep a majority able to run
    }
    int node = target(random);
    fault("kill -9 node " + node);
    down.add(node);
    cluster.node(node).kill();
    if (options.faults().contains("restart")) {
      Thread.sleep(downMs);
      fault("restart node " + node);
      cluster.start(node);
      down.remove(node);
    }
  }

  private void pause(SplittableRandom random, long pausedMs) throws InterruptedException {
    int node = target(random);
    fault("SIGSTOP node " + node + " for " + pausedMs + " ms");
    cluster.node(node).pause();
    Thread.sleep(pausedMs);
    cluster.node(node).resume();
    fault("SIGCONT node " + node);
  }

  private void partition(SplittableRandom random, long lastsMs) throws InterruptedException {
    List<Integer> live = liveIds();
    int node = target(random);
    switch (random.nextInt(3)) {
      case 0 -> {
        fault("isolate node " + node);
        admin(node, "isolate");
      }
      case 1 -> {
        List<Integer> shuffled = new ArrayList<>(live);
        Collections.shuffle(shuffled, new java.util.Random(random.nextLong()));
        List<Integer> minority = shuffled.subList(0, (options.nodes() - 1) / 2);
        List<Integer> majority = shuffled.subList(minority.size(), shuffled.size());
        fault("split " + minority + " | " + majority);
        String toMajority = join(majority);
        String toMinority = join(minority);
        minority.forEach(id -> admin(id, "drop?to=" + toMajority + "&from=" + toMajority));
        majority.forEach(id -> admin(id, "drop?to=" + toMinority + "&from=" + toMinority));
      }
      default -> {
        int other = live.get(random.nextInt(live.size()));
        if (other == node) {
          return;
        }
        fault("one-way loss: node " + node + " drops what it sends to node " + other);
        admin(node, "drop?to=" + other);
      }
    }
    Thread.sleep(lastsMs);
    fault("heal the network");
    liveIds().forEach(id -> admin(id, "heal"));
  }

  private void healEverything() {
    fault("heal everything");
    for (int id : cluster.ids()) {
      if (down.contains(id)) {
        cluster.start(id);
        down.remove(id);
      } else {
        cluster.node(id).resume();
        admin(id, "heal");
      }
    }
  }

  private void admin(int node, String path) {
    try {
      cluster.node(node).admin("/admin/chaos/" + path, token);
    } catch (RuntimeException e) {
      out.println("chaos: node " + node + " did not take '" + path + "': " + e.getMessage());
    }
  }

  private static String join(List<Integer> ids) {
    return String.join(",", ids.stream().map(String::valueOf).toList());
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
        for (int id : cluster.ids()) {
          if (down.contains(id)) {
            samples.computeIfAbsent(id, k -> Collections.synchronizedList(new ArrayList<>())).add(new Sample(nowMs(), "DOWN", 0));
            continue;
          }
          try {
            JsonObject status = cluster.node(id).status(SAMPLE_TIMEOUT);
            terms.computeIfAbsent(id, k -> Collections.synchronizedList(new ArrayList<>()))
                .add(new TermSample(nowMs(), status.getLong("term")));
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

  /** Waits until one coordinator is agreed and every node has committed all of its log. */
  private void converge() {
    Await.until(CONVERGE_TIMEOUT, "every node agrees on a coordinator and has committed its whole log", () -> {
      if (cluster.agreedCoordinator(cluster.ids()) == 0) {
        return false;
      }
      Map<Integer, JsonObject> statuses = cluster.statuses();
      long last = statuses.get(cluster.agreedCoordinator(cluster.ids())).getLong("lastIndex");
      return statuses.size() == cluster.size()
          && statuses.values().stream().allMatch(s -> s.getLong("commitIndex") == last && s.getLong("lastIndex") == last);
    });
  }

  private Map<Integer, List<Entry>> collect(String path) {
    Map<Integer, List<Entry>> logs = new TreeMap<>();
    for (int id : cluster.ids()) {
      NodeProcess node = cluster.node(id);
      List<Entry> log = new ArrayList<>();
      long commit = node.status().getLong("commitIndex");
      for (long from = 1; from <= commit; from += 1000) {
        JsonArray entries = new JsonObject(node.get(path + "?from=" + from + "&limit=1000").body()).getJsonArray("entries");
        entries.forEach(e -> log.add(entry((JsonObject) e)));
      }
      logs.put(id, log);
    }
    return logs;
  }

  private Map<Integer, List<Entry>> collectRollbacks() {
    Map<Integer, List<Entry>> rollbacks = new TreeMap<>();
    for (int id : cluster.ids()) {
      List<Entry> entries = new ArrayList<>();
      new JsonObject(cluster.node(id).get("/api/rollback?limit=10000").body()).getJsonArray("entries")
          .forEach(e -> entries.add(entry((JsonObject) e)));
      rollbacks.put(id, entries);
    }
    return rollbacks;
  }

  private static Entry entry(JsonObject json) {
    return new Entry(json.getLong("index"), json.getLong("term"), json.getString("requestId"));
  }

  /** Every coordinator announcement in the nodes' logs (a restarted node's log keeps its earlier lives). */
  private List<Coordinator> coordinators() {
    List<Coordinator> all = new ArrayList<>();
    for (int id : cluster.ids()) {
      for (String line : cluster.logLines(id)) {
        Matcher m = COORDINATOR.matcher(line);
        if (m.find()) {
          all.add(new Coordinator(Integer.parseInt(m.group(1)), Long.parseLong(m.group(2)), 0));
        }
      }
    }
    return all;
  }
}
