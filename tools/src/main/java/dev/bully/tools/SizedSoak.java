package dev.bully.tools;

import dev.bully.node.FileTrees;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code bin/bench.sh writes SECONDS --size BYTES}: three real nodes with the default heap, and 64
 * clients (hey) posting writes of BYTES each (e.g. {@code 1m}, the default limit
 * {@code api.maxWriteBytes}) to the coordinator for SECONDS. Every 30 s it prints each node's
 * resident memory and term; at the end, the writes acknowledged and whether a node ran out of
 * memory, died or lost the lead (a term change is a failover). Memory must stay bounded
 * under any load the door admits: the coordinator answers 503 when too much waits (counted apart).
 */
final class SizedSoak {
  private static final Duration SETTLE_TIMEOUT = Duration.ofSeconds(60);
  private static final int REPORT_SECONDS = 30;

  private SizedSoak() {
  }

  static int bytes(String size) {
    String lower = size.toLowerCase();
    int factor = lower.endsWith("m") ? 1024 * 1024 : lower.endsWith("k") ? 1024 : 1;
    int count = Integer.parseInt(factor == 1 ? lower : lower.substring(0, lower.length() - 1));
    return count * factor;
  }

  static void run(int size, int seconds) throws Exception {
    if (!WriteBench.heyInstalled()) {
      throw new IllegalStateException("the sized soak needs hey (apt-get install hey)");
    }
    Path dir = Files.createDirectories(Path.of("target", "bench", "soak-" + System.currentTimeMillis()));
    Path body = dir.resolve("body.json");
    String prefix = "{\"bench\":\"soak\",\"s\":\"";
    Files.writeString(body, prefix + "x".repeat(size - prefix.length() - 2) + "\"}");
    try (LocalCluster cluster = new LocalCluster(dir, 3)) {
      cluster.startAll();
      cluster.awaitCoordinator(3, cluster.ids(), SETTLE_TIMEOUT);
      long term = cluster.node(3).status().getLong("term");
      System.out.printf("soak: 3 nodes, 64 clients, writes of %d bytes to coordinator 3 (term %d) for %d s; logs in %s%n",
          size, term, seconds, dir);
      Process hey = new ProcessBuilder("hey", "-z", seconds + "s", "-c", "64", "-t", "30", "-m", "POST",
          "-T", "application/json", "-D", body.toString(), "-o", "csv", cluster.node(3).baseUrl() + "/api/writes")
          .redirectError(ProcessBuilder.Redirect.INHERIT).start();
      Map<String, Long> outcomes = new TreeMap<>();
      long[] acknowledged = {0};
      Thread reader = new Thread(() -> count(hey, outcomes, acknowledged));
      reader.start();
      long startNs = System.nanoTime();
      // hey prints its CSV only when it ends: meanwhile, each node's memory and term.
      while (hey.isAlive()) {
        hey.waitFor(REPORT_SECONDS, java.util.concurrent.TimeUnit.SECONDS);
        long elapsed = (System.nanoTime() - startNs) / 1_000_000_000;
        System.out.printf("soak: %4d s: resident MB %s, store GB %s, terms %s%n", elapsed, residentMb(cluster),
            storeGb(cluster), terms(cluster));
      }
      reader.join();
      long oom = cluster.ids().stream().mapToLong(id -> cluster.logLines(id).stream()
          .filter(line -> line.contains("OutOfMemoryError")).count()).sum();
      long dead = cluster.ids().stream().filter(id -> !cluster.node(id).isAlive()).count();
      Map<Integer, JsonObject> statuses = cluster.statuses();
      long endTerm = statuses.containsKey(3) ? statuses.get(3).getLong("term") : -1;
      System.out.printf("soak: %d acknowledged in %d s (%.1f writes/s, %.1f MiB/s); outcomes %s; OutOfMemoryError lines %d; "
              + "nodes dead %d; coordinator term %d -> %d (%s)%n",
          acknowledged[0], seconds, acknowledged[0] / (double) seconds, acknowledged[0] * (double) size / seconds / (1024 * 1024),
          outcomes, oom, dead, term, endTerm, endTerm == term ? "no failover" : "FAILOVER");
    } finally {
      FileTrees.delete(dir.resolve("data")); // gigabytes a minute of large writes; the logs stay
    }
  }

  /** Each node's store folder, in GB: the log never shrinks yet, and the embedded store's file grows faster than it. */
  private static String storeGb(LocalCluster cluster) {
    List<String> sizes = new java.util.ArrayList<>();
    for (int id : cluster.ids()) {
      try (java.util.stream.Stream<Path> files = Files.walk(cluster.dataDir(id))) {
        long bytes = files.filter(Files::isRegularFile)
            .mapToLong(path -> path.toFile().length()).sum();
        sizes.add(String.format("%.1f", bytes / 1e9));
      } catch (IOException | java.io.UncheckedIOException e) {
        sizes.add("-");
      }
    }
    return String.join("/", sizes);
  }

  private static void count(Process hey, Map<String, Long> outcomes, long[] acknowledged) {
    try (BufferedReader lines = new BufferedReader(new InputStreamReader(hey.getInputStream()))) {
      String line = lines.readLine();
      while ((line = lines.readLine()) != null) {
        String[] fields = line.split(",");
        if (fields.length >= 7) {
          synchronized (outcomes) {
            outcomes.merge("HTTP " + fields[6], 1L, Long::sum);
            if (fields[6].equals("201")) {
              acknowledged[0]++;
            }
          }
        }
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static String residentMb(LocalCluster cluster) {
    StringBuilder text = new StringBuilder();
    for (int id : cluster.ids()) {
      long kb = -1;
      try {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(cluster.node(id).pid()), "status"))) {
          if (line.startsWith("VmRSS:")) {
            kb = Long.parseLong(line.replaceAll("[^0-9]", ""));
          }
        }
      } catch (IOException e) {
        // the node is gone: shown as -1
      }
      text.append(text.length() == 0 ? "" : "/").append(kb < 0 ? "-" : Long.toString(kb / 1024));
    }
    return text.toString();
  }

  /** Each node's term and role, and the failure timeout it has learned from the pauses it saw. */
  private static String terms(LocalCluster cluster) {
    List<String> terms = cluster.statuses().entrySet().stream()
        .map(e -> e.getKey() + ":" + e.getValue().getLong("term") + e.getValue().getString("role").substring(0, 1)
            + " (failure timeout " + e.getValue().getLong("failureTimeoutMs") + " ms)").toList();
    return String.join(" ", terms);
  }
}
