package dev.bully.tools;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code bin/bench.sh writes [SECONDS]}: three real nodes; closed-loop clients post small JSON
 * writes to the coordinator with the default write concern (majority), first one client, then 64,
 * each for SECONDS (default 20), after 64 clients warmed the JVMs up (at least 8 rounds of 10 s, until
 * one differs from the one before by less than 5%). Prints acknowledged writes per second and the
 * latency distribution of acknowledged writes; anything but 201 counts as an error.
 *
 * <p>The load comes from {@code hey} when it is installed (Debian package {@code hey}), the same
 * generator the etcd peer measurements use, so the figures compare side by side; otherwise from
 * Java's HttpClient, which costs noticeably more CPU on this 2-core machine.
 */
@Command(name = "bench.sh writes", mixinStandardHelpOptions = true,
    description = "Three nodes; after a warm-up, 1 then 64 clients post writes for SECONDS each: writes/s and latency."
        + " With --size, 64 clients post writes of that size with the default heap.")
public final class WriteBench implements Callable<Integer> {
  /** Warm-up rounds of 64 clients run until two in a row differ by less than this, or until {@link #WARM_UP_MAX_ROUNDS}. */
  private static final double WARM_UP_STEADY = 0.05;
  private static final int WARM_UP_ROUND_SECONDS = 10;
  private static final int WARM_UP_MIN_ROUNDS = 8;
  private static final int WARM_UP_MAX_ROUNDS = 15;
  private static final Duration SETTLE_TIMEOUT = Duration.ofSeconds(60);

  @Parameters(index = "0", arity = "0..1", defaultValue = "20", paramLabel = "SECONDS",
      description = "how long each measured phase runs (default: ${DEFAULT-VALUE})")
  private int seconds;

  @Option(names = "--size", paramLabel = "BYTES", description = "the size of each write (e.g. 40k, 1m): a soak of large writes")
  private String size;

  @Option(names = "--documents", description = "PUT documents (/api/collections/bench/docs/ID, answered once applied on"
      + " the coordinator) instead of POST /api/writes: with Java's client each client replaces 100 documents of its own"
      + " in turn; with hey, which sends one URL, every client replaces the same document")
  private boolean documents;

  /** What the load sends: POST /api/writes (201), or with --documents PUT of documents (200). Set once, before any load. */
  private static String method = "POST";
  private static String okStatus = "201";

  @Option(names = "--sync", defaultValue = "fsync", paramLabel = "MODE",
      description = "the nodes' store.sync: fsync (the default: forced to the device, as etcd and ZooKeeper do) or os")
  private String sync;

  public static void main(String[] args) {
    System.exit(new CommandLine(new WriteBench()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    if (size != null) {
      SizedSoak.run(SizedSoak.bytes(size), seconds);
      return 0;
    }
    Path dir = Files.createDirectories(Path.of("target", "bench", "writes-" + System.currentTimeMillis()));
    if (!sync.equals("fsync") && !sync.equals("os")) {
      throw new CommandLine.ParameterException(new CommandLine(this), "--sync is fsync or os, not '" + sync + "'");
    }
    JsonObject extra = new JsonObject().put("store", new JsonObject().put("sync", sync));
    try (LocalCluster cluster = new LocalCluster(dir, 3, extra)) {
      cluster.startAll();
      cluster.awaitCoordinator(3, cluster.ids(), SETTLE_TIMEOUT);
      URI target = URI.create(cluster.node(3).baseUrl() + (documents ? "/api/collections/bench/docs/" : "/api/writes"));
      if (documents) {
        method = "PUT";
        okStatus = "200";
      }
      System.out.println("writes: 3 nodes, " + method + " " + target.getPath() + (documents ? "ID" : "") + " to coordinator 3,"
          + " w=majority, store.sync " + sync + " (logs in " + dir + ")");
      boolean hey = heyInstalled();
      System.out.println("writes: load from " + (hey ? "hey" : "Java's HttpClient (install hey for figures comparable with etcd's)"));
      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      List<NodeProcess> nodes = cluster.ids().stream().map(cluster::node).toList();
      NodeCost cold = NodeCost.sample(nodes);
      long warmUpWrites = warmUp(http, target, hey);
      System.out.println("writes: warm-up: " + NodeCost.sample(nodes).since(cold, warmUpWrites));
      for (int clients : List.of(1, 64)) {
        NodeCost before = NodeCost.sample(nodes);
        Result result = hey ? hey(target, clients, seconds) : run(http, target, clients, Duration.ofSeconds(seconds), "measured");
        NodeCost after = NodeCost.sample(nodes);
        print(result, clients + " client" + (clients == 1 ? " " : "s"), seconds);
        System.out.println("writes:   " + after.since(before, result.latenciesNs.size()));
      }
      long commitIndex = cluster.node(3).status().getLong("commitIndex");
      System.out.printf("writes: coordinator's commit index at the end: %d%n", commitIndex);
    }
    return 0;
  }

  /**
   * Starts {@code hey} posting small writes to {@code url} at about {@code rate} writes/s (one
   * client per 50 writes/s, at most 64) for {@code duration} (hey's syntax, e.g. {@code 600s}), its
   * report going to {@code output}; SIGINT makes it stop and print the report.
   */
  static Process steadyLoad(String url, int rate, String duration, String label, Path output) throws IOException {
    int clients = Math.max(1, Math.min(64, rate / 50));
    return new ProcessBuilder("hey", "-z", duration, "-c", String.valueOf(clients), "-q", String.valueOf(rate / clients),
        "-m", "POST", "-T", "application/json", "-d", "{\"bench\":\"" + label + "\"}", url)
        .redirectErrorStream(true).redirectOutput(output.toFile()).start();
  }

  /**
   * Runs 64 clients in rounds until the JVMs are warm: their just-in-time compilers take about a
   * minute of this load to settle (meanwhile one core goes to compiling, and throughput more than
   * doubles), and what a running cluster does is measured, not its first minute. Returns the
   * writes acknowledged meanwhile.
   */
  static long warmUp(HttpClient http, URI target, boolean hey) throws Exception {
    double previous = 0;
    long writes = 0;
    for (int round = 1; round <= WARM_UP_MAX_ROUNDS; round++) {
      Result result = hey ? hey(target, 64, WARM_UP_ROUND_SECONDS)
          : run(http, target, 64, Duration.ofSeconds(WARM_UP_ROUND_SECONDS), "warm-up");
      print(result, "warm-up round " + round + ", 64 clients", WARM_UP_ROUND_SECONDS);
      writes += result.latenciesNs.size();
      double rate = result.latenciesNs.size() / (double) WARM_UP_ROUND_SECONDS;
      if (round >= WARM_UP_MIN_ROUNDS && Math.abs(rate - previous) < WARM_UP_STEADY * previous) {
        return writes;
      }
      previous = rate;
    }
    System.out.println("writes: throughput still changed by 5% or more after " + WARM_UP_MAX_ROUNDS + " warm-up rounds");
    return writes;
  }

  private static void print(Result result, String label, int seconds) {
    System.out.printf("writes: %s %d s: %d acknowledged, %.0f writes/s, latency ms p50 %.2f / p90 %.2f / p99 %.2f / max %.2f, errors %s%n",
        label, seconds, result.latenciesNs.size(), result.latenciesNs.size() / (double) seconds,
        ms(result, 50), ms(result, 90), ms(result, 99), ms(result, 100), result.errors.isEmpty() ? "none" : result.errors);
  }

  /** Latencies of acknowledged writes, sorted; failures counted by HTTP status or exception. */
  record Result(List<Long> latenciesNs, Map<String, Long> errors) {
  }

  private static Result run(HttpClient http, URI target, int clients, Duration duration, String label) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    long endNs = System.nanoTime() + duration.toNanos();
    Map<String, Long> errors = new ConcurrentHashMap<>();
    List<Future<List<Long>>> workers = new ArrayList<>();
    for (int c = 0; c < clients; c++) {
      int client = c;
      workers.add(pool.submit(() -> {
        List<Long> latencies = new ArrayList<>();
        long sequence = 0;
        while (System.nanoTime() < endNs) {
          String body = "{\"client\":" + client + ",\"seq\":" + sequence + ",\"run\":\"" + label + "\"}";
          URI uri = method.equals("PUT") ? target.resolve("c" + client + "-" + (sequence % 100)) : target;
          sequence++;
          HttpRequest request = HttpRequest.newBuilder(uri)
              .header("Content-Type", "application/json")
              .timeout(Duration.ofSeconds(10))
              .method(method, HttpRequest.BodyPublishers.ofString(body))
              .build();
          long startNs = System.nanoTime();
          try {
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
            if (Integer.toString(response.statusCode()).equals(okStatus)) {
              latencies.add(System.nanoTime() - startNs);
            } else {
              errors.merge("HTTP " + response.statusCode(), 1L, Long::sum);
            }
          } catch (IOException e) {
            errors.merge(e.getClass().getSimpleName(), 1L, Long::sum);
          }
        }
        return latencies;
      }));
    }
    List<Long> all = new ArrayList<>();
    for (Future<List<Long>> worker : workers) {
      all.addAll(worker.get());
    }
    pool.shutdown();
    all.sort(null);
    return new Result(all, new TreeMap<>(errors));
  }

  static boolean heyInstalled() {
    try {
      return new ProcessBuilder("hey").redirectErrorStream(true).start().waitFor() >= 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Runs hey and reads every request's outcome from its CSV output. */
  static Result hey(URI target, int clients, int seconds) throws IOException, InterruptedException {
    URI url = method.equals("PUT") ? target.resolve("hot") : target;
    return hey(url, clients, seconds, "{\"bench\":\"hey\",\"clients\":" + clients + "}", okStatus);
  }

  /** Runs hey posting {@code body} and reads every request's outcome from its CSV output; {@code ok} is the status of success. */
  static Result hey(URI target, int clients, int seconds, String body, String ok) throws IOException, InterruptedException {
    return hey(method, target, clients, seconds, body, ok);
  }

  /** Runs hey sending {@code method} requests ({@code body}: none if null) and reads every request's outcome from its CSV output. */
  static Result hey(String method, URI target, int clients, int seconds, String body, String ok) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of("hey", "-z", seconds + "s", "-c", String.valueOf(clients), "-m", method));
    if (body != null) {
      command.addAll(List.of("-T", "application/json", "-d", body));
    }
    command.addAll(List.of("-o", "csv", target.toString()));
    Process hey = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    List<Long> latencies = new ArrayList<>();
    Map<String, Long> errors = new TreeMap<>();
    try (var lines = new java.io.BufferedReader(new java.io.InputStreamReader(hey.getInputStream()))) {
      String line = lines.readLine(); // header: response-time,DNS+dialup,DNS,Request-write,Response-delay,Response-read,status-code,offset
      while ((line = lines.readLine()) != null) {
        String[] fields = line.split(",");
        if (fields.length < 7) {
          continue;
        }
        if (fields[6].equals(ok)) {
          latencies.add((long) (Double.parseDouble(fields[0]) * 1e9));
        } else {
          errors.merge("HTTP " + fields[6], 1L, Long::sum);
        }
      }
    }
    if (hey.waitFor() != 0) {
      throw new IllegalStateException("hey exited with " + hey.exitValue());
    }
    latencies.sort(null);
    return new Result(latencies, errors);
  }

  static double ms(Result result, int percentile) {
    if (result.latenciesNs.isEmpty()) {
      return Double.NaN;
    }
    return FailoverBench.percentile(result.latenciesNs, percentile) / 1e6;
  }
}
