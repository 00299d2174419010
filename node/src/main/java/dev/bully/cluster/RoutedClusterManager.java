package dev.bully.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.core.EntryView;
import io.vertx.core.Completable;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.spi.cluster.NodeInfo;
import io.vertx.core.spi.cluster.RegistrationInfo;
import io.vertx.core.spi.cluster.RegistrationListener;
import io.vertx.core.spi.cluster.RegistrationUpdateEvent;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import io.vertx.spi.cluster.hazelcast.impl.HazelcastNodeInfo;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Hazelcast cluster manager, except that a protocol address reaches only its own node. The
 * clustered event bus sends a message to one of the consumers registered on its address, round
 * robin, and any member may register a consumer on any address: a stranger that registered on
 * {@code bully.<cluster>.node.<N>} would receive every other message meant for node N, and node N
 * would miss them. Here the registrations of {@code bully.<cluster>.node.<N>} that the event bus
 * sees are only those of the member that {@link ClusterView} accepts as node N (its id attribute,
 * and its configured address when two claim the id), so the event bus never picks another.
 *
 * <p>What a member of the cluster manager can still do is in docs/operations.md ("What a cluster
 * member can do"): Hazelcast's open-source edition authenticates no member, so one can rewrite its
 * maps and deny service; it cannot forge a protocol message without the cluster secret.
 */
public final class RoutedClusterManager extends HazelcastClusterManager {
  /** Vert.x's own member attribute: the event-bus node id of a member. */
  static final String VERTX_NODE_ID_ATTRIBUTE = "__vertx.nodeId";
  /** Vert.x's map of each member's event-bus address. */
  static final String NODE_INFO_MAP = "__vertx.nodeInfo";
  private static final Logger log = LoggerFactory.getLogger(RoutedClusterManager.class);
  /** How long the event bus waits to learn where a peer listens before it tries again (PeerAddresses). */
  private static final long ADDRESS_LOOKUP_BOUND_MS = 1_000;

  /** {@code bully.<cluster>.node.}: a protocol address is this and the node's id. */
  private final String protocolPrefix;
  private final Pattern protocolAddress;
  private final Map<Integer, String> configuredAddresses;
  private volatile ClusterView view;
  /** The event bus's listener, which keeps what it learnt of each address until told otherwise. */
  private volatile RegistrationListener eventBus;
  private final PeerAddresses peerAddresses = new PeerAddresses(ADDRESS_LOOKUP_BOUND_MS);
  /** Each node's event-bus node id as last accepted from the member list ({@link #registrationsOf}). */
  private final Map<Integer, String> lastRoutes = new ConcurrentHashMap<>();
  private Vertx vertx;

  public RoutedClusterManager(Config hazelcast, String clusterName, Map<Integer, String> configuredAddresses) {
    super(hazelcast);
    this.protocolPrefix = "bully." + clusterName + ".node.";
    this.protocolAddress = Pattern.compile(Pattern.quote(protocolPrefix) + "(\\d{1,9})");
    this.configuredAddresses = Map.copyOf(configuredAddresses);
  }

  @Override
  public void init(Vertx vertx) {
    this.vertx = vertx;
    super.init(vertx);
  }

  @Override
  public void join(Completable<Void> promise) {
    super.join((nothing, failure) -> {
      if (failure != null) {
        promise.fail(failure);
        return;
      }
      // Registering a listener waits for every member's answer: not on an event loop.
      vertx.<Void>executeBlocking(() -> {
        peerAddresses.follow(getHazelcastInstance().getMap(NODE_INFO_MAP));
        return null;
      }, false).onComplete(promise);
    });
  }

  /** Where a peer's event bus listens, within a bounded time: see {@link PeerAddresses}. */
  @Override
  public void getNodeInfo(String nodeId, Completable<NodeInfo> promise) {
    peerAddresses.lookUp(vertx, nodeId, id -> {
      Promise<NodeInfo> read = Promise.promise();
      super.getNodeInfo(id, read);
      return read.future();
    }, promise);
  }

  /** The members the cluster manager sees, as configured nodes and strangers; once joined. */
  public ClusterView view() {
    ClusterView current = view;
    if (current == null) {
      synchronized (this) {
        if (view == null) {
          view = new ClusterView(getHazelcastInstance(), configuredAddresses);
          getHazelcastInstance().getCluster().addMembershipListener(new com.hazelcast.cluster.MembershipListener() {
            @Override
            public void memberAdded(com.hazelcast.cluster.MembershipEvent event) {
              announceRoutes();
            }

            @Override
            public void memberRemoved(com.hazelcast.cluster.MembershipEvent event) {
              announceRoutes();
            }
          });
        }
        current = view;
      }
    }
    return current;
  }

  /**
   * Tells the event bus where every node's protocol address leads now that the members changed. The
   * event bus looks an address up once and then follows the updates of its registrations; a node's
   * consumer can register (an update, answered from the member list) before this member has seen
   * that node join, and the event bus then kept "nowhere" for that node until its registrations
   * changed again, which they need not: a restarted node could hear every other node and reach none.
   */
  private void announceRoutes() {
    RegistrationListener listener = eventBus;
    if (listener == null) {
      return;
    }
    for (int id : configuredAddresses.keySet()) {
      String address = protocolPrefix + id;
      if (listener.wantsUpdatesFor(address)) {
        listener.registrationsUpdated(new RegistrationUpdateEvent(address, registrationsOf(id)));
      }
    }
  }

  /**
   * Keeps this node's event-bus address in the cluster manager's map, checking every
   * {@code everyMs} and putting it back when it is missing or not this node's.
   *
   * <p>Another node opens a connection to this one from that map alone, and Vert.x puts the entry
   * there only when this node joins, after a merge, and when it sees a member leave. Every member
   * that sees this node leave removes it: one that sees the leave late (a member that was paused or
   * busy while a healed partition merged and this node had put its entry back) removes it for good,
   * and any member of the cluster manager may remove or rewrite it (docs/operations.md). No node
   * could then open a connection to this one: it would hear the others while none heard it, and
   * could neither lead nor vote until it restarted. The check asks the entry's owner: this member's
   * own copy of the entry can outlive its removal.
   */
  public void keepAddressPublished(Vertx vertx, long everyMs, String nodeName) {
    // One check at a time: a read that has to ask a hung member waits, and must not take one worker thread a tick.
    AtomicBoolean checking = new AtomicBoolean();
    vertx.setPeriodic(everyMs, id -> {
      if (checking.compareAndSet(false, true)) {
        vertx.executeBlocking(() -> checkAddress(nodeName), false).onComplete(done -> checking.set(false));
      }
    });
  }

  private Void checkAddress(String nodeName) {
    NodeInfo mine = getNodeInfo();
    if (!isActive() || mine == null) {
      return null;
    }
    // The entry as its partition's owner holds it: a get may read this member's own backup copy, which can be stale.
    EntryView<Object, Object> entry = getHazelcastInstance().getMap(NODE_INFO_MAP).getEntryView(getNodeId());
    Object published = entry == null ? null : entry.getValue();
    if (published instanceof HazelcastNodeInfo info && mine.equals(info.unwrap())) {
      return null;
    }
    log.warn("{}'s event-bus address {}:{} was {} in the cluster manager's map, so no other node could connect to it:"
        + " put back", nodeName, mine.host(), mine.port(), published == null ? "missing" : "another");
    setNodeInfo(mine, Promise.promise());
    return null;
  }

  @Override
  public void registrationListener(RegistrationListener listener) {
    this.eventBus = listener;
    super.registrationListener(new RegistrationListener() {
      @Override
      public void registrationsUpdated(RegistrationUpdateEvent event) {
        listener.registrationsUpdated(new RegistrationUpdateEvent(event.address(), routed(event.address(), event.registrations())));
      }

      @Override
      public void registrationsLost() {
        listener.registrationsLost();
      }

      @Override
      public boolean wantsUpdatesFor(String address) {
        return listener.wantsUpdatesFor(address);
      }
    });
  }

  /**
   * For a protocol address, node N's member, from the member list this node holds: no lookup in the
   * cluster manager's maps, which waits for as long as the member owning the entry does not answer
   * (a paused member owns a share of them, and a member leaving makes the event bus look every
   * address up again). Any other address is looked up as Vert.x does.
   */
  @Override
  public void getRegistrations(String address, Completable<List<RegistrationInfo>> promise) {
    Optional<List<RegistrationInfo>> routed = protocolNode(address).map(this::registrationsOf);
    if (routed.isPresent()) {
      promise.succeed(routed.get());
      return;
    }
    super.getRegistrations(address, promise);
  }

  /**
   * A consumer on a protocol address is registered on this node only, not in the cluster manager's
   * subscriptions: nothing reads them ({@link #registrationsOf} routes by the member list), and
   * putting one waits on the member that owns its partition. Once (a chaos run in CI) that partition
   * stayed "migrating" for Hazelcast's two minutes of retries while nodes were killed and restarted
   * at the same addresses, and two restarting nodes waited on it to register their consumer, and
   * gave up. The handler itself is in place before this is called: what arrives over
   * the wire reaches it.
   */
  @Override
  public void addRegistration(String address, RegistrationInfo registrationInfo, Completable<Void> promise) {
    if (protocolNode(address).isPresent()) {
      promise.succeed();
      return;
    }
    super.addRegistration(address, registrationInfo, promise);
  }

  /** The counterpart of {@link #addRegistration}: nothing of a protocol address is in the cluster manager to remove. */
  @Override
  public void removeRegistration(String address, RegistrationInfo registrationInfo, Completable<Void> promise) {
    if (protocolNode(address).isPresent()) {
      promise.succeed();
      return;
    }
    super.removeRegistration(address, registrationInfo, promise);
  }

  /** For node N's protocol address, only node N's registrations; any other address as it is. */
  private List<RegistrationInfo> routed(String address, List<RegistrationInfo> registrations) {
    return protocolNode(address).map(this::registrationsOf).orElse(registrations);
  }

  private Optional<Integer> protocolNode(String address) {
    Matcher matcher = protocolAddress.matcher(address);
    return matcher.matches() ? Optional.of(Integer.parseInt(matcher.group(1))) : Optional.empty();
  }

  /**
   * Where node N's protocol messages go: to the member accepted as node N, or nowhere. Whether its
   * consumer is registered yet does not matter: a message that arrives before it is dropped there,
   * which the protocol takes as a lost message.
   *
   * <p>The member last accepted as node N keeps the route when it leaves the member list, until
   * another member is accepted as node N (a restart). A cut of a few seconds, drawn out by TCP's
   * back-off on the cluster manager's own connections, can make the cluster manager split off a
   * node that the event bus reaches again as soon as the cut heals; the split lasts until the next
   * merge, seconds later, and the protocol's heartbeats, not the member list, decide whether a node
   * is alive. A route to a process that is gone costs a failed connection attempt.
   */
  private List<RegistrationInfo> registrationsOf(int node) {
    Optional<String> member = view().vertxNodeId(node);
    member.ifPresent(id -> lastRoutes.put(node, id));
    return Optional.ofNullable(member.orElse(lastRoutes.get(node)))
        .map(id -> List.of(new RegistrationInfo(id, 0, false))).orElse(List.of());
  }
}
