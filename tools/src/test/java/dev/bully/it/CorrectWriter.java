package dev.bully.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.bully.tools.Await;
import dev.bully.tools.LocalCluster;
import dev.bully.tools.NodeProcess;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A well-behaved client beside an attack: writes with unique keys to whichever node leads, retrying
 * each until it is acknowledged, and afterwards checks that every acknowledged write is on every
 * node exactly once.
 */
final class CorrectWriter implements AutoCloseable {
  private final LocalCluster cluster;
  private final String prefix;
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final List<String> acknowledged = new CopyOnWriteArrayList<>();
  private final Thread thread;

  CorrectWriter(LocalCluster cluster, String prefix) {
    this.cluster = cluster;
    this.prefix = prefix;
    this.thread = new Thread(this::run, prefix + "-writer");
    thread.start();
  }

  List<String> acknowledged() {
    return List.copyOf(acknowledged);
  }

  @Override
  public void close() throws InterruptedException {
    running.set(false);
    thread.join(Duration.ofSeconds(60).toMillis());
  }

  private void run() {
    int n = 0;
    int target = cluster.ids().get(cluster.ids().size() - 1);
    while (running.get()) {
      String key = prefix + "-" + n;
      try {
        var response = cluster.node(target).write(key, "{\"" + prefix + "\":" + n + "}");
        if (response.statusCode() == 201) {
          acknowledged.add(key);
          n++;
        } else if (response.statusCode() == 307) {
          target = new JsonObject(response.body()).getInteger("coordinatorId");
        } else {
          Thread.sleep(50); // 503: retry the same key
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (RuntimeException e) {
        // a timeout: retry the same key, which the log recognizes if it was appended
      }
    }
  }

  /** Every write this writer had acknowledged is in every node's committed log exactly once. */
  void assertEachOnEveryNodeOnce(Duration timeout) {
    NodeProcess coordinator = cluster.node(cluster.agreedCoordinator(cluster.ids()));
    long last = coordinator.status().getLong("commitIndex");
    for (int id : cluster.ids()) {
      NodeProcess node = cluster.node(id);
      Await.until(timeout, "node " + id + " has committed index " + last, () -> node.status().getLong("commitIndex") >= last);
      Map<String, Integer> copies = committedCopies(node);
      for (String key : acknowledged) {
        assertEquals(1, copies.getOrDefault(key, 0), "acknowledged write " + key + " is on node " + id + " exactly once");
      }
    }
  }

  /** How often each idempotency key occurs in the node's committed log, every page of it. */
  static Map<String, Integer> committedCopies(NodeProcess node) {
    Map<String, Integer> copies = new HashMap<>();
    Long from = 1L;
    while (from != null) {
      JsonObject page = new JsonObject(node.get("/api/writes?from=" + from + "&limit=1000").body());
      page.getJsonArray("entries").forEach(e -> {
        String key = ((JsonObject) e).getString("requestId");
        if (key != null) {
          copies.merge(key, 1, Integer::sum);
        }
      });
      from = page.getLong("next");
    }
    return copies;
  }
}
