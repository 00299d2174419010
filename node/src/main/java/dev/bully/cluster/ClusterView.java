package dev.bully.cluster;

import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.HazelcastInstance;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which configured nodes the cluster manager currently sees as members. This is a hint for
 * operators and for faster failure detection, never proof that a node is alive: a paused process
 * keeps its membership until the cluster manager's own timeout.
 *
 * <p>A member's id is what it says of itself ({@code bully.nodeId}), so it is checked: a member
 * whose attribute is missing, not a number, or not an id of {@code cluster.nodes} is a stranger;
 * so is a second member claiming an id, unless it is the one at that node's configured address.
 * Strangers count for nothing and are listed for operators ({@link #strangers}); nothing here throws.
 */
public final class ClusterView {
  private final HazelcastInstance hazelcast;
  /** Each configured id's cluster-manager address, {@code host:port}. */
  private final Map<Integer, String> configured;
  private volatile Runnable onChange = () -> { };

  public ClusterView(HazelcastInstance hazelcast, Map<Integer, String> configuredAddresses) {
    this.hazelcast = hazelcast;
    this.configured = Map.copyOf(configuredAddresses);
    hazelcast.getCluster().addMembershipListener(new MembershipListener() {
      @Override
      public void memberAdded(MembershipEvent event) {
        onChange.run();
      }

      @Override
      public void memberRemoved(MembershipEvent event) {
        onChange.run();
      }
    });
  }

  /** Runs {@code listener} (on a cluster-manager thread) whenever a member joins or leaves. */
  public void onMembershipChange(Runnable listener) {
    this.onChange = listener;
  }

  /** Whether this node has joined and not left the cluster. */
  public boolean isJoined() {
    return hazelcast.getLifecycleService().isRunning();
  }

  /** The Bully ids of the current members, this node included. */
  public Set<Integer> memberIds() {
    return new TreeSet<>(sort().members.keySet());
  }

  /** The event-bus node id of the member accepted as node {@code id}, if one is. */
  public Optional<String> vertxNodeId(int id) {
    return Optional.ofNullable(sort().members.get(id))
        .map(member -> member.getAttribute(RoutedClusterManager.VERTX_NODE_ID_ATTRIBUTE));
  }

  /** Members that are not a configured node, each as {@code address: why}. */
  public List<String> strangers() {
    return sort().strangers;
  }

  private record Sorted(Map<Integer, Member> members, List<String> strangers) {
  }

  private Sorted sort() {
    Map<Integer, Member> members = new HashMap<>();
    List<String> strangers = new ArrayList<>();
    if (!isJoined()) {
      return new Sorted(members, strangers);
    }
    for (Member member : hazelcast.getCluster().getMembers()) {
      String address = address(member);
      String attribute = member.getAttribute(ClusterSetup.NODE_ID_ATTRIBUTE);
      Integer id = parse(attribute);
      if (id == null || !configured.containsKey(id)) {
        strangers.add(address + ": " + (attribute == null ? "no " + ClusterSetup.NODE_ID_ATTRIBUTE
            : ClusterSetup.NODE_ID_ATTRIBUTE + " '" + abbreviate(attribute) + "' is not an id of cluster.nodes"));
        continue;
      }
      Member earlier = members.get(id);
      if (earlier == null) {
        members.put(id, member);
      } else {
        boolean laterIsConfigured = configured.get(id).equals(address);
        Member stranger = laterIsConfigured ? earlier : member;
        if (laterIsConfigured) {
          members.put(id, member);
        }
        strangers.add(address(stranger) + ": claims node id " + id + ", which the member at " + configured.get(id) + " holds");
      }
    }
    return new Sorted(members, strangers);
  }

  private static String address(Member member) {
    return member.getAddress().getHost() + ":" + member.getAddress().getPort();
  }

  private static Integer parse(String attribute) {
    if (attribute == null || attribute.isEmpty() || attribute.length() > 10) {
      return null;
    }
    try {
      return Integer.valueOf(attribute);
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private static String abbreviate(String text) {
    return text.length() <= 40 ? text : text.substring(0, 40) + "…";
  }
}
