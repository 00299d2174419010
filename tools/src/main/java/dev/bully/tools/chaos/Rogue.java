package dev.bully.tools.chaos;

import com.hazelcast.config.Config;
import dev.bully.cluster.ClusterSetup;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.spi.cluster.RegistrationInfo;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An attacker on the cluster's network, as issue 14 describes it: a plain clustered Vert.x program
 * (not the node's code) that joins the cluster manager with the cluster's name, which {@code
 * /api/status} tells anyone, and speaks the protocol's JSON to {@code bully.<cluster>.node.<id>}
 * without the cluster secret. It is a tool ({@code RogueIT}, and the chaos run's {@code forge} fault),
 * never in the node's jar.
 */
public final class Rogue implements AutoCloseable {
  /** Every forged message carries this, so nothing of the rogue's can pass unnoticed in a log. */
  public static final String MARK = "rogue-forgery";
  /** The sequence number of the subscriptions the rogue writes for nodes: any will do, one per node id. */
  private static final long ROUTE_SEQUENCE = 7_777;

  private final Vertx vertx;
  private final HazelcastClusterManager clusterManager;
  private final String cluster;
  private final List<MessageConsumer<Object>> consumers = new ArrayList<>();
  private final AtomicLong stolen = new AtomicLong();
  private final SplittableRandom random = new SplittableRandom();
  /** For each node, the event-bus node id its subscription was written for ({@link #routeTo}). */
  private final Map<Integer, String> routes = new ConcurrentHashMap<>();

  private Rogue(Vertx vertx, HazelcastClusterManager clusterManager, String cluster) {
    this.vertx = vertx;
    this.clusterManager = clusterManager;
    this.cluster = cluster;
  }

  /** Joins the cluster that node configuration {@code nodeConfig} belongs to, with {@code bully.nodeId} = {@code claimedId}. */
  public static Rogue join(Path nodeConfig, String claimedId) throws Exception {
    JsonObject json = new JsonObject(Files.readString(nodeConfig));
    JsonObject clusterJson = json.getJsonObject("cluster");
    String name = clusterJson.getString("name");
    List<String> members = new ArrayList<>();
    for (Object node : clusterJson.getJsonArray("nodes")) {
      JsonObject member = (JsonObject) node;
      members.add(member.getString("host") + ":" + member.getInteger("clusterPort"));
    }
    int port = freePort();
    Config hazelcast = ClusterSetup.vertxDefaults(new Config()).setClusterName(name).setInstanceName("rogue-" + port);
    hazelcast.setProperty("hazelcast.logging.type", "slf4j");
    hazelcast.setProperty("hazelcast.phone.home.enabled", "false");
    hazelcast.setProperty("hazelcast.wait.seconds.before.join", "0");
    hazelcast.setProperty("hazelcast.partition.count", "17"); // the nodes' own, or Hazelcast refuses the join
    hazelcast.setProperty("hazelcast.local.localAddress", "127.0.0.1");
    hazelcast.getNetworkConfig().setPort(port).setPortAutoIncrement(false).setPublicAddress("127.0.0.1:" + port);
    var join = hazelcast.getNetworkConfig().getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    join.getTcpIpConfig().setEnabled(true).setMembers(members);
    hazelcast.getMemberAttributeConfig().setAttribute("bully.nodeId", claimedId);
    // A lite member: it owns no partition of the cluster manager's maps. As a data member it once (a chaos run in CI)
    // held a partition that stayed "migrating" for Hazelcast's two minutes of retries while nodes were killed and
    // restarted at the same addresses, and every node that restarted meanwhile waited on it to register its consumers,
    // and gave up. What the rogue is for, forged and stolen protocol messages, needs no partition.
    hazelcast.setLiteMember(true);
    HazelcastClusterManager clusterManager = new HazelcastClusterManager(hazelcast);
    Vertx vertx = Vertx.builder()
        .with(new io.vertx.core.VertxOptions().setEventBusOptions(new EventBusOptions().setHost("127.0.0.1").setPort(0)))
        .withClusterManager(clusterManager)
        .buildClustered()
        .toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    return new Rogue(vertx, clusterManager, name);
  }

  private String address(int node) {
    return "bully." + cluster + ".node." + node;
  }

  /**
   * Registers a consumer on node {@code node}'s protocol address, counting what it steals: every
   * message but the rogue's own forgeries, which its own event bus may hand to it.
   */
  public void steal(int node) throws Exception {
    MessageConsumer<Object> consumer = vertx.eventBus().consumer(address(node), message -> {
      if (!isForgery(message.body())) {
        stolen.incrementAndGet();
      }
    });
    consumer.completion().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    consumers.add(consumer);
  }

  private static boolean isForgery(Object body) {
    return body instanceof JsonObject json ? MARK.equals(json.getValue("note"))
        : body instanceof Buffer buffer && buffer.toString(java.nio.charset.StandardCharsets.ISO_8859_1).contains(MARK);
  }

  public long stolen() {
    return stolen.get();
  }

  public void stopStealing() throws Exception {
    for (MessageConsumer<Object> consumer : consumers) {
      consumer.unregister().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
    consumers.clear();
  }

  /** Whether the cluster manager lists a member that says it is node {@code node}. */
  public boolean sees(int node) {
    return member(node).isPresent();
  }

  /**
   * Removes node {@code node}'s event-bus address from Vert.x's map in the cluster manager, as any
   * member may: a node that has not reached it yet then finds no way to it, until it is put back.
   */
  public void forgetAddressOf(int node) {
    String vertxNodeId = member(node).orElseThrow(() -> new IllegalStateException("no member is node " + node))
        .getAttribute("__vertx.nodeId");
    clusterManager.getHazelcastInstance().getMap("__vertx.nodeInfo").remove(vertxNodeId);
  }

  /** A subscription of node {@code node}'s member on its protocol address, written once for each member that is node {@code node}. */
  private void routeTo(int node) {
    java.util.Optional<String> vertxNodeId = member(node).map(member -> member.getAttribute("__vertx.nodeId"));
    if (vertxNodeId.isEmpty() || vertxNodeId.get().equals(routes.get(node))) {
      return;
    }
    Promise<Void> added = Promise.promise();
    clusterManager.addRegistration(address(node), new RegistrationInfo(vertxNodeId.get(), ROUTE_SEQUENCE, false), added);
    try {
      added.future().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      routes.put(node, vertxNodeId.get());
    } catch (Exception e) {
      // no way to that node this time; the next send tries again
    }
  }

  /** Another member that says it is node {@code node}: never this rogue, which may claim the same id. */
  private java.util.Optional<com.hazelcast.cluster.Member> member(int node) {
    return clusterManager.getHazelcastInstance().getCluster().getMembers().stream()
        .filter(member -> !member.localMember() && String.valueOf(node).equals(member.getAttribute("bully.nodeId"))).findFirst();
  }

  /**
   * Sends {@code message} to node {@code node} twice: as plain JSON, and as a buffer with a made-up
   * MAC. A node keeps its protocol consumer out of the cluster manager's subscriptions, so first the
   * rogue writes one there itself, as any member may, pointing at node {@code node}'s member: its
   * own event bus then finds the way.
   */
  public void send(int node, JsonObject message) {
    routeTo(node);
    message.put("cluster", cluster).put("note", MARK);
    vertx.eventBus().send(address(node), message.copy());
    byte[] mac = new byte[32];
    random.nextBytes(mac);
    vertx.eventBus().send(address(node), Buffer.buffer(mac).appendBuffer(message.toBuffer()));
  }

  /** A claim to lead {@code term} from {@code from}. */
  public static JsonObject claim(int from, long term) {
    return new JsonObject().put("type", "COORDINATOR").put("from", from).put("term", term)
        .put("lastTerm", term).put("lastIndex", 1_000_000).put("preVote", false).put("takeover", false);
  }

  /** An APPEND of {@code count} fake entries after {@code prevIndex}, as coordinator {@code from} of {@code term}. */
  public static JsonObject append(int from, long term, long prevIndex, long prevTerm, int count, long commitIndex) {
    List<dev.bully.core.LogEntry> entries = new ArrayList<>();
    for (int i = 1; i <= count; i++) {
      entries.add(new dev.bully.core.LogEntry(prevIndex + i, term, MARK + "-" + (prevIndex + i), "{\"fake\":true}", 0));
    }
    return new JsonObject().put("type", "APPEND").put("from", from).put("term", term)
        .put("prevIndex", prevIndex).put("prevTerm", prevTerm).put("commitIndex", commitIndex)
        .put("entries", dev.bully.store.EntryCodec.encode(entries));
  }

  @Override
  public void close() throws Exception {
    // Gone at once, as a killed rogue would be: a clean leave unregisters its consumers in the cluster manager's
    // maps first, which under a chaos run's kills can retry for minutes.
    clusterManager.getHazelcastInstance().getLifecycleService().terminate();
    try {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      // its cluster manager is gone already; nothing of it is left running that matters
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }
}
