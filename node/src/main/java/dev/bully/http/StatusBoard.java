package dev.bully.http;

import dev.bully.election.Addresses;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.TreeMap;

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

  private final Vertx vertx;
  private final Map<Integer, JsonObject> statuses = new TreeMap<>();
  private final Map<Integer, Long> receivedAt = new TreeMap<>();
  private final Deque<JsonObject> events = new ArrayDeque<>();

  StatusBoard(Vertx vertx) {
    this.vertx = vertx;
  }

  /** Subscribes; completes once both subscriptions are known to the cluster. */
  Future<Void> start() {
    MessageConsumer<JsonObject> status = vertx.eventBus().consumer(Addresses.STATUS, message -> {
      Integer node = message.body().getInteger("nodeId");
      if (node != null) {
        statuses.put(node, message.body());
        receivedAt.put(node, System.currentTimeMillis());
      }
    });
    MessageConsumer<JsonObject> event = vertx.eventBus().consumer(Addresses.EVENTS, message -> {
      events.addFirst(message.body());
      if (events.size() > RECENT_EVENTS) {
        events.removeLast();
      }
    });
    return Future.all(status.completion(), event.completion()).mapEmpty();
  }

  /** {@code {nodes: [status + ageMs], events: [newest first]}}. */
  JsonObject snapshot() {
    long now = System.currentTimeMillis();
    JsonArray nodes = new JsonArray();
    statuses.forEach((id, status) -> nodes.add(status.copy().put("ageMs", now - receivedAt.get(id))));
    return new JsonObject().put("nodes", nodes).put("events", new JsonArray(events.stream().toList()));
  }
}
