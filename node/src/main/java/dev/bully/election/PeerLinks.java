package dev.bully.election;

import dev.bully.config.NodeConfig;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.json.JsonObject;
import java.util.HashSet;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps an event-bus connection open to every member, so that an election never waits for one.
 *
 * <p>Followers only ever talk to the coordinator. The first message from one node to another makes
 * the clustered event bus look up where the receiver lives in the cluster manager (a blocking
 * Hazelcast read) and open a connection. If the member that owns that entry is the coordinator that
 * just hung, the lookup waits until the cluster manager declares it dead (about 5 s here), and every
 * election message to that receiver waits with it. So each node reaches every member as soon as the
 * cluster manager lists it, retrying until the member answers, and then keeps the connection busy.
 */
final class PeerLinks {
  static final String KEEP_ALIVE = "KEEPALIVE";
  private static final Logger log = LoggerFactory.getLogger(PeerLinks.class);
  /** Keeps every connection in use, so that one is never found closed mid-election. */
  private static final long KEEP_ALIVE_MS = 5_000;
  private static final long PROBE_TIMEOUT_MS = 1_000;
  private static final long PROBE_RETRY_MS = 100;

  private final Vertx vertx;
  private final NodeConfig config;
  private final EventBus eventBus;
  private final JsonObject keepAlive;
  /** Members this node has exchanged a message with since they last joined. */
  private final Set<Integer> linked = new HashSet<>();
  private Set<Integer> members = Set.of();

  PeerLinks(Vertx vertx, NodeConfig config) {
    this.vertx = vertx;
    this.config = config;
    this.eventBus = vertx.eventBus();
    this.keepAlive = new JsonObject().put("type", KEEP_ALIVE).put("cluster", config.clusterName()).put("from", config.nodeId());
  }

  void start() {
    vertx.setPeriodic(KEEP_ALIVE_MS, id -> members.forEach(peer -> eventBus.send(address(peer), keepAlive)));
  }

  /** The cluster manager's members changed: reach every new one now. */
  void membersChanged(Set<Integer> current) {
    Set<Integer> peers = new HashSet<>(current);
    peers.remove(config.nodeId());
    linked.retainAll(peers);
    Set<Integer> joined = new HashSet<>(peers);
    joined.removeAll(members);
    members = Set.copyOf(peers);
    joined.forEach(peer -> probe(peer, System.nanoTime()));
  }

  static boolean isKeepAlive(Object body) {
    return body instanceof JsonObject json && KEEP_ALIVE.equals(json.getValue("type"));
  }

  /** A probe wants an answer: the reply also opens the connection back to the prober. */
  static void answer(io.vertx.core.eventbus.Message<Object> delivery) {
    if (delivery.replyAddress() != null) {
      delivery.reply(null);
    }
  }

  private void probe(int peer, long sinceNs) {
    if (!members.contains(peer) || linked.contains(peer)) {
      return;
    }
    eventBus.request(address(peer), keepAlive, new DeliveryOptions().setSendTimeout(PROBE_TIMEOUT_MS)).onComplete(reply -> {
      if (reply.succeeded()) {
        linked.add(peer);
        log.info("Node {} reached node {} over the event bus ({} ms after it joined)",
            config.nodeId(), peer, (System.nanoTime() - sinceNs) / 1_000_000);
      } else {
        // Typically its consumer is not registered yet: the member joins the cluster manager first.
        vertx.setTimer(PROBE_RETRY_MS, id -> probe(peer, sinceNs));
      }
    });
  }

  private String address(int peer) {
    return Addresses.node(config.clusterName(), peer);
  }
}
