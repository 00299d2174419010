package dev.bully.election;

import dev.bully.cluster.ClusterView;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * The protocol's clock and its failure-detection hints. Every tick it lets the election core act on
 * time: a coordinator sends its heartbeats, a follower notices a silent coordinator, deadlines of a
 * running election expire. It also relays the cluster manager's membership changes, a hint that
 * can shorten detection but never replaces the node's own heartbeats.
 */
public final class HeartbeatVerticle extends VerticleBase {
  private final ClusterView cluster;
  private final long tickMs;
  private long timerId;

  public HeartbeatVerticle(ClusterView cluster, long heartbeatMs) {
    this.cluster = cluster;
    // Several ticks per heartbeat, so heartbeats leave on time and silence is noticed within a few ms.
    this.tickMs = Math.max(1, Math.min(10, heartbeatMs / 5));
  }

  @Override
  public Future<?> start() {
    timerId = vertx.setPeriodic(tickMs, id -> vertx.eventBus().send(Addresses.TICK, null, Addresses.local()));
    cluster.onMembershipChange(this::relayMembers);
    relayMembers();
    return Future.succeededFuture();
  }

  private void relayMembers() {
    vertx.eventBus().send(Addresses.MEMBERS, new JsonObject()
        .put("members", new JsonArray(cluster.memberIds().stream().toList()))
        .put("strangers", new JsonArray(cluster.strangers())), Addresses.local());
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(timerId);
    cluster.onMembershipChange(() -> { });
    return Future.succeededFuture();
  }
}
