package dev.bully.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bully.tools.LocalCluster;
import dev.bully.tools.NodeProcess;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile HTTP clients against three real nodes while a correct writer runs: malformed and deep
 * JSON at and around every limit, bodies at and around the size limit, odd paths, methods and
 * headers, bodies that lie about their length, and admin endpoints without the token, sent over
 * raw sockets so that nothing in between tidies them up. Afterwards no request got a 5xx other
 * than a write's 503, every node is alive, every write the correct writer had acknowledged is on
 * every node exactly once, and the cluster still takes writes.
 *
 * <p>{@code -Dfuzz.requests=N} (default 2,500) and {@code -Dfuzz.seed=S} (random, printed).
 */
@ExtendWith(NodeLogsOnFailure.class)
class HttpFuzzIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(60);
  private static final int MAX_WRITE_BYTES = 1024 * 1024;
  private static final int MAX_DEPTH = 64;

  @TempDir
  Path dir;

  /** One hostile request: a name for the report and the raw bytes to send (the socket closes after). */
  private record Attack(String kind, byte[] raw) {
  }

  @Test
  void hostileRequestsGetClearAnswersAndLoseNothing() throws Exception {
    long seed = Long.getLong("fuzz.seed", new SplittableRandom().nextLong());
    int requests = Integer.getInteger("fuzz.requests", 2_500);
    System.out.println("HttpFuzzIT: seed " + seed + ", " + requests + " requests (-Dfuzz.seed=" + seed + " replays them)");
    String token = UUID.randomUUID().toString();
    JsonObject extra = new JsonObject()
        .put("chaos", new JsonObject().put("enabled", true))
        .put("admin", new JsonObject().put("token", token));
    try (LocalCluster cluster = new LocalCluster(dir, 3, extra)) {
      cluster.startAll();
      cluster.awaitCoordinator(3, cluster.ids(), TIMEOUT);

      CorrectWriter writer = new CorrectWriter(cluster, "correct");
      SplittableRandom random = new SplittableRandom(seed);
      Map<String, Map<Integer, Integer>> outcomes = new TreeMap<>();
      List<String> serverErrors = new ArrayList<>();
      long startNs = System.nanoTime();
      for (int i = 0; i < requests; i++) {
        Attack attack = attack(random, token);
        int node = 1 + random.nextInt(3);
        boolean lying = attack.kind().equals("write-lying");
        int status = send(cluster.node(node).baseUrl(), attack.raw(), lying);
        outcomes.computeIfAbsent(attack.kind(), k -> new TreeMap<>()).merge(status, 1, Integer::sum);
        boolean writeUnavailable = status == 503 && attack.kind().startsWith("write");
        if (status >= 500 && !writeUnavailable) {
          serverErrors.add(attack.kind() + " to node " + node + " got " + status);
        }
        if (status == 0 && !lying) {
          serverErrors.add(attack.kind() + " to node " + node + " got no answer");
        }
        if (attack.kind().startsWith("write-depth-")) {
          int depth = Integer.parseInt(attack.kind().substring("write-depth-".length()));
          // A follower redirects before it reads a body (307, whatever the body): only the coordinator judges it.
          boolean admitted = status == 201 || status == 503;
          if (status != 307 && admitted != (depth <= MAX_DEPTH)) {
            serverErrors.add(attack.kind() + " to node " + node + " got " + status);
          }
        }
      }
      long fuzzMs = (System.nanoTime() - startNs) / 1_000_000;
      writer.close();
      List<String> acknowledged = writer.acknowledged();
      System.out.println("HttpFuzzIT: " + requests + " requests in " + fuzzMs + " ms; status by kind " + outcomes
          + "; the correct writer had " + acknowledged.size() + " writes acknowledged");

      assertEquals(List.of(), serverErrors, "no hostile request gets a server error");
      for (int id : cluster.ids()) {
        assertTrue(cluster.node(id).isAlive(), "node " + id + " is alive");
        assertTrue(cluster.logLines(id).stream().noneMatch(line -> line.contains(" stops:") || line.contains("OutOfMemoryError")
            || line.contains("StackOverflowError")), "node " + id + " neither stopped itself nor overflowed");
      }
      assertTrue(acknowledged.size() >= 20, "the correct writer got its writes through: " + acknowledged.size());
      NodeProcess coordinator = cluster.node(cluster.agreedCoordinator(cluster.ids()));
      assertEquals(201, coordinator.write("after-fuzz", "{\"after\":true}").statusCode(), "the cluster still takes writes");
      writer.assertEachOnEveryNodeOnce(TIMEOUT);
    }
  }

  private static Attack attack(SplittableRandom random, String token) {
    List<Supplier<Attack>> kinds = List.of(
        () -> {
          int depth = depthCase(random);
          return write("write-depth-" + depth, nested(depth));
        },
        () -> write("write-size", sized(sizeCase(random))),
        () -> write("write-malformed", malformed(random)),
        () -> raw("odd-path", "GET", oddPath(random), Map.of(), new byte[0]),
        () -> raw("odd-method", List.of("PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE", "FOO").get(random.nextInt(7)),
            List.of("/api/writes", "/api/status", "/api/writes/1", "/admin/stepdown", "/").get(random.nextInt(5)), Map.of(), new byte[0]),
        () -> raw("write-header", "POST", "/api/writes", oddHeaders(random), "{\"h\":1}".getBytes(StandardCharsets.UTF_8)),
        () -> lying(random),
        () -> raw("admin-no-token", "POST", List.of("/admin/chaos/die", "/admin/chaos/isolate", "/admin/stepdown",
            "/admin/chaos/pause?ms=100000").get(random.nextInt(4)),
            random.nextBoolean() ? Map.of() : Map.of("Authorization", "Bearer " + token.substring(1)), new byte[0]),
        () -> raw("read-params", "GET", "/api/writes?" + List.of("from=-1", "limit=0", "limit=99999999999999999999", "from=1e3",
            "from=%00", "limit=1000&from=9223372036854775807", "from=1&from=2").get(random.nextInt(7)), Map.of(), new byte[0]),
        () -> raw("sockjs", "POST", "/eventbus/000/" + random.nextInt(1000) + "/xhr_send", Map.of(), garbage(random, 64)));
    return kinds.get(random.nextInt(kinds.size())).get();
  }

  private static int depthCase(SplittableRandom random) {
    return List.of(MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1, MAX_DEPTH * 20).get(random.nextInt(4));
  }

  private static int sizeCase(SplittableRandom random) {
    return List.of(MAX_WRITE_BYTES - 1, MAX_WRITE_BYTES, MAX_WRITE_BYTES + 1, 2 * MAX_WRITE_BYTES, 100).get(random.nextInt(5));
  }

  private static byte[] nested(int depth) {
    return ("{\"a\":".repeat(depth - 1) + "{}" + "}".repeat(depth - 1)).getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] sized(int bytes) {
    String head = "{\"s\":\"";
    return (head + "x".repeat(bytes - head.length() - 2) + "\"}").getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] malformed(SplittableRandom random) {
    String valid = "{\"a\":[1,2,{\"b\":\"c\"}],\"d\":1.5e3,\"e\":\"\\u00e9\"}";
    return switch (random.nextInt(6)) {
      case 0 -> valid.substring(0, random.nextInt(valid.length())).getBytes(StandardCharsets.UTF_8);
      case 1 -> garbage(random, 1 + random.nextInt(200));
      case 2 -> "{\"a\":1,\"a\":2}".getBytes(StandardCharsets.UTF_8);
      case 3 -> "{\"a\":NaN,\"b\":Infinity}".getBytes(StandardCharsets.UTF_8);
      case 4 -> (valid + valid).getBytes(StandardCharsets.UTF_8);
      default -> ("[" + "[".repeat(5000)).getBytes(StandardCharsets.UTF_8);
    };
  }

  private static byte[] garbage(SplittableRandom random, int length) {
    byte[] bytes = new byte[length];
    for (int i = 0; i < length; i++) {
      bytes[i] = (byte) random.nextInt(256);
    }
    return bytes;
  }

  private static String oddPath(SplittableRandom random) {
    return List.of("/api/writes/../../etc/passwd", "/api/writes/-1", "/api/writes/abc", "/api/writes/99999999999999999999",
        "/%00", "/api/%2e%2e/status", "/" + "a".repeat(9000), "/api/writes/1?x=" + "%".repeat(10), "/eventbus/x",
        "/vendor/sockjs/../../../pom.xml", "//api//status").get(random.nextInt(11));
  }

  private static Map<String, String> oddHeaders(SplittableRandom random) {
    return switch (random.nextInt(5)) {
      case 0 -> Map.of("Content-Type", "text/plain");
      case 1 -> Map.of("Content-Type", "application/json", "Idempotency-Key", "k".repeat(300));
      case 2 -> Map.of("Content-Type", "application/json", "Idempotency-Key", " ");
      case 3 -> Map.of("Content-Type", "application/json", "X-Big", "v".repeat(10_000));
      default -> Map.of("Content-Type", "application/json; charset=utf-16");
    };
  }

  private static Attack write(String kind, byte[] body) {
    return raw(kind, "POST", "/api/writes", Map.of("Content-Type", "application/json"), body);
  }

  private static Attack raw(String kind, String method, String path, Map<String, String> headers, byte[] body) {
    StringBuilder head = new StringBuilder(method).append(' ').append(path).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    headers.forEach((name, value) -> head.append(name).append(": ").append(value).append("\r\n"));
    head.append("Content-Length: ").append(body.length).append("\r\n\r\n");
    return new Attack(kind, concat(head.toString().getBytes(StandardCharsets.ISO_8859_1), body));
  }

  /** A body that lies: a chunk shorter than declared, a Content-Length longer than what follows, or chunks that never end. */
  private static Attack lying(SplittableRandom random) {
    String head = "POST /api/writes HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\n";
    String rest = switch (random.nextInt(4)) {
      case 0 -> "Transfer-Encoding: chunked\r\n\r\n10\r\n{\"a\":1}\r\n";
      case 1 -> "Content-Length: 1000\r\n\r\n{\"a\":1}";
      case 2 -> "Transfer-Encoding: chunked\r\n\r\nfffffff\r\n{\"a\":";
      default -> "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n7\r\n{\"a\":1}\r\n0\r\n\r\n";
    };
    return new Attack("write-lying", (head + rest).getBytes(StandardCharsets.ISO_8859_1));
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] all = new byte[a.length + b.length];
    System.arraycopy(a, 0, all, 0, a.length);
    System.arraycopy(b, 0, all, a.length, b.length);
    return all;
  }

  /**
   * Sends the raw request and returns the status code (0: no answer in time, or the connection
   * closed). A lying body is followed by the end of the connection's output, as a client that
   * gives up does.
   */
  private static int send(String baseUrl, byte[] raw, boolean halfClose) {
    java.net.URI uri = java.net.URI.create(baseUrl);
    try (Socket socket = new Socket(uri.getHost(), uri.getPort())) {
      socket.setSoTimeout(halfClose ? 2_000 : 15_000);
      OutputStream out = socket.getOutputStream();
      try {
        out.write(raw);
        out.flush();
        if (halfClose) {
          socket.shutdownOutput();
        }
      } catch (IOException e) {
        // the server answered and closed before the whole body was sent (413): read what it said
      }
      InputStream in = socket.getInputStream();
      ByteArrayOutputStream line = new ByteArrayOutputStream();
      int b;
      while ((b = in.read()) >= 0 && b != '\n') {
        line.write(b);
      }
      String status = line.toString(StandardCharsets.ISO_8859_1);
      return status.startsWith("HTTP/1.") && status.length() >= 12 ? Integer.parseInt(status.substring(9, 12)) : 0;
    } catch (SocketTimeoutException e) {
      return 0;
    } catch (IOException e) {
      return 0;
    }
  }
}
