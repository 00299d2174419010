package dev.bully.tools.chaos;

import dev.bully.tools.chaos.History.Request;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * Concurrent clients posting unique values, each with its own Idempotency-Key: a client sends its
 * write to a random node, follows a redirect, and on 503 or a lost connection retries the same key
 * (at another node) until it is acknowledged or the run ends. Every write is recorded with its
 * start, end, and the index and term of its acknowledgement (0 when it never had one).
 */
final class Writer {
  /**
   * What the clients write: small JSON objects, or ({@code --payload mixed}) one write in ten at
   * the door's limits by default, half of them of 1 MiB ({@code api.maxWriteBytes}) and half
   * nested 64 deep ({@code api.maxDepth}).
   */
  enum Payload { SMALL, MIXED }

  static final int MAX_WRITE_BYTES = 1024 * 1024;
  static final int MAX_DEPTH = 64;
  private static final long RETRY_MS = 50;
  /** After stop, a write in flight keeps retrying this long: it may finish while the cluster heals. */
  static final long GRACE_MS = 10_000;

  private final Supplier<List<String>> nodeUrls;
  private final Payload payload;
  private final int clients;
  private final double ratePerClient;
  private final long startNs;
  private final AtomicBoolean stopped = new AtomicBoolean();
  private final List<Request> requests = Collections.synchronizedList(new ArrayList<>());
  private final List<Thread> threads = new ArrayList<>();
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofMillis(500)).build();

  Writer(Supplier<List<String>> nodeUrls, int clients, double totalRate, long startNs) {
    this(nodeUrls, clients, totalRate, startNs, Payload.SMALL);
  }

  Writer(Supplier<List<String>> nodeUrls, int clients, double totalRate, long startNs, Payload payload) {
    this.payload = payload;
    this.nodeUrls = nodeUrls;
    this.clients = clients;
    this.ratePerClient = totalRate / clients;
    this.startNs = startNs;
  }

  void start(long seed) {
    for (int c = 0; c < clients; c++) {
      int client = c;
      SplittableRandom random = new SplittableRandom(seed + c);
      Thread thread = new Thread(() -> run(client, random), "chaos-writer-" + c);
      thread.setDaemon(true);
      threads.add(thread);
      thread.start();
    }
  }

  /** Stops taking new writes; a write in flight keeps retrying for {@link #GRACE_MS}. Returns every write recorded. */
  List<Request> stop() throws InterruptedException {
    stopped.set(true);
    for (Thread thread : threads) {
      thread.join(GRACE_MS + 5_000);
    }
    synchronized (requests) {
      return List.copyOf(requests);
    }
  }

  private long nowMs() {
    return (System.nanoTime() - startNs) / 1_000_000;
  }

  private void run(int client, SplittableRandom random) {
    long pauseMs = ratePerClient > 0 ? (long) (1000 / ratePerClient) : 0;
    for (long seq = 0; !stopped.get(); seq++) {
      long started = nowMs();
      String key = "c" + client + "-" + seq;
      long[] ack = write(key, random);
      requests.add(new Request(key, started, nowMs(), ack[0], ack[1]));
      long wait = pauseMs - (nowMs() - started);
      if (wait > 0) {
        sleep(wait);
      }
    }
  }

  /** Returns {index, term} of the acknowledgement, or {0, 0} if the run ended first. */
  private long[] write(String key, SplittableRandom random) {
    String body = body(key, random);
    List<String> urls = nodeUrls.get();
    URI target = URI.create(urls.get(random.nextInt(urls.size())) + "/api/writes");
    long giveUpAt = Long.MAX_VALUE;
    while (nowMs() < giveUpAt) {
      if (stopped.get() && giveUpAt == Long.MAX_VALUE) {
        giveUpAt = nowMs() + GRACE_MS;
      }
      try {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(target)
            .header("Content-Type", "application/json").header("Idempotency-Key", key)
            .timeout(Duration.ofSeconds(5)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
            HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() == 201) {
          JsonObject answer = new JsonObject(response.body());
          return new long[] {answer.getLong("index"), answer.getLong("term")};
        }
        if (response.statusCode() == 307) {
          target = URI.create(response.headers().firstValue("Location").orElseThrow());
          continue;
        }
        if (response.statusCode() != 503) {
          throw new IllegalStateException("write " + key + " answered " + response.statusCode() + ": " + response.body());
        }
      } catch (IOException e) {
        // the node is down, paused or unreachable: try another
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return new long[] {0, 0};
      }
      sleep(RETRY_MS);
      urls = nodeUrls.get();
      target = URI.create(urls.get(random.nextInt(urls.size())) + "/api/writes");
    }
    return new long[] {0, 0};
  }

  /** A write's body: {@code {key, value}}, and with mixed payloads sometimes padded to the size or depth limit. */
  String body(String key, SplittableRandom random) {
    String small = new JsonObject().put("key", key).put("value", random.nextLong()).encode();
    int pick = payload == Payload.MIXED ? random.nextInt(20) : 2;
    if (pick == 0) {
      String head = small.substring(0, small.length() - 1) + ",\"pad\":\"";
      return head + "x".repeat(MAX_WRITE_BYTES - head.length() - 2) + "\"}";
    }
    if (pick == 1) {
      // The body's own object is depth 1; "deep" adds 63 levels of objects and arrays.
      StringBuilder deep = new StringBuilder(small.substring(0, small.length() - 1)).append(",\"deep\":");
      for (int level = 2; level < MAX_DEPTH; level++) {
        deep.append(level % 2 == 0 ? "{\"d\":" : "[");
      }
      deep.append("{}");
      for (int level = MAX_DEPTH - 1; level >= 2; level--) {
        deep.append(level % 2 == 0 ? "}" : "]");
      }
      return deep.append('}').toString();
    }
    return small;
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
