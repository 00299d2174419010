package dev.bully.tools;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code bin/bench.sh failover [TRIALS]}: five real nodes; each trial kills the coordinator with
 * kill -9 and measures, from the kill, the time until a client's write is acknowledged by the new
 * coordinator (the client posts to a survivor, follows redirects and retries on 503 at once), and
 * the time until every survivor agrees on the new coordinator. Then it restarts the killed node and
 * waits until it has taken over again. Prints each trial, then min / median / p90 / max of both,
 * and how many trials needed more than one claim. With {@code --agreement-only} no client writes,
 * and only the agreement is timed.
 */
@Command(name = "bench.sh failover", mixinStandardHelpOptions = true,
    description = "Five nodes; kill -9 of the coordinator, TRIALS times: time to the first acknowledged write and to agreement.")
public final class FailoverBench implements Callable<Integer> {
  private static final Pattern CLAIM = Pattern.compile("Node (\\d+) claims term (\\d+)");
  private static final Pattern FOLLOW = Pattern.compile("follows coordinator (\\d+) \\(term (\\d+)\\)");
  private static final Duration SETTLE_TIMEOUT = Duration.ofSeconds(60);
  /** A client's pause between tries; also the resolution of the first-write figure. */
  private static final long RETRY_MS = 10;
  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @Parameters(index = "0", arity = "0..1", defaultValue = "20", paramLabel = "TRIALS",
      description = "how many times the coordinator is killed (default: ${DEFAULT-VALUE})")
  private int trials;

  @Option(names = "--agreement-only", description = "no client writes: time only the survivors' agreement")
  private boolean agreementOnly;

  public static void main(String[] args) {
    System.exit(new CommandLine(new FailoverBench()).execute(args));
  }

  @Override
  public Integer call() throws IOException {
    boolean withWrites = !agreementOnly;
    Path dir = Files.createDirectories(Path.of("target", "bench", "failover-" + System.currentTimeMillis()));
    List<Long> failoverMs = new ArrayList<>();
    List<Long> firstWriteMs = new ArrayList<>();
    List<Long> loggedFailoverMs = new ArrayList<>();
    int multiRound = 0;
    try (LocalCluster cluster = new LocalCluster(dir, 5)) {
      cluster.startAll();
      cluster.awaitCoordinator(5, cluster.ids(), SETTLE_TIMEOUT);
      System.out.println("failover: 5 nodes, kill -9 of the coordinator, until all survivors agree (logs in " + dir + ")");
      for (int trial = 1; trial <= trials; trial++) {
        int coordinator = 5;
        List<Integer> survivors = cluster.ids().stream().filter(id -> id != coordinator).toList();
        long termBefore = cluster.node(coordinator).status().getLong("term");
        // What each survivor takes for a failure now: learned from the pauses it saw (longer after a restart's warm-up).
        String timeouts = survivors.stream().map(id -> id + ":" + cluster.node(id).status().getLong("failureTimeoutMs"))
            .collect(java.util.stream.Collectors.joining(" "));
        // Kill at a random point of the heartbeat interval, as a real crash would.
        sleep((long) (Math.random() * 50));
        long startNs = System.nanoTime();
        long killedAtMs = System.currentTimeMillis();
        cluster.node(coordinator).killNow();
        String key = "failover-" + trial;
        CompletableFuture<Long> firstWrite = withWrites
            ? CompletableFuture.supplyAsync(() -> firstAcknowledgedWrite(cluster, survivors, key, startNs))
            : CompletableFuture.completedFuture(-1L);
        while (cluster.agreedCoordinator(survivors) == 0) {
          if (System.nanoTime() - startNs > SETTLE_TIMEOUT.toNanos()) {
            throw new IllegalStateException("no agreement within " + SETTLE_TIMEOUT + ": " + cluster.statuses());
          }
          sleep(2);
        }
        long elapsedMs = (System.nanoTime() - startNs) / 1_000_000;
        long writeMs = firstWrite.join();
        if (withWrites) {
          firstWriteMs.add(writeMs);
        }
        cluster.node(coordinator).kill();
        int winner = cluster.agreedCoordinator(survivors);
        Set<Long> claimedTerms = claimedTermsAfter(cluster, survivors, termBefore);
        boolean oneRound = claimedTerms.size() == 1;
        multiRound += oneRound ? 0 : 1;
        failoverMs.add(elapsedMs);
        long loggedMs = lastFollowAfter(cluster, survivors, winner, termBefore) - killedAtMs;
        loggedFailoverMs.add(loggedMs);
        System.out.printf("trial %2d: %sall survivors agree after %4d ms (polled), %4d ms (from their logs); new coordinator %d,"
                + " claims in terms %s%s; failure timeouts before, ms %s%n",
            trial, withWrites ? String.format("first acknowledged write after %4d ms, ", writeMs) : "", elapsedMs, loggedMs,
            winner, claimedTerms, oneRound ? "" : "  (more than one round)", timeouts);
        cluster.start(coordinator).awaitReady(LocalCluster.READY_TIMEOUT);
        cluster.awaitCoordinator(coordinator, cluster.ids(), SETTLE_TIMEOUT);
      }
    }
    List<Long> writes = firstWriteMs.stream().sorted().toList();
    List<Long> sorted = failoverMs.stream().sorted().toList();
    if (withWrites) {
      System.out.printf("failover, kill -9 to first acknowledged write, ms: min %d / median %d / p90 %d / max %d over %d trials%n",
          writes.get(0), percentile(writes, 50), percentile(writes, 90), writes.get(writes.size() - 1), writes.size());
    }
    System.out.printf("failover, kill -9 to agreement as polled over HTTP, ms: min %d / median %d / p90 %d / max %d over %d trials;"
        + " %d needed a second round%n",
        sorted.get(0), percentile(sorted, 50), percentile(sorted, 90), sorted.get(sorted.size() - 1), sorted.size(), multiRound);
    List<Long> logged = loggedFailoverMs.stream().sorted().toList();
    System.out.printf("failover, kill -9 to the last survivor following the new coordinator (its log), ms: min %d / median %d"
        + " / p90 %d / max %d%n", logged.get(0), percentile(logged, 50), percentile(logged, 90), logged.get(logged.size() - 1));
    return 0;
  }

  /**
   * Posts one write as a client would during the failover: to a survivor, following its redirect,
   * retrying at once on 503 or a refused connection, with one Idempotency-Key. Returns the
   * milliseconds from {@code startNs} to the 201.
   */
  private static long firstAcknowledgedWrite(LocalCluster cluster, List<Integer> survivors, String key, long startNs) {
    int attempt = 0;
    URI target = URI.create(cluster.node(survivors.get(0)).baseUrl() + "/api/writes");
    while (System.nanoTime() - startNs < SETTLE_TIMEOUT.toNanos()) {
      HttpRequest request = HttpRequest.newBuilder(target).header("Content-Type", "application/json")
          .header("Idempotency-Key", key).timeout(Duration.ofSeconds(5))
          .POST(HttpRequest.BodyPublishers.ofString("{\"bench\":\"failover\"}")).build();
      try {
        HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() == 201) {
          return (System.nanoTime() - startNs) / 1_000_000;
        }
        if (response.statusCode() == 307) {
          target = URI.create(response.headers().firstValue("Location").orElseThrow());
          continue;
        }
      } catch (IOException e) {
        // the node it was sent to is the one that died, or is not listening yet
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
      // 503 (no coordinator yet) or no answer: ask the next survivor, a little later, as a client would.
      target = URI.create(cluster.node(survivors.get(++attempt % survivors.size())).baseUrl() + "/api/writes");
      sleep(RETRY_MS);
    }
    throw new IllegalStateException("no write acknowledged within " + SETTLE_TIMEOUT);
  }

  /** Nearest-rank percentile, as the etcd peer scripts compute it. */
  static long percentile(List<Long> sorted, int p) {
    int rank = (int) Math.ceil(p / 100.0 * sorted.size());
    return sorted.get(Math.max(0, rank - 1));
  }

  /**
   * When the last survivor logged that it follows {@code winner} in a term after {@code termBefore}
   * (wall-clock ms): the moment of agreement, without the lag of polling every node over HTTP.
   */
  private static long lastFollowAfter(LocalCluster cluster, List<Integer> survivors, int winner, long termBefore) {
    long last = 0;
    for (int id : survivors) {
      if (id == winner) {
        continue;
      }
      for (String line : cluster.logLines(id)) {
        Matcher follow = FOLLOW.matcher(line);
        if (follow.find() && Integer.parseInt(follow.group(1)) == winner && Long.parseLong(follow.group(2)) > termBefore) {
          long at = LocalDateTime.parse(line.substring(0, 23)).atZone(ZoneId.systemDefault()).toInstant().toEpochMilli();
          last = Math.max(last, at);
          break;
        }
      }
    }
    return last;
  }

  private static Set<Long> claimedTermsAfter(LocalCluster cluster, List<Integer> survivors, long termBefore) {
    Set<Long> terms = new TreeSet<>();
    for (int id : survivors) {
      for (String line : cluster.logLines(id)) {
        Matcher claim = CLAIM.matcher(line);
        if (claim.find() && Long.parseLong(claim.group(2)) > termBefore) {
          terms.add(Long.parseLong(claim.group(2)));
        }
      }
    }
    return terms;
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

}
