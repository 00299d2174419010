package dev.bully.tools;

import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code bin/bench.sh soak [SECONDS] [--rate R] [--reader]}: three nodes under a steady load with
 * no fault injected, for as long as asked; a healthy cluster changes no term. Every 30 s it prints
 * each node's term, role and learned failure timeout and the writes committed; at the end the term
 * changes (none expected) and every line in which a node suspected its coordinator.
 *
 * <p>With {@code --reader} a client also pages through the whole log from every node in turn, as a
 * reader of the history would, the load that once made a follower miss heartbeats.
 */
@Command(name = "bench.sh soak", mixinStandardHelpOptions = true,
    description = "Three nodes under R writes/s for SECONDS with no fault: the term must not change.")
public final class SoakBench implements Callable<Integer> {
  private static final Duration TIMEOUT = Duration.ofSeconds(90);

  @Parameters(index = "0", arity = "0..1", defaultValue = "600", paramLabel = "SECONDS",
      description = "how long the load runs (default: ${DEFAULT-VALUE})")
  private int seconds;

  @Option(names = "--rate", defaultValue = "2000", paramLabel = "R", description = "writes/s asked of hey (default: ${DEFAULT-VALUE})")
  private int rate;

  @Option(names = "--reader", description = "also page through the whole log from every node in turn")
  private boolean reader;

  public static void main(String[] args) {
    System.exit(new CommandLine(new SoakBench()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    if (!WriteBench.heyInstalled()) {
      System.out.println("soak: needs hey for its load (Debian: apt-get install hey)");
      return 2;
    }
    Path dir = Files.createDirectories(Path.of("target", "bench", "soak-" + System.currentTimeMillis()));
    try (LocalCluster cluster = new LocalCluster(dir, 3)) {
      cluster.startAll();
      long term = cluster.awaitCoordinator(3, cluster.ids(), TIMEOUT);
      NodeProcess coordinator = cluster.node(3);
      System.out.printf("soak: 3 nodes, %d writes/s asked for %d s%s, coordinator 3 in term %d (logs in %s)%n", rate, seconds,
          reader ? ", a reader paging through the log" : "", term, dir);
      Process hey = WriteBench.steadyLoad(coordinator.baseUrl() + "/api/writes", rate, seconds + "s", "soak",
          dir.resolve("hey.txt"));
      java.util.concurrent.atomic.AtomicLongArray readerCounts = new java.util.concurrent.atomic.AtomicLongArray(2);
      Thread pager = reader ? startReader(cluster, readerCounts) : null;
      // Suspicions count from here: the start-up's own (no coordinator yet) are not the soak's.
      String since = java.time.LocalDateTime.now().format(java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS"));
      long startNs = System.nanoTime();
      long startIndex = coordinator.status().getLong("commitIndex");
      long lastIndex = startIndex;
      Map<Integer, Long> firstTerms = terms(cluster);
      while (hey.isAlive()) {
        Thread.sleep(30_000);
        Map<Integer, JsonObject> statuses = cluster.statuses();
        long index = statuses.containsKey(3) ? statuses.get(3).getLong("commitIndex") : lastIndex;
        StringBuilder line = new StringBuilder(String.format("soak: %4d s  %5d writes/s", (System.nanoTime() - startNs) / 1_000_000_000L,
            (index - lastIndex) / 30));
        statuses.forEach((id, s) -> line.append(String.format("  node %d %s term %d timeout %s ms", id, s.getString("role"),
            s.getLong("term"), s.getValue("failureTimeoutMs"))));
        System.out.println(line);
        lastIndex = index;
      }
      if (pager != null) {
        pager.interrupt();
      }
      Map<Integer, Long> lastTerms = terms(cluster);
      List<String> suspicions = new ArrayList<>();
      for (int id : cluster.ids()) {
        cluster.logLines(id).stream().filter(l -> l.compareTo(since) >= 0)
            .filter(l -> l.contains(" suspects coordinator ") || l.contains(" has no coordinator"))
            .forEach(suspicions::add);
      }
      long changes = cluster.ids().stream().mapToLong(id -> lastTerms.getOrDefault(id, 0L) - firstTerms.getOrDefault(id, 0L)).max()
          .orElse(0);
      System.out.printf("soak: %d writes committed in %d s (%d/s); terms %s -> %s: %d term changes; %d suspicions under load%n",
          lastIndex - startIndex, seconds, (lastIndex - startIndex) / Math.max(1, seconds), firstTerms, lastTerms, changes,
          suspicions.size());
      if (pager != null) {
        System.out.printf("soak: the reader read %d entries meanwhile, %d whole logs of a node%n", readerCounts.get(0),
            readerCounts.get(1));
      }
      suspicions.stream().limit(20).forEach(s -> System.out.println("soak:   " + s));
      return changes == 0 ? 0 : 1;
    }
  }

  private static Map<Integer, Long> terms(LocalCluster cluster) {
    Map<Integer, Long> terms = new TreeMap<>();
    cluster.statuses().forEach((id, status) -> terms.put(id, status.getLong("term")));
    return terms;
  }

  /**
   * Pages through each node's committed log, 1,000 entries a request, node after node, until
   * interrupted; counts the entries read ({@code counts[0]}) and the logs read to their end ({@code counts[1]}).
   */
  private static Thread startReader(LocalCluster cluster, java.util.concurrent.atomic.AtomicLongArray counts) {
    Thread thread = new Thread(() -> {
      while (!Thread.currentThread().isInterrupted()) {
        for (int id : cluster.ids()) {
          try {
            // From where the node's log begins: entries it applied beyond log.retainEntries left its store.
            Long from = cluster.node(id).status().getLong("firstIndex", 1L);
            while (from != null && !Thread.currentThread().isInterrupted()) {
              JsonObject page = new JsonObject(cluster.node(id).get("/api/writes?from=" + from + "&limit=1000").body());
              if ("compacted".equals(page.getString("error"))) {
                from = page.getLong("firstIndex"); // compacted while read: read on from where it begins now
                continue;
              }
              counts.addAndGet(0, page.getJsonArray("entries").size());
              from = page.getLong("next");
            }
            counts.incrementAndGet(1);
          } catch (RuntimeException e) {
            // a node that does not answer now is read again in the next round
          }
        }
      }
    }, "soak-reader");
    thread.setDaemon(true);
    thread.start();
    return thread;
  }
}
