package dev.bully.tools;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code bin/bench.sh restart [TRIALS]}: how fast nodes come back, on three real nodes.
 *
 * <ol>
 *   <li>Under a steady load ({@code --rate} writes/s from {@code hey}), a follower is killed with
 *       kill -9 and started again, TRIALS times: from its start to ready ({@code /health/ready}),
 *       and to caught up (its commit index reaches what the coordinator had committed a moment
 *       before).</li>
 *   <li>Every node killed at the same instant and all started together, TRIALS times: from their
 *       start to the first acknowledged write.</li>
 * </ol>
 * Each start's phases are read from the nodes' own log lines (the JVM up to {@code Main}, the store
 * opened, the cluster manager joined, the log restored, the HTTP API ready), so the figures say
 * where the time goes.
 */
@Command(name = "bench.sh restart", mixinStandardHelpOptions = true,
    description = "Three nodes: a follower restarted under load, then the whole cluster killed and restarted together;"
        + " time to ready, caught up and first write, with each start's phases.")
public final class RestartBench implements Callable<Integer> {
  private static final Duration TIMEOUT = Duration.ofSeconds(90);
  private static final Pattern STAMP = Pattern.compile("^(\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3})");
  /** The phases of a start, each ending at the first line that matches, in this order. */
  private static final Map<String, String> PHASES = new LinkedHashMap<>();

  static {
    PHASES.put("jvm", "Main - Starting node");
    PHASES.put("store", "Embedded store");
    PHASES.put("join", "joined cluster");
    PHASES.put("restore", "restored term");
    PHASES.put("ready", "is ready in");
  }

  @Parameters(index = "0", arity = "0..1", defaultValue = "10", paramLabel = "TRIALS",
      description = "restarts of each kind (default: ${DEFAULT-VALUE})")
  private int trials;

  @Option(names = "--rate", defaultValue = "2000", paramLabel = "R", description = "writes/s during the follower restarts (default: ${DEFAULT-VALUE})")
  private int rate;

  public static void main(String[] args) {
    System.exit(new CommandLine(new RestartBench()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    if (!WriteBench.heyInstalled()) {
      System.out.println("restart: needs hey for its load (Debian: apt-get install hey)");
      return 2;
    }
    Path dir = Files.createDirectories(Path.of("target", "bench", "restart-" + System.currentTimeMillis()));
    try (LocalCluster cluster = new LocalCluster(dir, 3)) {
      cluster.startAll();
      cluster.awaitCoordinator(3, cluster.ids(), TIMEOUT);
      System.out.printf("restart: 3 nodes (logs in %s)%n", dir);
      followerRestarts(cluster);
      wholeClusterRestarts(cluster);
    }
    return 0;
  }

  private void followerRestarts(LocalCluster cluster) throws Exception {
    NodeProcess coordinator = cluster.node(3);
    Process hey = WriteBench.steadyLoad(coordinator.baseUrl() + "/api/writes", rate, "24h", "restart",
        cluster.dir().resolve("hey.txt"));
    List<Long> ready = new ArrayList<>();
    List<Long> caughtUp = new ArrayList<>();
    List<Map<String, Long>> phases = new ArrayList<>();
    try {
      Thread.sleep(3_000);
      long before = coordinator.status().getLong("commitIndex");
      Thread.sleep(1_000);
      System.out.printf("restart: load %d writes/s asked, %d committed in the last second%n", rate,
          coordinator.status().getLong("commitIndex") - before);
      for (int trial = 1; trial <= trials; trial++) {
        int id = 1 + (trial - 1) % 2;
        cluster.node(id).kill();
        Thread.sleep(500);
        long startNs = System.nanoTime();
        long startedAtMs = System.currentTimeMillis();
        NodeProcess node = cluster.start(id);
        node.awaitReady(TIMEOUT);
        long readyMs = msSince(startNs);
        long[] target = new long[1];
        Await.until(TIMEOUT, "node " + id + " caught up", () -> {
          target[0] = coordinator.status().getLong("commitIndex");
          return commitIndex(node) >= target[0];
        });
        long caughtUpMs = msSince(startNs);
        ready.add(readyMs);
        caughtUp.add(caughtUpMs);
        Map<String, Long> phase = phases(cluster.logLines(id), startedAtMs);
        phases.add(phase);
        System.out.printf("restart: follower %d  ready %5d ms, caught up %5d ms (index %d)  phases %s%n", id, readyMs,
            caughtUpMs, target[0], phase);
        Thread.sleep(1_000);
      }
    } finally {
      new ProcessBuilder("kill", "-INT", Long.toString(hey.pid())).start().waitFor();
      hey.waitFor();
    }
    String summary = heySummary(cluster.dir().resolve("hey.txt"));
    System.out.printf("restart: follower under %d writes/s, %d trials: ready median %d ms (%d-%d), caught up median %d ms"
        + " (%d-%d); load %s%n", rate, trials, median(ready), min(ready), max(ready), median(caughtUp), min(caughtUp),
        max(caughtUp), summary);
    System.out.println("restart:   phase medians, ms from the previous one: " + medians(phases));
  }

  private void wholeClusterRestarts(LocalCluster cluster) throws Exception {
    List<Long> firstWrite = new ArrayList<>();
    List<Map<String, Long>> phases = new ArrayList<>();
    for (int trial = 1; trial <= trials; trial++) {
      cluster.signalAll("KILL");
      cluster.ids().forEach(id -> cluster.node(id).kill());
      long startNs = System.nanoTime();
      long startedAtMs = System.currentTimeMillis();
      cluster.ids().forEach(cluster::start);
      int[] by = new int[1];
      String key = trialKey(trial);
      Await.until(TIMEOUT, "a write acknowledged after the whole cluster restarted", () -> {
        for (int id : cluster.ids()) {
          if (accepted(cluster.node(id), key)) {
            by[0] = id;
            return true;
          }
        }
        return false;
      });
      long ms = msSince(startNs);
      firstWrite.add(ms);
      Map<String, Long> slowest = new LinkedHashMap<>();
      for (int id : cluster.ids()) {
        phases(cluster.logLines(id), startedAtMs).forEach((phase, t) -> slowest.merge(phase, t, Math::max));
      }
      phases.add(slowest);
      System.out.printf("restart: whole cluster  first write %5d ms (by coordinator %d)  slowest node's phases %s%n", ms,
          by[0], slowest);
      cluster.awaitCoordinator(3, cluster.ids(), TIMEOUT);
    }
    System.out.printf("restart: whole cluster killed and restarted together, %d trials: first write median %d ms (%d-%d)%n",
        trials, median(firstWrite), min(firstWrite), max(firstWrite));
    System.out.println("restart:   phase medians of the slowest node, ms from the previous one: " + medians(phases));
  }

  private static String trialKey(int trial) {
    return "restart-" + ProcessHandle.current().pid() + "-" + trial;
  }

  /** Posts one write to this node; true when it acknowledged it (a follower's redirect and a 503 are not). */
  private static boolean accepted(NodeProcess node, String key) {
    try {
      HttpResponse<String> response = node.send(HttpRequest.newBuilder(java.net.URI.create(node.baseUrl() + "/api/writes"))
          .header("Content-Type", "application/json").header("Idempotency-Key", key)
          .POST(HttpRequest.BodyPublishers.ofString("{\"bench\":\"restart\"}")).timeout(Duration.ofMillis(500)));
      return response.statusCode() == 201;
    } catch (RuntimeException e) {
      return false; // not listening yet
    }
  }

  private static long commitIndex(NodeProcess node) {
    JsonObject status = node.status(Duration.ofSeconds(2));
    return status.getLong("commitIndex");
  }

  /** The durations of the phases of the node's last start at {@code startedAtMs}, from its log lines' time stamps. */
  static Map<String, Long> phases(List<String> lines, long startedAtMs) {
    int start = 0;
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).contains(PHASES.get("jvm"))) {
        start = i;
      }
    }
    Map<String, Long> phases = new LinkedHashMap<>();
    long previous = startedAtMs;
    int from = start;
    for (var phase : PHASES.entrySet()) {
      for (int i = from; i < lines.size(); i++) {
        if (lines.get(i).contains(phase.getValue())) {
          long at = stampMs(lines.get(i));
          phases.put(phase.getKey(), at - previous);
          previous = at;
          from = i;
          break;
        }
      }
    }
    return phases;
  }

  private static long stampMs(String line) {
    Matcher m = STAMP.matcher(line);
    if (!m.find()) {
      throw new IllegalStateException("a node log line without a time stamp: " + line);
    }
    return LocalDateTime.parse(m.group(1)).atZone(java.time.ZoneId.systemDefault()).toInstant().toEpochMilli();
  }

  private static String medians(List<Map<String, Long>> runs) {
    Map<String, Long> medians = new LinkedHashMap<>();
    for (String phase : PHASES.keySet()) {
      List<Long> values = runs.stream().filter(r -> r.containsKey(phase)).map(r -> r.get(phase)).toList();
      if (!values.isEmpty()) {
        medians.put(phase, median(values));
      }
    }
    return medians.toString();
  }

  /** hey's status-code lines, from the report it prints when interrupted. */
  private static String heySummary(Path output) throws IOException {
    List<String> codes = Files.readAllLines(output).stream().map(String::trim).filter(l -> l.matches("\\[\\d{3}]\\s+\\d+ responses"))
        .toList();
    return codes.isEmpty() ? "(no report from hey)" : String.join(", ", codes);
  }

  private static long msSince(long startNs) {
    return (System.nanoTime() - startNs) / 1_000_000;
  }

  private static long median(List<Long> values) {
    List<Long> sorted = new ArrayList<>(values);
    Collections.sort(sorted);
    return sorted.get(sorted.size() / 2);
  }

  private static long min(List<Long> values) {
    return Collections.min(values);
  }

  private static long max(List<Long> values) {
    return Collections.max(values);
  }
}
