package dev.bully.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hazelcast.config.Config;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import java.io.IOException;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Real Hazelcast members on loopback, some of them strangers: a malformed id attribute, an id
 * outside {@code cluster.nodes}, a second claimant of a configured id at another address.
 */
class ClusterViewTest {
  private final List<HazelcastInstance> started = new ArrayList<>();
  private final String cluster = "view-" + UUID.randomUUID();

  @AfterEach
  void stopAll() {
    started.forEach(HazelcastInstance::shutdown);
  }

  @Test
  void strangersCountForNothingAndNothingThrows() throws IOException {
    int[] ports = {freePort(), freePort(), freePort(), freePort(), freePort()};
    List<String> all = new ArrayList<>();
    for (int port : ports) {
      all.add("127.0.0.1:" + port);
    }
    // Nodes 1 and 2 are configured; the others are what a stranger could be.
    Map<Integer, String> configured = Map.of(1, all.get(0), 2, all.get(1));
    HazelcastInstance node1 = member(ports[0], all, "1", "vertx-node-1");
    member(ports[1], all, "not-a-number", "vertx-rogue-a");
    member(ports[2], all, "9", "vertx-rogue-b");
    member(ports[3], all, "1", "vertx-rogue-c");
    member(ports[4], all, null, "vertx-rogue-d");
    ClusterView view = new ClusterView(node1, configured);

    assertEquals(Set.of(1), view.memberIds());
    assertEquals(Optional.of("vertx-node-1"), view.vertxNodeId(1), "the claimant at node 1's configured address");
    assertEquals(Optional.empty(), view.vertxNodeId(2));
    List<String> strangers = view.strangers();
    assertEquals(4, strangers.size(), strangers.toString());
    assertTrue(strangers.contains(all.get(1) + ": bully.nodeId 'not-a-number' is not an id of cluster.nodes"), strangers.toString());
    assertTrue(strangers.contains(all.get(2) + ": bully.nodeId '9' is not an id of cluster.nodes"), strangers.toString());
    assertTrue(strangers.contains(all.get(3) + ": claims node id 1, which the member at " + all.get(0) + " holds"), strangers.toString());
    assertTrue(strangers.contains(all.get(4) + ": no bully.nodeId"), strangers.toString());
  }

  private HazelcastInstance member(int port, List<String> all, String nodeId, String vertxNodeId) {
    Config config = new Config().setClusterName(cluster).setInstanceName(cluster + "-" + port);
    config.setProperty("hazelcast.logging.type", "slf4j");
    config.setProperty("hazelcast.phone.home.enabled", "false");
    config.setProperty("hazelcast.wait.seconds.before.join", "0");
    config.setProperty("hazelcast.partition.count", "7");
    config.setProperty("hazelcast.local.localAddress", "127.0.0.1");
    config.getNetworkConfig().setPort(port).setPortAutoIncrement(false).setPublicAddress("127.0.0.1:" + port);
    var join = config.getNetworkConfig().getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    join.getTcpIpConfig().setEnabled(true).setMembers(all);
    if (nodeId != null) {
      config.getMemberAttributeConfig().setAttribute(ClusterSetup.NODE_ID_ATTRIBUTE, nodeId);
    }
    config.getMemberAttributeConfig().setAttribute(RoutedClusterManager.VERTX_NODE_ID_ATTRIBUTE, vertxNodeId);
    HazelcastInstance instance = Hazelcast.newHazelcastInstance(config);
    started.add(instance);
    return instance;
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }
}
