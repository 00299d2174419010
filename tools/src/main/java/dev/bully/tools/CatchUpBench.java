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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code bin/bench.sh catchup [ENTRIES]}: three real nodes; node 1 is stopped, the other two commit
 * ENTRIES writes (default 100,000), node 1 starts again on its old data folder, and the bench times
 * how long it takes, from the moment node 1 is ready, until its log holds every entry. Prints entries
 * per second of catch-up.
 */
@Command(name = "bench.sh catchup", mixinStandardHelpOptions = true,
    description = "Three nodes; node 1 is stopped while the others commit ENTRIES writes, then restarted: entries/s until it holds them all.")
public final class CatchUpBench implements Callable<Integer> {
  private static final Duration SETTLE_TIMEOUT = Duration.ofSeconds(60);
  private static final int WRITERS = 64;

  @Parameters(index = "0", arity = "0..1", defaultValue = "100000", paramLabel = "ENTRIES",
      description = "writes committed while node 1 is stopped (default: ${DEFAULT-VALUE})")
  private int entries;

  public static void main(String[] args) {
    System.exit(new CommandLine(new CatchUpBench()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    Path dir = Files.createDirectories(Path.of("target", "bench", "catchup-" + System.currentTimeMillis()));
    try (LocalCluster cluster = new LocalCluster(dir, 3)) {
      cluster.startAll();
      cluster.awaitCoordinator(3, cluster.ids(), SETTLE_TIMEOUT);
      System.out.println("catchup: 3 nodes; node 1 stopped while nodes 2 and 3 commit " + entries + " writes (logs in " + dir + ")");
      if (cluster.node(1).terminate(Duration.ofSeconds(30)) != 143) {
        throw new IllegalStateException("node 1 did not stop cleanly");
      }
      long writeStart = System.nanoTime();
      write(URI.create(cluster.node(3).baseUrl() + "/api/writes"), entries);
      double writeSeconds = (System.nanoTime() - writeStart) / 1e9;
      long target = cluster.node(3).status().getLong("lastIndex");
      System.out.printf("catchup: %d writes committed by nodes 2 and 3 in %.1f s; coordinator's last index %d%n",
          entries, writeSeconds, target);

      cluster.start(1).awaitReady(LocalCluster.READY_TIMEOUT);
      long startNs = System.nanoTime();
      long before = cluster.node(1).status().getLong("lastIndex");
      Await.until(Duration.ofMinutes(5), "node 1 holds entry " + target,
          () -> cluster.node(1).status().getLong("lastIndex") >= target);
      double seconds = (System.nanoTime() - startNs) / 1e9;
      JsonObject status = cluster.node(1).status();
      System.out.printf("catchup: node 1 went from index %d to %d in %.2f s: %.0f entries/s (commit index %d)%n",
          before, status.getLong("lastIndex"), seconds, (target - before) / seconds, status.getLong("commitIndex"));
    }
    return 0;
  }

  /** Posts {@code count} writes with {@link #WRITERS} clients, retrying 503 as a client should; fails on any other answer but 201. */
  private static void write(URI target, int count) throws Exception {
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    AtomicLong next = new AtomicLong();
    ExecutorService pool = Executors.newFixedThreadPool(WRITERS);
    List<Future<?>> writers = new ArrayList<>();
    for (int w = 0; w < WRITERS; w++) {
      writers.add(pool.submit(() -> {
        for (long n = next.incrementAndGet(); n <= count; n = next.incrementAndGet()) {
          HttpRequest request = HttpRequest.newBuilder(target).header("Content-Type", "application/json")
              .POST(HttpRequest.BodyPublishers.ofString("{\"n\":" + n + ",\"payload\":\"catch-up bench entry\"}")).build();
          HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
          while (response.statusCode() == 503) {
            Thread.sleep(50);
            response = http.send(request, HttpResponse.BodyHandlers.ofString());
          }
          if (response.statusCode() != 201) {
            throw new IllegalStateException("write " + n + " answered " + response.statusCode() + ": " + response.body());
          }
        }
        return null;
      }));
    }
    for (Future<?> writer : writers) {
      writer.get();
    }
    pool.shutdown();
  }

  private CatchUpBench() {
  }
}
