package dev.bully.tools;

import io.vertx.core.json.JsonObject;
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
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code bin/bench.sh reads [SECONDS]}: reads of one small document, three etcd members (when
 * installed) then three nodes of ours, back to back on the same machine, {@code hey} as the load:
 * <ul>
 *   <li>linearizable: etcd's default range read ({@code /v3/kv/range}, a read index confirmed by
 *       the leader's quorum) on the leader, and our {@code GET ...?read=linearizable} on the
 *       coordinator (a barrier entry committed by a majority, shared by the reads that wait for it),
 *       at 1 and 64 clients;</li>
 *   <li>local: etcd's serializable range read and our {@code read=local}, 64 clients on one
 *       follower, then 64 clients spread over all three members: how local reads scale with the
 *       nodes that serve them.</li>
 * </ul>
 * Each system is read for 10 s at 64 clients before its figures are taken; our phases also print
 * the nodes' CPU per 1,000 reads.
 */
@Command(name = "reads", mixinStandardHelpOptions = true,
    description = "linearizable and local reads, etcd (when installed) and bully-cluster back to back: reads/s and latency")
public final class ReadBench implements Callable<Integer> {
  private static final int WARM_UP_SECONDS = 10;
  private static final Duration SETTLE_TIMEOUT = Duration.ofSeconds(60);

  @Parameters(index = "0", defaultValue = "10", description = "seconds per measured phase (default: ${DEFAULT-VALUE})")
  int seconds;

  private record Row(String system, String read, String where, int clients, double perSecond, double p50Ms, double p99Ms, long errors) {
  }

  public static void main(String[] args) {
    System.exit(new CommandLine(new ReadBench()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    if (!WriteBench.heyInstalled()) {
      System.out.println("reads: needs hey for its load (Debian: apt-get install hey)");
      return 2;
    }
    Path dir = Files.createDirectories(Path.of("target", "bench", "reads-" + System.currentTimeMillis()));
    System.out.printf("reads: %d s per phase, 3 members each (logs in %s)%n", seconds, dir);
    List<Row> rows = new ArrayList<>();
    if (EtcdCluster.installed()) {
      rows.addAll(etcd(dir.resolve("etcd")));
    } else {
      System.out.println("reads: etcd is not installed (Debian: apt-get install etcd-server etcd-client): left out");
    }
    rows.addAll(bully(dir.resolve("bully")));
    print(rows);
    return 0;
  }

  private List<Row> etcd(Path dir) throws Exception {
    try (EtcdCluster etcd = new EtcdCluster(dir)) {
      int leader = etcd.awaitLeader();
      int follower = leader == 1 ? 2 : 1;
      System.out.printf("reads: etcd %s, leader n%d%n", EtcdCluster.version(), leader);
      HttpClient http = HttpClient.newHttpClient();
      HttpResponse<String> put = http.send(HttpRequest.newBuilder(URI.create(etcd.clientUrl(leader) + "/v3/kv/put"))
          .POST(HttpRequest.BodyPublishers.ofString(EtcdCluster.putBody("bench/hot", 100))).build(), HttpResponse.BodyHandlers.ofString());
      if (put.statusCode() != 200) {
        throw new IllegalStateException("etcd's put answered " + put.statusCode() + ": " + put.body());
      }
      String linearizable = EtcdCluster.rangeBody("bench/hot", false);
      String serializable = EtcdCluster.rangeBody("bench/hot", true);
      URI onLeader = URI.create(etcd.clientUrl(leader) + "/v3/kv/range");
      WriteBench.hey("POST", onLeader, 64, WARM_UP_SECONDS, linearizable, "200");
      List<Row> rows = new ArrayList<>();
      for (int clients : List.of(1, 64)) {
        rows.add(row("etcd", "linearizable", "leader", clients, WriteBench.hey("POST", onLeader, clients, seconds, linearizable, "200")));
      }
      rows.add(row("etcd", "serializable", "one follower", 64,
          WriteBench.hey("POST", URI.create(etcd.clientUrl(follower) + "/v3/kv/range"), 64, seconds, serializable, "200")));
      List<URI> all = List.of(1, 2, 3).stream().map(i -> URI.create(etcd.clientUrl(i) + "/v3/kv/range")).toList();
      rows.add(row("etcd", "serializable", "all 3", 64, spread("POST", all, 64, serializable)));
      return rows;
    }
  }

  private List<Row> bully(Path dir) throws Exception {
    try (LocalCluster cluster = new LocalCluster(Files.createDirectories(dir), 3, new JsonObject())) {
      cluster.startAll();
      cluster.awaitCoordinator(3, cluster.ids(), SETTLE_TIMEOUT);
      List<NodeProcess> nodes = cluster.ids().stream().map(cluster::node).toList();
      String path = "/api/collections/bench/docs/hot";
      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      HttpResponse<String> put = http.send(HttpRequest.newBuilder(URI.create(cluster.node(3).baseUrl() + path))
          .header("Content-Type", "application/json").PUT(HttpRequest.BodyPublishers.ofString("{\"value\":\"" + "x".repeat(100) + "\"}"))
          .build(), HttpResponse.BodyHandlers.ofString());
      if (put.statusCode() != 200) {
        throw new IllegalStateException("the put answered " + put.statusCode() + ": " + put.body());
      }
      long index = new JsonObject(put.body()).getLong("index");
      System.out.println("reads: bully-cluster, coordinator 3, store.sync fsync, document bench/hot at index " + index);
      URI linearizable = URI.create(cluster.node(3).baseUrl() + path + "?read=linearizable");
      // Every node has applied the put before its local reads are measured.
      URI follower = URI.create(cluster.node(1).baseUrl() + path + "?read=local&minIndex=" + index);
      List<URI> all = cluster.ids().stream().map(id -> URI.create(cluster.node(id).baseUrl() + path + "?read=local&minIndex=" + index))
          .toList();
      WriteBench.hey("GET", linearizable, 64, WARM_UP_SECONDS, null, "200");
      spread("GET", all, 64, null, WARM_UP_SECONDS);
      List<Row> rows = new ArrayList<>();
      for (int clients : List.of(1, 64)) {
        rows.add(measured(nodes, "bully-cluster", "linearizable", "coordinator", clients,
            () -> WriteBench.hey("GET", linearizable, clients, seconds, null, "200")));
      }
      rows.add(measured(nodes, "bully-cluster", "local", "one follower", 64, () -> WriteBench.hey("GET", follower, 64, seconds, null, "200")));
      rows.add(measured(nodes, "bully-cluster", "local", "all 3", 64, () -> spread("GET", all, 64, null)));
      return rows;
    } finally {
      CompareBench.deleteData(dir, "data");
    }
  }

  /** One phase of ours, and what the nodes spent on it, printed. */
  private Row measured(List<NodeProcess> nodes, String system, String read, String where, int clients,
      Callable<WriteBench.Result> load) throws Exception {
    NodeCost before = NodeCost.sample(nodes);
    WriteBench.Result result = load.call();
    System.out.printf("reads: %s %s, %s, %d client%s: %s%n", system, read, where, clients, clients == 1 ? "" : "s",
        NodeCost.sample(nodes).since(before, result.latenciesNs().size(), "read"));
    return row(system, read, where, clients, result);
  }

  private WriteBench.Result spread(String method, List<URI> targets, int clients, String body) throws Exception {
    return spread(method, targets, clients, body, seconds);
  }

  /** {@code clients} spread over {@code targets}, one hey each, at once; their outcomes together. */
  private static WriteBench.Result spread(String method, List<URI> targets, int clients, String body, int seconds) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(targets.size());
    try {
      List<Future<WriteBench.Result>> runs = new ArrayList<>();
      for (int i = 0; i < targets.size(); i++) {
        int share = clients / targets.size() + (i < clients % targets.size() ? 1 : 0);
        URI target = targets.get(i);
        runs.add(pool.submit(() -> WriteBench.hey(method, target, share, seconds, body, "200")));
      }
      List<Long> latencies = new ArrayList<>();
      Map<String, Long> errors = new TreeMap<>();
      for (Future<WriteBench.Result> run : runs) {
        latencies.addAll(run.get().latenciesNs());
        run.get().errors().forEach((k, v) -> errors.merge(k, v, Long::sum));
      }
      latencies.sort(null);
      return new WriteBench.Result(latencies, errors);
    } finally {
      pool.shutdown();
    }
  }

  private Row row(String system, String read, String where, int clients, WriteBench.Result result) {
    long errors = result.errors().values().stream().mapToLong(Long::longValue).sum();
    return new Row(system, read, where, clients, result.latenciesNs().size() / (double) seconds, WriteBench.ms(result, 50),
        WriteBench.ms(result, 99), errors);
  }

  private static void print(List<Row> rows) {
    System.out.println("reads: system         read          where         clients   reads/s   p50 ms   p99 ms  errors");
    for (Row row : rows) {
      System.out.printf("reads: %-14s %-13s %-13s %7d %9.0f %8.2f %8.2f %7d%n", row.system(), row.read(), row.where(), row.clients(),
          row.perSecond(), row.p50Ms(), row.p99Ms(), row.errors());
    }
    for (int clients : List.of(1, 64)) {
      Row ours = find(rows, "bully-cluster", "coordinator", clients);
      Row theirs = find(rows, "etcd", "leader", clients);
      if (ours != null && theirs != null) {
        System.out.printf("reads: linearizable, %d client%s, bully-cluster / etcd: reads/s %.2fx, p50 %.2fx, p99 %.2fx%n", clients,
            clients == 1 ? "" : "s", ours.perSecond() / theirs.perSecond(), ours.p50Ms() / theirs.p50Ms(), ours.p99Ms() / theirs.p99Ms());
      }
    }
    for (String system : List.of("bully-cluster", "etcd")) {
      Row one = find(rows, system, "one follower", 64);
      Row all = find(rows, system, "all 3", 64);
      if (one != null && all != null) {
        System.out.printf("reads: local reads of %s, all 3 nodes / one follower: %.2fx%n", system, all.perSecond() / one.perSecond());
      }
    }
  }

  private static Row find(List<Row> rows, String system, String where, int clients) {
    return rows.stream().filter(r -> r.system().equals(system) && r.where().equals(where) && r.clients() == clients).findFirst()
        .orElse(null);
  }
}
