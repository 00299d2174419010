package dev.bully.tools;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The node's start-up archive: the classes a node loads, parsed and verified once (and, from JDK 25,
 * linked, with their profiles: an AOT cache) and mapped by every later start. On JDK 17 it is a
 * class-data archive (AppCDS, {@code node/target/bully-node.jsa}), which cuts a node's start-up CPU
 * from about 5 s to 2 s here; on JDK 25 or later an AOT cache ({@code bully-node.aot}, JEP 483 and
 * 514), with which a node restarted into a running cluster is ready in 1.0-1.3 s instead of 3.6-3.8 s.
 * A restart of every node at once on two cores waits for exactly this.
 *
 * <p>{@code bin/cluster.sh} records it when its node 1 stops. For the nodes the harness starts it is
 * made once per build of the jar and per kind by a training start: one node alone on free loopback
 * ports, one write, then SIGTERM, at which the JVM writes the archive. A JVM that finds the archive
 * stale (the jar changed) ignores it and starts as without.
 */
final class ClassDataArchive {
  private static final Duration TRAINING_TIMEOUT = Duration.ofSeconds(60);
  private static Optional<Path> archive;

  private ClassDataArchive() {
  }

  /** The JVM options that use the archive, made first if it is missing or older than the jar; none if it cannot be made. */
  static synchronized List<String> options(Path jar, List<String> jvmOptions) {
    if (archive == null) {
      archive = Optional.ofNullable(Boolean.getBoolean("bully.node.noClassData") ? null : made(jar, jvmOptions));
    }
    return archive.map(a -> aotCache() ? List.of("-XX:AOTCache=" + a, "-Xlog:aot=off", "-Xlog:cds=off")
        : List.of("-XX:SharedArchiveFile=" + a, "-Xlog:cds=off", "-Xlog:cds+dynamic=off")).orElse(List.of());
  }

  /** Whether the nodes' JVM makes AOT caches (JDK 25 or later) rather than class-data archives. */
  private static boolean aotCache() {
    return NodeProcess.javaFeatureVersion() >= 25;
  }

  /** The JVM options that record the archive at {@code file} when the JVM exits. */
  private static List<String> recording(Path file) {
    return aotCache() ? List.of("-XX:AOTCacheOutput=" + file, "-Xlog:aot=off", "-Xlog:cds=off")
        : List.of("-XX:ArchiveClassesAtExit=" + file, "-Xlog:cds=off", "-Xlog:cds+dynamic=off");
  }

  private static Path made(Path jar, List<String> jvmOptions) {
    Path archive = jar.toAbsolutePath().resolveSibling(aotCache() ? "bully-node.aot" : "bully-node.jsa");
    try {
      if (Files.exists(archive) && Files.getLastModifiedTime(archive).compareTo(Files.getLastModifiedTime(jar)) > 0) {
        return archive;
      }
      train(jar, jvmOptions, archive);
      return archive;
    } catch (IOException | RuntimeException e) {
      System.err.println("nodes start without a class-data archive (" + e.getMessage() + ")");
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  private static void train(Path jar, List<String> jvmOptions, Path archive) throws IOException, InterruptedException {
    Path dir = Files.createTempDirectory(jar.toAbsolutePath().getParent(), "cds-training-");
    Path recorded = dir.resolve(archive.getFileName());
    List<Integer> ports = LocalCluster.freePorts(2);
    int httpPort = ports.get(0);
    int clusterPort = ports.get(1);
    JsonObject config = new JsonObject()
        .put("nodeId", 1)
        .put("cluster", new JsonObject().put("name", "cds-training-" + ProcessHandle.current().pid())
            .put("nodes", new JsonArray().add(new JsonObject().put("id", 1).put("host", "127.0.0.1")
                .put("httpPort", httpPort).put("clusterPort", clusterPort))))
        .put("dataDir", dir.resolve("data").toString());
    Path conf = Files.writeString(dir.resolve("node1.json"), config.encode());
    List<String> command = new ArrayList<>(List.of(NodeProcess.JAVA));
    command.addAll(jvmOptions);
    command.addAll(recording(recorded));
    command.addAll(List.of("-jar", jar.toAbsolutePath().toString(), "-conf", conf.toString()));
    Process node = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
        .redirectOutput(dir.resolve("node1.log").toFile()).start();
    try {
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
      String base = "http://127.0.0.1:" + httpPort;
      Await.until(TRAINING_TIMEOUT, "the training node ready", () -> answers(http, HttpRequest.newBuilder(URI.create(base
          + "/health/ready")).GET(), 200));
      Await.until(TRAINING_TIMEOUT, "a write to the training node", () -> answers(http, HttpRequest.newBuilder(URI.create(base
          + "/api/writes")).header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"cds\":1}")), 201));
      node.destroy(); // SIGTERM: the node stops, and the JVM writes the archive as it exits
      if (!node.waitFor(TRAINING_TIMEOUT.toSeconds(), TimeUnit.SECONDS) || !Files.exists(recorded)) {
        throw new IllegalStateException("the training node wrote no archive (its log: " + dir.resolve("node1.log") + ")");
      }
      Files.move(recorded, archive, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      node.destroyForcibly();
      node.waitFor(10, TimeUnit.SECONDS);
    }
    dev.bully.node.FileTrees.delete(dir);
  }

  private static boolean answers(HttpClient http, HttpRequest.Builder request, int status) {
    try {
      return http.send(request.timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.discarding()).statusCode() == status;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
