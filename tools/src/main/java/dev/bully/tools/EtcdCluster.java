package dev.bully.tools;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * Three etcd members (Debian {@code etcd-server}, its defaults: it fsyncs its WAL) on free loopback
 * ports under {@code dir}, for the benchmarks that compare with it; closing stops them by PID and
 * removes their data (their logs stay).
 */
final class EtcdCluster implements AutoCloseable {
  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

  private final Path dir;
  private final List<Integer> ports = LocalCluster.freePorts(6);
  private final List<Process> members = new ArrayList<>();
  private final HttpClient http = HttpClient.newHttpClient();

  EtcdCluster(Path dir) throws IOException {
    this.dir = Files.createDirectories(dir);
    String cluster = String.join(",", List.of(1, 2, 3).stream()
        .map(i -> "n" + i + "=http://127.0.0.1:" + ports.get(2 + i)).toList());
    for (int i = 1; i <= 3; i++) {
      String client = clientUrl(i);
      String peer = "http://127.0.0.1:" + ports.get(2 + i);
      members.add(new ProcessBuilder("etcd", "--name", "n" + i, "--data-dir", dir.resolve("n" + i + ".data").toString(),
          "--listen-client-urls", client, "--advertise-client-urls", client, "--listen-peer-urls", peer,
          "--initial-advertise-peer-urls", peer, "--initial-cluster", cluster, "--initial-cluster-state", "new",
          "--initial-cluster-token", "bench").redirectErrorStream(true).redirectOutput(dir.resolve("n" + i + ".log").toFile()).start());
    }
  }

  static boolean installed() {
    try {
      return new ProcessBuilder("etcd", "--version").redirectErrorStream(true).start().waitFor() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  String clientUrl(int member) {
    return "http://127.0.0.1:" + ports.get(member - 1);
  }

  /** The member (1..3) that leads, once one does. */
  int awaitLeader() throws InterruptedException {
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      int leader = leader();
      if (leader != 0) {
        return leader;
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException("no etcd leader within " + START_TIMEOUT.toSeconds() + " s");
  }

  /** The member (1..3) that leads, or 0 while none does. */
  int leader() {
    for (int i = 1; i <= 3; i++) {
      try {
        HttpResponse<String> status = http.send(HttpRequest.newBuilder(URI.create(clientUrl(i) + "/v3/maintenance/status"))
            .POST(HttpRequest.BodyPublishers.ofString("{}")).timeout(Duration.ofSeconds(1)).build(), HttpResponse.BodyHandlers.ofString());
        JsonObject json = new JsonObject(status.body());
        String leader = json.getString("leader");
        if (leader != null && leader.equals(json.getJsonObject("header").getString("member_id"))) {
          return i;
        }
      } catch (IOException | RuntimeException e) {
        // not up yet
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return 0;
      }
    }
    return 0;
  }

  /** The body of a put of {@code bytes} bytes to {@code key} ({@code /v3/kv/put}). */
  static String putBody(String key, int bytes) {
    return new JsonObject().put("key", base64(key)).put("value", base64("x".repeat(bytes))).encode();
  }

  /** The body of a range read of {@code key} ({@code /v3/kv/range}); {@code serializable}: the member's own state, no read index. */
  static String rangeBody(String key, boolean serializable) {
    JsonObject body = new JsonObject().put("key", base64(key));
    return (serializable ? body.put("serializable", true) : body).encode();
  }

  private static String base64(String text) {
    return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
  }

  static String version() throws IOException {
    return new String(new ProcessBuilder("etcd", "--version").redirectErrorStream(true).start().getInputStream().readAllBytes(),
        StandardCharsets.UTF_8).lines().findFirst().orElse("?");
  }

  @Override
  public void close() throws IOException, InterruptedException {
    for (Process member : members) {
      member.destroyForcibly();
    }
    for (Process member : members) {
      member.waitFor();
    }
    for (int i = 1; i <= 3; i++) {
      Path data = dir.resolve("n" + i + ".data");
      if (Files.exists(data)) {
        dev.bully.node.FileTrees.delete(data);
      }
    }
  }
}
