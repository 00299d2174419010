package dev.bully.tools;

import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongFunction;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bin/bench.sh snapshot}: how compaction bounds the disk and how fast snapshots catch nodes
 * up, on three real nodes.
 *
 * <ol>
 *   <li>Disk: node 1 is stopped, and 32 clients replace {@code --documents} documents over and
 *       over, {@code --updates} puts in all; every {@code --every} puts each node's data folder size
 *       (its store and log files), its first retained index and the puts/s so far. With the log
 *       compacted behind what is applied, the sizes stop growing once the log holds
 *       {@code log.retainEntries} entries.</li>
 *   <li>Catch-up: {@code --behind} puts create as many new documents, and node 1, which missed all
 *       of it, is started again: it installs a snapshot of the coordinator's documents; the time from
 *       the install's first to its last line in node 1's log, and documents per second.</li>
 *   <li>A new node: node 2 is stopped, its data folder removed, and started again while 200 puts/s
 *       go on: the time from its start to having applied what the coordinator had committed.</li>
 * </ol>
 */
@Command(name = "bench.sh snapshot", mixinStandardHelpOptions = true,
    description = "Three nodes: store size while documents are updated over and over; a node far behind and a new node"
        + " catching up from snapshots.")
public final class SnapshotBench implements Callable<Integer> {
  private static final Duration TIMEOUT = Duration.ofMinutes(10);
  private static final int CLIENTS = 32;

  @Option(names = "--documents", defaultValue = "1000", description = "documents the disk phase updates (default: ${DEFAULT-VALUE})")
  private int documents;

  @Option(names = "--updates", defaultValue = "1000000", description = "puts of the disk phase (default: ${DEFAULT-VALUE})")
  private long updates;

  @Option(names = "--every", defaultValue = "100000", description = "puts between two size lines (default: ${DEFAULT-VALUE})")
  private long every;

  @Option(names = "--behind", defaultValue = "100000", description = "new documents node 1 misses (default: ${DEFAULT-VALUE})")
  private long behind;

  @Option(names = "--retain", defaultValue = "100000", description = "log.retainEntries of the nodes (default: ${DEFAULT-VALUE})")
  private int retain;

  public static void main(String[] args) {
    System.exit(new CommandLine(new SnapshotBench()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    Path dir = Files.createDirectories(Path.of("target", "bench", "snapshot-" + System.currentTimeMillis()));
    JsonObject extra = new JsonObject().put("log", new JsonObject().put("retainEntries", retain));
    try (LocalCluster cluster = new LocalCluster(dir, 3, extra)) {
      cluster.startAll();
      cluster.awaitCoordinator(3, cluster.ids(), TIMEOUT);
      System.out.printf("snapshot: 3 nodes, log.retainEntries %d (logs in %s); node 1 stopped%n", retain, dir);
      cluster.node(1).kill();
      URI docs = URI.create(cluster.node(3).baseUrl() + "/api/collections/bench/docs/");
      long startNs = System.nanoTime();
      put(docs, updates, n -> "d" + (n % documents), (done, ns) -> {
        if (done % every == 0) {
          StringBuilder line = new StringBuilder(String.format("snapshot: %,d puts (%,.0f/s)", done, done / (ns / 1e9)));
          for (int id : List.of(2, 3)) {
            JsonObject status = cluster.node(id).status();
            line.append(String.format("  node %d %,.1f MB first index %,d", id, status.getLong("storeBytes") / 1e6,
                status.getLong("firstIndex")));
          }
          System.out.println(line);
        }
      }, startNs);

      put(docs, behind, n -> "new" + n, (done, ns) -> { }, System.nanoTime());
      long target = cluster.node(3).status().getLong("commitIndex");
      System.out.printf("snapshot: node 1 missed %,d puts, %,d of them new documents; the coordinator's log begins at %,d, ends at"
          + " %,d%n", updates + behind, behind, cluster.node(3).status().getLong("firstIndex"), target);
      long restartNs = System.nanoTime();
      cluster.start(1).awaitReady(TIMEOUT);
      Await.until(TIMEOUT, "node 1 applied " + target, () -> cluster.node(1).status().getLong("appliedIndex") >= target);
      double total = (System.nanoTime() - restartNs) / 1e9;
      long installMs = installMs(cluster.logLines(1));
      long count = documents + behind;
      if (installMs < 0) {
        System.out.printf("snapshot: node 1 caught up from the log, with no snapshot, %.1f s after its start%n", total);
      } else {
        System.out.printf("snapshot: node 1 installed a snapshot of about %,d documents in %.2f s (%,.0f documents/s); start to"
            + " caught up %.1f s%n", count, installMs / 1e3, count / Math.max(0.001, installMs / 1e3), total);
        System.out.println("snapshot:   " + breakdown(cluster, 1));
      }

      cluster.node(2).kill();
      dev.bully.node.FileTrees.delete(cluster.dataDir(2));
      Process load = WriteBench.steadyLoad(cluster.node(3).baseUrl() + "/api/writes", 200, "24h", "snapshot",
          dir.resolve("hey.txt"));
      try {
        long newStartNs = System.nanoTime();
        cluster.start(2).awaitReady(TIMEOUT);
        double readyS = (System.nanoTime() - newStartNs) / 1e9;
        long committed = cluster.node(3).status().getLong("commitIndex");
        Await.until(TIMEOUT, "node 2 applied " + committed, () -> cluster.node(2).status().getLong("appliedIndex") >= committed);
        System.out.printf("snapshot: a new node (node 2, empty data folder) under 200 writes/s: ready %.1f s, caught up %.1f s"
            + " after its start (snapshot install %.2f s)%n", readyS, (System.nanoTime() - newStartNs) / 1e9,
            installMs(cluster.logLines(2)) / 1e3);
        System.out.println("snapshot:   " + breakdown(cluster, 2));
      } finally {
        new ProcessBuilder("kill", "-INT", Long.toString(load.pid())).start().waitFor();
        load.waitFor();
      }
    }
    return 0;
  }

  /**
   * From the last "installs a snapshot" line before the last swap's line to that swap's line, in a
   * node's log (written before the node's applied index moves, so a node seen caught up has written
   * it). An offer made again while the node swapped begins a second install, which the bench does
   * not wait for: it is left out.
   */
  private static long installMs(List<String> lines) {
    long begun = -1;
    long done = -1;
    long begunLast = -1;
    for (String line : lines) {
      if (line.contains("installs a snapshot up to entry")) {
        begunLast = stampMs(line);
      } else if (line.contains("Installed a snapshot of the documents up to entry") && begunLast >= 0) {
        begun = begunLast;
        done = stampMs(line);
      }
    }
    return begun < 0 || done < 0 ? -1 : done - begun;
  }

  private static final java.util.regex.Pattern STORED = java.util.regex.Pattern.compile(
      "Installed a snapshot .*: (\\d+) documents in (\\d+) chunks, (\\d+) ms of it storing them durably(?:, then (\\d+) ms renaming)?");
  private static final java.util.regex.Pattern READ = java.util.regex.Pattern.compile(
      "Read a snapshot up to entry \\d+ for node (\\d+): \\d+ documents in \\d+ chunks, (\\d+) ms of it reading");

  /**
   * Where an install's time went, from the nodes' logs: the coordinator's time reading the chunks
   * and the installer's storing them (the two overlap: a chunk is stored while the next is read),
   * and in how many terms it began (an election in between begins it again).
   */
  private static String breakdown(LocalCluster cluster, int installer) {
    long begun = cluster.logLines(installer).stream().filter(line -> line.contains("installs a snapshot up to entry"))
        .map(line -> line.substring(line.lastIndexOf("(term"))).distinct().count(); // an offer repeated in a term is one install
    String stored = "?";
    String chunks = "?";
    String copied = "";
    for (String line : cluster.logLines(installer)) {
      java.util.regex.Matcher m = STORED.matcher(line);
      if (m.find()) {
        stored = String.format("%.1f s", Long.parseLong(m.group(3)) / 1e3);
        chunks = m.group(2);
        copied = m.group(4) == null ? "" : String.format(", then put them in place of the live ones in %.1f s", Long.parseLong(m.group(4)) / 1e3);
      }
    }
    String read = "?";
    for (int id : cluster.ids()) {
      for (String line : cluster.logLines(id)) {
        java.util.regex.Matcher m = READ.matcher(line);
        if (m.find() && Integer.parseInt(m.group(1)) == installer) {
          read = String.format("node %d read it in %.1f s", id, Long.parseLong(m.group(2)) / 1e3);
        }
      }
    }
    return String.format("%s chunks: %s, node %d stored them durably in %s, each chunk while the next was read%s; begun in %d term%s",
        chunks, read, installer, stored, copied, begun, begun == 1 ? "" : "s (an election began it again)");
  }

  private static long stampMs(String line) {
    return LocalDateTime.parse(line.substring(0, 23)).atZone(java.time.ZoneId.systemDefault()).toInstant().toEpochMilli();
  }

  private interface Progress {
    void at(long done, long nanos);
  }

  /** {@code count} puts of small documents with {@link #CLIENTS} clients, ids from {@code id}; 503 retried, redirects followed. */
  private static void put(URI base, long count, LongFunction<String> id, Progress progress, long startNs) throws Exception {
    // A new coordinator answers the puts after a failover; a follower's 307 points there, as for any client.
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).followRedirects(HttpClient.Redirect.NORMAL).build();
    AtomicLong next = new AtomicLong();
    AtomicLong done = new AtomicLong();
    ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
    List<Future<?>> clients = new ArrayList<>();
    for (int c = 0; c < CLIENTS; c++) {
      clients.add(pool.submit(() -> {
        for (long n = next.incrementAndGet(); n <= count; n = next.incrementAndGet()) {
          HttpRequest request = HttpRequest.newBuilder(base.resolve(id.apply(n))).header("Content-Type", "application/json")
              .PUT(HttpRequest.BodyPublishers.ofString("{\"n\":" + n + ",\"payload\":\"snapshot bench document\"}")).build();
          HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
          while (response.statusCode() == 503) {
            Thread.sleep(50);
            response = http.send(request, HttpResponse.BodyHandlers.ofString());
          }
          if (response.statusCode() != 200) {
            throw new IllegalStateException("put " + n + " answered " + response.statusCode() + ": " + response.body());
          }
          long finished = done.incrementAndGet();
          synchronized (progress) {
            progress.at(finished, System.nanoTime() - startNs);
          }
        }
        return null;
      }));
    }
    for (Future<?> client : clients) {
      client.get();
    }
    pool.shutdown();
  }

  private SnapshotBench() {
  }
}
