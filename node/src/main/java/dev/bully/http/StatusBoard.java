package dev.bully.http;

import dev.bully.election.Addresses;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What this node has heard on {@code cluster.status} and {@code cluster.events}: every node's latest
 * status with when it arrived, and the most recent protocol events. It answers
 * {@code GET /api/cluster}, so a page shows the whole cluster at once before its live subscription
 * delivers anything.
 *
 * <p>Every node listens on both addresses cluster-wide. Besides the snapshot, that keeps a
 * registration on each address, so the clustered event bus can route a publish from its cached view
 * instead of asking the cluster manager on every publish.
 */
final class StatusBoard {
  static final int RECENT_EVENTS = 200;
  private static final long RETRY_MS = 1_000;
  private static final Logger log = LoggerFactory.getLogger(StatusBoard.class);

  private final Vertx vertx;
  private final Map<Integer, JsonObject> statuses = new TreeMap<>();
  private final Map<Integer, Long> receivedAt = new TreeMap<>();
  private final Deque<JsonObject> events = new ArrayDeque<>();

  StatusBoard(Vertx vertx) {
    this.vertx = vertx;
  }

  /**
   * Subscribes to both addresses. The handlers are in place at once; their registrations in the
   * cluster manager, which other nodes' publishes look up, go on in the background, so that a start
   * does not wait on a member of the cluster manager that is slow to answer (the HTTP API serves
   * meanwhile). A registration that fails is tried again every second, with a warning each time.
   */
  void start() {
    subscribe(Addresses.STATUS, message -> {
      Integer node = message.body().getInteger("nodeId");
      if (node != null) {
        statuses.put(node, message.body());
        receivedAt.put(node, System.currentTimeMillis());
      }
    });
    subscribe(Addresses.EVENTS, message -> {
      events.addFirst(message.body());
      if (events.size() > RECENT_EVENTS) {
        events.removeLast();
      }
    });
  }

  private void subscribe(String address, Handler<Message<JsonObject>> handler) {
    MessageConsumer<JsonObject> consumer = vertx.eventBus().consumer(address, handler);
    consumer.completion().onFailure(failure -> {
      log.warn("Could not register the subscription to {} with the cluster manager ({}): this node's dashboard misses"
          + " what other nodes publish there until it is; trying again in {} ms", address, failure.toString(), RETRY_MS);
      consumer.unregister().onComplete(done -> vertx.setTimer(RETRY_MS, id -> subscribe(address, handler)));
    });
  }

  /** {@code {nodes: [status + ageMs], events: [newest first]}}. */
  JsonObject snapshot() {
    long now = System.currentTimeMillis();
    JsonArray nodes = new JsonArray();
    statuses.forEach((id, status) -> nodes.add(status.copy().put("ageMs", now - receivedAt.get(id))));
    return new JsonObject().put("nodes", nodes).put("events", new JsonArray(events.stream().toList()));
  }
}
