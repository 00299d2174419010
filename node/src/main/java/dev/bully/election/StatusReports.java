package dev.bully.election;

import dev.bully.config.NodeConfig;
import dev.bully.core.Election;
import dev.bully.core.Output;
import dev.bully.core.ProtocolEvent;
import dev.bully.core.Status;
import dev.bully.metrics.NodeMetrics;
import dev.bully.store.NodeStore;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a node tells about itself: each protocol event in the transcript log, in the metrics and on
 * {@code cluster.events}; its status on {@code cluster.status} (on every change and periodically),
 * in {@code /api/status} and in the metrics; who it believes coordinates, node-locally, for the
 * HTTP API's redirects; and to whoever waits for a status (a hand-off's end).
 */
final class StatusReports {
  /** Protocol events get their own logger, so the transcript can be read from the logs alone. */
  static final Logger transcript = LoggerFactory.getLogger("Protocol");
  private static final Logger log = LoggerFactory.getLogger(StatusReports.class);

  private final NodeConfig config;
  private final Election election;
  private final NodeStore store;
  private final NodeMetrics metrics;
  private final Rejections rejections;
  private final EventBus eventBus;
  private final LongSupplier clock;
  private final TreeMap<String, Long> sentByType = new TreeMap<>();
  /** Waiting for a status change (a hand-off's end); each returns true once it is done. */
  private final List<Predicate<Status>> watchers = new ArrayList<>();
  /** Members of the cluster manager that are not a configured node, as the heartbeat verticle last saw them. */
  private JsonArray strangers = new JsonArray();
  /** The coordinator last published on {@link Addresses#LOCAL_COORDINATOR}, 0 for none. */
  private int publishedCoordinator;
  /** Role, term and coordinator as last published at once on a change. */
  private String publishedShape = "";
  /** How far this node's documents include the committed log ({@code dev.bully.data.ApplyVerticle}). */
  private final LongSupplier appliedIndex;
  private final LongSupplier snapshotIndex;
  /** The data folder's size as last measured; -1 before the first measure. */
  private volatile long storeBytes = -1;

  StatusReports(NodeConfig config, Election election, NodeStore store, NodeMetrics metrics, Rejections rejections,
                EventBus eventBus, LongSupplier clock, LongSupplier appliedIndex, LongSupplier snapshotIndex) {
    this.config = config;
    this.appliedIndex = appliedIndex;
    this.snapshotIndex = snapshotIndex;
    this.rejections = rejections;
    this.clock = clock;
    this.election = election;
    this.store = store;
    this.metrics = metrics;
    this.eventBus = eventBus;
  }

  /** The cluster manager's members that are no configured node changed: published with the status. */
  void strangers(JsonArray current) {
    if (!current.equals(strangers)) {
      strangers = current.copy();
      publish();
    }
  }

  /** A protocol message of {@code type} was sent (counted in the status). */
  void sent(String type) {
    sentByType.merge(type, 1L, Long::sum);
  }

  /** Logs and publishes the output's events; on a status change, the status, and answers the watchers done with it. */
  void record(Output output) {
    for (ProtocolEvent event : output.events()) {
      transcript.info(event.text());
      metrics.event(event);
      publishToEveryNode(Addresses.EVENTS, new JsonObject()
          .put("node", event.node())
          .put("term", event.term())
          .put("kind", event.kind().name())
          .put("text", event.text())
          .put("ts", System.currentTimeMillis()));
    }
    if (output.statusChanged()) {
      Status status = election.status();
      // Role, term and coordinator go to every node's dashboard at once; the indexes, which change with every
      // write on every node, with the status published every 250 ms (a publication per commit per node cost more
      // than the write it reported at low load).
      String shape = status.role() + "/" + status.term() + "/" + status.coordinatorId();
      if (!shape.equals(publishedShape)) {
        publishedShape = shape;
        publish();
      }
      if (status.coordinatorId() != publishedCoordinator) {
        publishedCoordinator = status.coordinatorId();
        eventBus.publish(Addresses.LOCAL_COORDINATOR, new JsonObject()
            .put("coordinatorId", publishedCoordinator == 0 ? null : publishedCoordinator), Addresses.local());
      }
      watchers.removeIf(watcher -> watcher.test(status));
    }
  }

  /** Calls {@code watcher} on every status change until it returns true (or is {@link #unwatch}ed). */
  void watch(Predicate<Status> watcher) {
    watchers.add(watcher);
  }

  /** Stops watching; false when the watcher was done already. */
  boolean unwatch(Predicate<Status> watcher) {
    return watchers.remove(watcher);
  }

  /** What the node's data folder holds, in bytes: its store, its log files (read at most every status publish). */
  long storeBytes() {
    return storeBytes;
  }

  /** The data folder's size, measured off the event loop ({@link ElectionVerticle}): -1 when it could not be. */
  void storeBytes(long bytes) {
    storeBytes = bytes;
  }

  /** The bytes of the regular files under {@code root}; a file removed meanwhile counts 0. Blocking: it lists every folder. */
  static long folderBytes(java.nio.file.Path root) throws java.io.IOException {
    try (java.util.stream.Stream<java.nio.file.Path> files = java.nio.file.Files.walk(root)) {
      return files.filter(java.nio.file.Files::isRegularFile).mapToLong(file -> {
        try {
          return java.nio.file.Files.size(file);
        } catch (java.io.IOException | RuntimeException e) {
          return 0; // a file removed meanwhile
        }
      }).sum();
    }
  }

  /** Publishes the status on {@code cluster.status} and into the metrics. */
  void publish() {
    metrics.observe(election.status());
    publishToEveryNode(Addresses.STATUS, json());
  }

  /**
   * Publishes to the dashboards of every node, and never throws. Vert.x 5.0.10's clustered publish
   * hands one promise to its write on every node's connection: when a connection closes under it (a
   * peer cut off or paused), the second write to end completes that promise again, which throws
   * {@code IllegalStateException} out of {@code publish} here (the nodes after it miss the message)
   * or, later, into the context's exception handler ({@link #isPublishCompletedTwice}). Thrown here,
   * it would cut short the recording of an output: the coordinator the HTTP API redirects to, and
   * the requests waiting for a status. What a dashboard misses, the next status (250 ms) brings.
   */
  private void publishToEveryNode(String address, JsonObject body) {
    try {
      eventBus.publish(address, body);
    } catch (IllegalStateException e) {
      log.debug("Node {}: a publication on {} reached not every node: {}", config.nodeId(), address, e.toString());
    }
  }

  /** Whether {@code failure} is Vert.x's second completion of a publish's promise ({@link #publishToEveryNode}). */
  static boolean isPublishCompletedTwice(Throwable failure) {
    if (!(failure instanceof IllegalStateException) || !"Promise already completed".equals(failure.getMessage())) {
      return false;
    }
    // Completed again by the end of a write to a peer's connection: written, failed, or dropped with the connection.
    for (StackTraceElement frame : failure.getStackTrace()) {
      String type = frame.getClassName();
      if (type.startsWith("io.vertx.core.eventbus.impl.clustered.") || type.startsWith("io.vertx.core.net.impl.")
          || type.startsWith("io.netty.channel.")) {
        return true;
      }
    }
    return false;
  }

  /** The status as {@code /api/status} and {@code cluster.status} show it. */
  JsonObject json() {
    Status status = election.status();
    long now = clock.getAsLong();
    return new JsonObject()
        .put("nodeId", status.nodeId())
        .put("cluster", config.clusterName())
        .put("role", status.role().name())
        .put("term", status.term())
        .put("coordinatorId", status.coordinatorId() == 0 ? null : status.coordinatorId())
        .put("lastTerm", status.log().term())
        .put("lastIndex", status.log().index())
        .put("commitIndex", status.commitIndex())
        .put("appliedIndex", appliedIndex.getAsLong())
        .put("firstIndex", election.logView().baseIndex() + 1)
        .put("snapshotIndex", snapshotIndex.getAsLong())
        .put("storeBytes", storeBytes())
        .put("behind", status.behind())
        .put("followers", followers(status))
        .put("lastHeartbeatAgoMs", status.coordinatorId() == status.nodeId() ? 0 : now - status.lastHeartbeatMs())
        .put("failureTimeoutMs", status.failureTimeoutMs())
        .put("messagesSent", new JsonObject(new TreeMap<>(sentByType)))
        .put("messagesRejected", rejected())
        .put("strangers", strangers.copy())
        .put("storeTrouble", store.retry().trouble().orElse(null))
        .put("ts", System.currentTimeMillis());
  }

  /** Messages refused before the protocol saw them, by reason; protocol violations count among the events. */
  private JsonObject rejected() {
    JsonObject counts = new JsonObject();
    rejections.counts().forEach((reason, count) -> counts.put(reason.name().toLowerCase(), count));
    return counts;
  }

  /** On a coordinator, each follower's match index and how many entries it lacks; empty elsewhere. */
  private static JsonArray followers(Status status) {
    JsonArray followers = new JsonArray();
    status.followerMatch().forEach((id, match) -> followers.add(new JsonObject()
        .put("id", id).put("matchIndex", match).put("lag", Math.max(0, status.log().index() - match))));
    return followers;
  }
}
