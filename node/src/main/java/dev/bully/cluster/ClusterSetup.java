package dev.bully.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.MultiMapConfig.ValueCollectionType;
import com.hazelcast.config.NetworkConfig;
import dev.bully.config.TlsFiles;
import dev.bully.config.NodeConfig;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * Builds the Hazelcast and Vert.x options of a node from its configuration.
 *
 * <p>Membership is static and explicit: TCP-IP join to the configured members only, no multicast
 * and no auto-detection, bound to the configured interface (loopback by default), and the cluster
 * name keeping one cluster's members out of another's. Hazelcast's own failure detection is tuned
 * to notice a hung member within seconds and to merge a healed partition within seconds, but the
 * election never relies on it: the node's own heartbeats decide.
 */
public final class ClusterSetup {
  private static final int JOIN_QUESTION_SECONDS = 1;
  /**
   * How long the event bus waits for a peer to accept a connection before it drops what waited and
   * tries again with its next message (Vert.x's default: 60 s). A lost connection request (to a peer
   * cut off, or one that has just healed) is retried by TCP only after 1 s, 3 s, 7 s...; a fresh
   * attempt every 250 ms reaches a healed peer within a quarter of a second. Peers are on one
   * network: the election's own failure timeout (150 ms) assumes answers within milliseconds.
   */
  private static final int EVENT_BUS_CONNECT_TIMEOUT_MS = 250;
  /**
   * How often the event bus pings a peer over an open connection, and how long it waits for the
   * answer before it closes the connection and opens a new one (Vert.x's default: 20 s and 20 s).
   * Messages sent while a peer was cut off wait in TCP's retransmission back-off, which doubles up
   * to two minutes: after a heal the connection stayed silent for up to as long again as the cut
   * lasted (docs/benchmarks.md, "rejoin").
   */
  private static final long EVENT_BUS_PING_MS = 500;
  /**
   * How long what this node sent over an event-bus connection may stay unacknowledged before the
   * kernel drops the connection (TCP_USER_TIMEOUT; with Linux's epoll transport only). A connection
   * to a peer that was cut off otherwise keeps its messages in TCP's retransmission back-off, and
   * Vert.x, asked to close it when a ping goes unanswered, first waits for them to be written.
   */
  private static final int EVENT_BUS_TCP_USER_TIMEOUT_MS = 1_000;

  /** The Hazelcast member attribute that carries the Bully node id. */
  public static final String NODE_ID_ATTRIBUTE = "bully.nodeId";
  /** Vert.x's map of node id to event-bus address (declared in its default-cluster.xml). */
  private static final String NODE_INFO_MAP = "__vertx.nodeInfo";
  /** Vert.x's multimap of event-bus subscriptions (declared in its default-cluster.xml). */
  private static final String SUBSCRIPTIONS_MULTIMAP = "__vertx.subs";
  private static final int PARTITIONS = 17;
  /** Hazelcast's limit on a map's synchronous plus asynchronous backups. */
  private static final int MAX_BACKUPS = 6;

  private ClusterSetup() {
  }

  public static Config hazelcastConfig(NodeConfig config) {
    // Built here rather than read from Vert.x's default-cluster.xml (ConfigUtil.loadConfig): parsing and validating
    // that XML against Hazelcast's schema cost a start about a second of CPU, measured here, for three settings.
    Config hazelcast = vertxDefaults(new Config());
    hazelcast.setClusterName(config.clusterName());
    hazelcast.setInstanceName("bully-" + config.clusterName() + "-" + config.nodeId());
    hazelcast.setProperty("hazelcast.logging.type", "slf4j");
    hazelcast.setProperty("hazelcast.phone.home.enabled", "false");
    // Hazelcast's own metrics (for its Management Center, which no node uses) are collected every 5 s on every
    // member: thousands of probes, and compiled code, for nothing. The node's metrics are Micrometer's (/metrics).
    hazelcast.getMetricsConfig().setEnabled(false);
    // The node leaves the cluster itself on SIGTERM, after its verticles stopped.
    hazelcast.setProperty("hazelcast.shutdownhook.enabled", "false");
    // Members are listed explicitly, so there is nothing to wait for before joining.
    hazelcast.setProperty("hazelcast.wait.seconds.before.join", "0");
    hazelcast.setProperty("hazelcast.heartbeat.interval.seconds", "1");
    hazelcast.setProperty("hazelcast.max.no.heartbeat.seconds", "5");
    // An operation on the cluster manager's maps whose answer never comes is tried again after this long, not after
    // the default 60 s. Once, right after three nodes joined together, a node's lookup of a peer's event-bus address
    // seemed to hang this way: every message to that peer queued behind it for a minute (docs/testing.md).
    hazelcast.setProperty("hazelcast.operation.call.timeout.millis", "10000");
    // A member that was cut off or paused rejoins within seconds of healing, not minutes.
    hazelcast.setProperty("hazelcast.merge.first.run.delay.seconds", "5");
    hazelcast.setProperty("hazelcast.merge.next.run.delay.seconds", "5");
    // The cluster manager holds a few small maps (event-bus subscriptions, node addresses). Its default of 271
    // partitions makes every join and leave migrate hundreds of them, seconds of CPU that starve the heartbeats.
    hazelcast.setProperty("hazelcast.partition.count", Integer.toString(PARTITIONS));
    hazelcast.getMemberAttributeConfig().setAttribute(NODE_ID_ATTRIBUTE, Integer.toString(config.nodeId()));
    replicateNodeInfo(hazelcast, config.members().size());

    NetworkConfig network = hazelcast.getNetworkConfig();
    network.setPort(config.clusterPort()).setPortAutoIncrement(false);
    network.setPublicAddress(config.clusterPublicHost() + ":" + config.clusterPort());
    if (isWildcard(config.clusterHost())) {
      hazelcast.setProperty("hazelcast.socket.bind.any", "true");
    } else {
      hazelcast.setProperty("hazelcast.socket.bind.any", "false");
      // The address itself, not an interface pattern: an address such as 127.0.0.11 belongs to no interface's
      // list, though the loopback interface serves all of 127.0.0.0/8.
      hazelcast.setProperty("hazelcast.local.localAddress", ipAddress(config.clusterHost()));
    }
    JoinConfig join = network.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    // A joining member asks the listed members for a master for this long before it claims mastership itself. When
    // every member starts at once (a whole cluster restarted), none has a master to name, so each waited the default
    // 5 s for nothing. The members are listed explicitly and reachable directly: one second is plenty to hear back.
    join.getTcpIpConfig().setEnabled(true).setMembers(config.joinMembers()).setConnectionTimeoutSeconds(JOIN_QUESTION_SECONDS);
    return hazelcast;
  }

  /**
   * What Vert.x's {@code default-cluster.xml} declares: its subscriptions as a multimap of sets,
   * and one backup of each of its maps.
   */
  public static Config vertxDefaults(Config hazelcast) {
    hazelcast.getMultiMapConfig(SUBSCRIPTIONS_MULTIMAP).setBackupCount(1).setValueCollectionType(ValueCollectionType.SET);
    hazelcast.getMapConfig("__vertx.haInfo").setBackupCount(1);
    hazelcast.getMapConfig(NODE_INFO_MAP).setBackupCount(1);
    return hazelcast;
  }

  /**
   * Every member keeps a copy of where each node's event bus listens, and reads its own copy. The
   * event bus reads that entry whenever it opens a connection; read from the entry's owner, it
   * waits as long as the owner is hung, and a hung coordinator owns a share of the entries.
   */
  private static void replicateNodeInfo(Config hazelcast, int nodes) {
    int copies = Math.min(MAX_BACKUPS, nodes - 1);
    hazelcast.getMapConfig(NODE_INFO_MAP)
        .setBackupCount(Math.min(1, copies))
        .setAsyncBackupCount(Math.max(0, copies - 1))
        .setReadBackupData(true);
  }

  public static VertxOptions vertxOptions(NodeConfig config) {
    EventBusOptions eventBus = new EventBusOptions()
        .setHost(config.eventBusHost())
        .setPort(config.eventBusPort())
        .setClusterPublicHost(config.eventBusPublicHost())
        .setConnectTimeout(EVENT_BUS_CONNECT_TIMEOUT_MS)
        .setClusterPingInterval(EVENT_BUS_PING_MS)
        .setClusterPingReplyInterval(EVENT_BUS_PING_MS)
        .setTcpUserTimeout(EVENT_BUS_TCP_USER_TIMEOUT_MS);
    config.eventBusTls().ifPresent(tls -> secure(eventBus, tls));
    return new VertxOptions().setEventBusOptions(eventBus).setPreferNativeTransport(true);
  }

  /**
   * Mutual TLS between event-bus peers: each side presents its certificate and requires the
   * other's, trusting only what the configured trust material vouches for. A node without such a
   * certificate can neither send to the others nor be reached by them.
   */
  private static void secure(EventBusOptions eventBus, TlsFiles tls) {
    eventBus.setSsl(true).setClientAuth(ClientAuth.REQUIRED)
        .setKeyCertOptions(tls.keyCertOptions())
        .setTrustOptions(tls.trustOptions());
  }

  private static boolean isWildcard(String host) {
    return host.equals("0.0.0.0") || host.equals("::");
  }

  /** Hazelcast interfaces are IP patterns, so a host name is resolved once here. */
  private static String ipAddress(String host) {
    try {
      return InetAddress.getByName(host).getHostAddress();
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("cannot resolve clusterManager.host '" + host + "'", e);
    }
  }
}
