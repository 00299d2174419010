package dev.bully.cluster;

import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.HazelcastInstance;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which configured nodes the cluster manager currently sees as members. This is a hint for
 * operators and for faster failure detection, never proof that a node is alive: a paused process
 * keeps its membership until the cluster manager's own timeout.
 */
public final class ClusterView {
  private final HazelcastInstance hazelcast;
  private volatile Runnable onChange = () -> { };

  public ClusterView(HazelcastInstance hazelcast) {
    this.hazelcast = hazelcast;
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
    Set<Integer> ids = new TreeSet<>();
    if (!isJoined()) {
      return ids;
    }
    for (Member member : hazelcast.getCluster().getMembers()) {
      String id = member.getAttribute(ClusterSetup.NODE_ID_ATTRIBUTE);
      if (id != null) {
        ids.add(Integer.parseInt(id));
      }
    }
    return ids;
  }
}
