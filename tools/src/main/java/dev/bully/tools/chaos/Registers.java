package dev.bully.tools.chaos;

import dev.bully.tools.chaos.Linearizability.Op;
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
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * The register workload: a few clients read, write and compare-and-set a few documents of
 * collection {@code registers} through random nodes, and record every operation with when it was
 * sent and answered. Reads are {@code read=linearizable} (a follower redirects them); a
 * compare-and-set reads the document, then puts a new value with {@code If-Match} its version (or
 * {@code If-None-Match: *} if there was none). Every value written is unique, so a version and a
 * value name the same write; with a prefix it is also the write's {@code Idempotency-Key}, with which a write
 * whose answer was lost, or was 503, is sent again until it is answered: its outcome is unknown only
 * when no answer came before the run's grace ran out.
 *
 * <p>Besides, each client reads with {@code read=local} from a random node: on one node, a read
 * that begins after another ended must not see an older version of the document (no node goes back
 * in time), which {@link #localViolations} checks.
 */
final class Registers {
  static final String COLLECTION = "registers";
  private static final int KEYS = 3;
  private static final int MAX_REDIRECTS = 3;
  private static final long RETRY_MS = 50;
  /**
   * Before a write's value, its Idempotency-Key: the append writers' keys look like the values here
   * ({@code c<client>-<seq>}), and a node answers a key it has seen with that entry's outcome,
   * whatever the request (a compare-and-set answered with an append's outcome read as written).
   */
  private static final String IDEMPOTENCY_PREFIX = "register-";
  /** After stop, a write without an answer keeps asking this long: it may be answered while the cluster heals. */
  private static final long GRACE_MS = 8_000;

  private final Supplier<List<String>> nodeUrls;
  private final int clients;
  private final AtomicBoolean stopped = new AtomicBoolean();
  private final List<Op> history = Collections.synchronizedList(new ArrayList<>());
  private final List<LocalRead> localReads = Collections.synchronizedList(new ArrayList<>());
  private final List<Thread> threads = new ArrayList<>();
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofMillis(500)).build();

  /** A local read: the node that answered, the document's version it saw, and when. */
  record LocalRead(String node, String key, long version, long callNs, long returnNs) {
  }

  Registers(Supplier<List<String>> nodeUrls, int clients) {
    this.nodeUrls = nodeUrls;
    this.clients = clients;
  }

  void start(long seed) {
    for (int c = 0; c < clients; c++) {
      int client = c;
      SplittableRandom random = new SplittableRandom(seed * 31 + c);
      Thread thread = new Thread(() -> run(client, random), "chaos-register-" + c);
      thread.setDaemon(true);
      threads.add(thread);
      thread.start();
    }
  }

  /** Stops the clients; returns the history of linearizable operations. */
  List<Op> stop() throws InterruptedException {
    stopped.set(true);
    for (Thread thread : threads) {
      thread.join(15_000);
    }
    synchronized (history) {
      return List.copyOf(history);
    }
  }

  List<LocalRead> localReads() {
    synchronized (localReads) {
      return List.copyOf(localReads);
    }
  }

  /** A response, or empty when the answer was lost (down, paused, cut off, timed out). */
  private record Answer(int status, JsonObject body) {
  }

  private void run(int client, SplittableRandom random) {
    for (long seq = 0; !stopped.get(); seq++) {
      String key = "r" + random.nextInt(KEYS);
      String value = "c" + client + "-" + seq;
      try {
        switch (random.nextInt(4)) {
          case 0 -> read(client, key);
          case 1 -> write(client, key, value);
          case 2 -> compareAndSet(client, key, value);
          default -> readLocal(key, random);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      sleep(5 + random.nextInt(20));
    }
  }

  /** A linearizable read; recorded only when answered (a lost read has no effect). Returns {value, version}, or null. */
  private String[] read(int client, String key) throws InterruptedException {
    long call = System.nanoTime();
    Optional<Answer> answer = send(key, "GET", "?read=linearizable", null, null);
    long ret = System.nanoTime();
    if (answer.isEmpty()) {
      return null;
    }
    int status = answer.get().status();
    if (status == 404) {
      history.add(Op.read(key, null, call, ret, client));
      return new String[] {null, null};
    }
    if (status != 200) {
      return null;
    }
    JsonObject doc = answer.get().body();
    String value = doc.getJsonObject("document").getString("value");
    history.add(Op.read(key, value, call, ret, client));
    return new String[] {value, Long.toString(doc.getLong("version"))};
  }

  private void write(int client, String key, String value) throws InterruptedException {
    long call = System.nanoTime();
    Optional<Answer> answer = sendUntilAnswered(key, new JsonObject().put("value", value).encode(), null, IDEMPOTENCY_PREFIX + value);
    long ret = System.nanoTime();
    boolean known = answer.isPresent() && answer.get().status() == 200;
    if (answer.isPresent() && answer.get().status() >= 400 && answer.get().status() < 500) {
      throw new IllegalStateException("register write answered " + answer.get().status() + ": " + answer.get().body());
    }
    history.add(Op.write(key, value, known, call, ret, client));
  }

  private void compareAndSet(int client, String key, String value) throws InterruptedException {
    String[] seen = read(client, key);
    if (seen == null) {
      return;
    }
    String[] condition = seen[1] == null ? new String[] {"If-None-Match", "*"} : new String[] {"If-Match", "\"" + seen[1] + "\""};
    long call = System.nanoTime();
    Optional<Answer> answer = sendUntilAnswered(key, new JsonObject().put("value", value).encode(), condition, IDEMPOTENCY_PREFIX + value);
    long ret = System.nanoTime();
    int status = answer.map(Answer::status).orElse(0);
    if (status == 200 || status == 412) {
      history.add(Op.cas(key, seen[0], value, status == 200, true, call, ret, client));
    } else if (status >= 400 && status < 500) {
      throw new IllegalStateException("register compare-and-set answered " + status + ": " + answer.get().body());
    } else {
      history.add(Op.cas(key, seen[0], value, false, false, call, ret, client));
    }
  }

  private void readLocal(String key, SplittableRandom random) throws InterruptedException {
    List<String> urls = nodeUrls.get();
    String node = urls.get(random.nextInt(urls.size()));
    long call = System.nanoTime();
    Optional<Answer> answer = request(URI.create(node + "/api/collections/" + COLLECTION + "/docs/" + key + "?read=local"),
        "GET", null, null);
    long ret = System.nanoTime();
    if (answer.isPresent() && (answer.get().status() == 200 || answer.get().status() == 404)) {
      long version = answer.get().status() == 200 ? answer.get().body().getLong("version") : 0;
      localReads.add(new LocalRead(node, key, version, call, ret));
    }
  }

  /**
   * A put of {@code key} with {@code Idempotency-Key: idempotencyKey}, sent again with the same key
   * (to a random node) after a lost answer or a 503, until it is answered or {@link #GRACE_MS} after
   * the run stopped: the node answers a retry with the first attempt's outcome if that one was
   * committed, so the client learns it, and the operation took effect between the first call and
   * the last answer either way. Empty if it never was answered (its outcome stays unknown).
   */
  private Optional<Answer> sendUntilAnswered(String key, String body, String[] condition, String idempotencyKey)
      throws InterruptedException {
    long giveUpAt = Long.MAX_VALUE;
    while (System.nanoTime() < giveUpAt) {
      if (stopped.get() && giveUpAt == Long.MAX_VALUE) {
        giveUpAt = System.nanoTime() + GRACE_MS * 1_000_000;
      }
      Optional<Answer> answer = send(key, "PUT", "", body, condition, idempotencyKey);
      if (answer.isPresent() && answer.get().status() != 503 && answer.get().status() != 307) {
        return answer;
      }
      Thread.sleep(RETRY_MS);
    }
    return Optional.empty();
  }

  /** One operation on {@code key} at a random node, following redirects; empty when no answer came. */
  private Optional<Answer> send(String key, String method, String query, String body, String[] condition)
      throws InterruptedException {
    return send(key, method, query, body, condition, null);
  }

  private Optional<Answer> send(String key, String method, String query, String body, String[] condition,
                                String idempotencyKey) throws InterruptedException {
    List<String> urls = nodeUrls.get();
    URI target = URI.create(urls.get((int) (System.nanoTime() % urls.size())) + "/api/collections/" + COLLECTION
        + "/docs/" + key + query);
    for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
      Optional<Answer> answer = request(target, method, body, condition, idempotencyKey);
      if (answer.isEmpty() || answer.get().status() != 307) {
        return answer;
      }
      target = URI.create(answer.get().body().getString("location"));
    }
    return Optional.empty();
  }

  private Optional<Answer> request(URI target, String method, String body, String[] condition) throws InterruptedException {
    return request(target, method, body, condition, null);
  }

  private Optional<Answer> request(URI target, String method, String body, String[] condition, String idempotencyKey)
      throws InterruptedException {
    HttpRequest.Builder request = HttpRequest.newBuilder(target).timeout(Duration.ofSeconds(3));
    if (condition != null) {
      request.header(condition[0], condition[1]);
    }
    if (idempotencyKey != null) {
      request.header("Idempotency-Key", idempotencyKey);
    }
    if (body != null) {
      request.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(body));
    } else {
      request.method(method, HttpRequest.BodyPublishers.noBody());
    }
    try {
      HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
      JsonObject json = response.body().isBlank() ? new JsonObject() : new JsonObject(response.body());
      return Optional.of(new Answer(response.statusCode(), json));
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  /**
   * Local reads that went back in time: on one node, a read that began after another of the same
   * document ended saw an older version.
   */
  static List<String> localViolations(List<LocalRead> reads) {
    List<String> violations = new ArrayList<>();
    Map<String, List<LocalRead>> byNodeAndKey = new TreeMap<>();
    reads.forEach(r -> byNodeAndKey.computeIfAbsent(r.node() + " " + r.key(), k -> new ArrayList<>()).add(r));
    for (List<LocalRead> sameDoc : byNodeAndKey.values()) {
      sameDoc.sort(java.util.Comparator.comparingLong(LocalRead::callNs));
      for (LocalRead later : sameDoc) {
        for (LocalRead earlier : sameDoc) {
          if (earlier.returnNs() < later.callNs() && earlier.version() > later.version()) {
            violations.add("node " + later.node() + " went back in time on " + later.key() + ": version " + earlier.version()
                + " read, then " + later.version());
            break;
          }
        }
      }
    }
    return violations;
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
