package dev.bully.election;

import io.vertx.core.eventbus.DeliveryOptions;

/** Event-bus addresses. Protocol traffic goes node to node; the dashboard listens on the two cluster.* ones. */
public final class Addresses {
  /** Every node's status, published cluster-wide on each change and periodically. */
  public static final String STATUS = "cluster.status";
  /** Every protocol event, published cluster-wide in transcript form. */
  public static final String EVENTS = "cluster.events";

  /** Node-local: the heartbeat verticle's clock ticks for the election verticle. */
  static final String TICK = "bully.local.tick";
  /** Node-local: the cluster manager's membership hint: {@code {members: [node ids], strangers: ["address: why"]}}. */
  static final String MEMBERS = "bully.local.members";
  /** Node-local: request/reply for this node's status, for the HTTP API. */
  public static final String LOCAL_STATUS = "bully.local.status";
  /** Node-local: client writes from the HTTP API, answered with an HTTP status and body. */
  public static final String LOCAL_WRITE = "bully.local.write";
  /**
   * Node-local: who this node believes coordinates ({@code {coordinatorId}}, null when none), published
   * on every change, so the HTTP API can redirect a write before it reads the write's body.
   */
  public static final String LOCAL_COORDINATOR = "bully.local.coordinator";
  /**
   * Node-local: a linearizable read's confirmation, answered {@code ready} with the read index
   * once a majority confirmed that this node leads, or redirect or unavailable.
   */
  public static final String LOCAL_READ_INDEX = "bully.local.readindex";
  /** Node-local: reads of committed entries for the HTTP API. */
  public static final String LOCAL_READ = "bully.local.read";
  /** Node-local: chaos commands from the admin API. */
  public static final String LOCAL_CHAOS = "bully.local.chaos";
  /** Node-local: a graceful hand-off (admin API, shut-down), answered once another node leads or with why not. */
  public static final String LOCAL_STEP_DOWN = "bully.local.stepdown";

  private Addresses() {
  }

  /**
   * Delivery options for the node-local addresses. Without local-only delivery, the clustered event
   * bus asks the cluster manager where an address lives on every send to an address that has no
   * cluster-wide consumer: a blocking Hazelcast lookup on a worker thread, which waits for as long as
   * the member owning that entry does not answer (a paused node stalls it for seconds).
   */
  public static DeliveryOptions local() {
    return new DeliveryOptions().setLocalOnly(true);
  }

  /** Where node {@code id} receives protocol messages. */
  public static String node(String cluster, int id) {
    return "bully." + cluster + ".node." + id;
  }
}
