package dev.bully.node;

import dev.bully.cluster.ClusterSetup;
import dev.bully.cluster.ClusterView;
import dev.bully.cluster.RoutedClusterManager;
import dev.bully.config.Member;
import dev.bully.config.NodeConfig;
import dev.bully.core.DurableState;
import dev.bully.core.Election;
import dev.bully.core.ElectionSettings;
import dev.bully.core.ReplicatedLog;
import dev.bully.data.ApplyVerticle;
import dev.bully.data.DocumentCache;
import dev.bully.driver.LogRestore;
import dev.bully.election.Addresses;
import dev.bully.election.CommittedFeed;
import dev.bully.election.ElectionVerticle;
import dev.bully.election.HeartbeatVerticle;
import dev.bully.election.Outcome;
import dev.bully.http.HttpVerticle;
import dev.bully.metrics.NodeMetrics;
import dev.bully.replication.ReplicationVerticle;
import dev.bully.store.EmbeddedMongo;
import dev.bully.store.NodeStore;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.file.FileSystemOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running node: its store, its clustered Vert.x instance and its verticles.
 *
 * <p>Start-up reads the store while the node joins the cluster (on a Vert.x of its own, closed
 * once read: joining spends most of its time waiting for the other members), and the protocol starts
 * only once both are done, so a node never takes part in it without its durable state. Shut-down runs in reverse: a coordinator first hands its
 * leadership over; then the verticles stop, so nothing new is written; then the store is flushed
 * and closed; the cluster is left last of all with Vert.x.
 */
public final class Node {
  private static final Logger log = LoggerFactory.getLogger(Node.class);
  /** Bounds the hand-off on shut-down; the election verticle answers well before in practice. */
  private static final long HAND_OFF_TIMEOUT_MS = 15_000;
  /** How often a node checks that the others can still find its event bus (RoutedClusterManager.keepAddressPublished). */
  private static final long ADDRESS_CHECK_MS = 1_000;
  /** The replica's time: monotonic milliseconds (it only ever compares durations). */
  private static final LongSupplier MONOTONIC_MS = () -> System.nanoTime() / 1_000_000;

  private final NodeConfig config;
  private final DataDirLock lock;
  private final EmbeddedMongo embedded;
  private Vertx vertx;
  private NodeStore store;

  private Node(NodeConfig config, DataDirLock lock, EmbeddedMongo embedded) {
    this.config = config;
    this.lock = lock;
    this.embedded = embedded;
  }

  /** Opens the store, joins the cluster and deploys the verticles. */
  public static Future<Node> start(NodeConfig config) {
    Node node;
    try {
      DataDirLock lock = DataDirLock.acquire(config.dataDir());
      EmbeddedMongo embedded = config.mongoConnectionString().isPresent() ? null : EmbeddedMongo.start(config.dataDir(), "127.0.0.1", config.mongoEmbeddedPort(), config.storeSync()).keepFree(config.storeMinFreeBytes());
      node = new Node(config, lock, embedded);
    } catch (IOException | RuntimeException e) {
      return Future.failedFuture(e);
    }
    return node.joinAndDeploy().recover(failure -> node.stop().transform(v -> Future.failedFuture(failure)));
  }

  private Future<Node> joinAndDeploy() {
    Map<Integer, String> addresses = new HashMap<>();
    config.members().forEach(m -> addresses.put(m.id(), m.clusterAddress()));
    RoutedClusterManager clusterManager = new RoutedClusterManager(ClusterSetup.hazelcastConfig(config),
        config.clusterName(), addresses);
    NodeMetrics metrics = new NodeMetrics(config.nodeId(), config.peers().stream().map(Member::id).toList());
    // Vert.x's file cache lives in the node's own folder, which this node holds the lock of: what a killed run
    // left there is removed now, rather than piling up in /tmp.
    Path fileCache = config.dataDir().resolve("vertx-cache");
    try {
      FileTrees.delete(fileCache);
      // Builds before this one let Vert.x add a random suffix to the folder's name, so each killed run left one.
      try (var left = Files.newDirectoryStream(config.dataDir(), "vertx-cache-*")) {
        for (Path folder : left) {
          FileTrees.delete(folder);
        }
      }
    } catch (IOException e) {
      return Future.failedFuture(new IllegalStateException("cannot clear " + fileCache + ": " + e.getMessage(), e));
    }
    Future<StoreRead> read = StoreRead.read(config, embedded);
    Future<Vertx> joined = Vertx.builder()
        .with(ClusterSetup.vertxOptions(config).setMetricsOptions(metrics.vertxOptions())
            .setFileSystemOptions(new FileSystemOptions().setFileCacheDir(fileCache.toString()).setFileCacheDirAsExactPath(true)))
        .withMetrics(metrics.vertxMetricsFactory())
        .withClusterManager(clusterManager)
        .buildClustered()
        .onSuccess(v -> {
          vertx = v;
          clusterManager.keepAddressPublished(v, ADDRESS_CHECK_MS, "Node " + config.nodeId());
          log.info("Node {} joined cluster '{}' as a member of {}", config.nodeId(), config.clusterName(),
              config.joinMembers());
          if (!v.isNativeTransportEnabled()) {
            log.warn("Node {} runs without Linux's native transport ({}): its event-bus connections to a peer that was"
                + " cut off recover only as TCP's back-off allows", config.nodeId(), v.unavailableNativeTransportCause());
          }
        });
    // join, not all: a failed read still waits for the join, so that stop() finds the instance to close.
    return Future.join(read, joined)
        .compose(both -> StoreRead.openStore(vertx, config, embedded))
        .compose(s -> {
          store = s;
          metrics.logForces(() -> s.logForces().count(), () -> s.logForces().nanos());
          StoreRead state = read.result();
          s.usePageDirectory(state.pages());
          LogRestore stored = state.log();
          ReplicatedLog log = stored.log(config.logLimits());
          DurableState durable = state.durable();
          // The chaos checker reads "restored term" (a term must never go down across a restart, not even a power loss).
          Node.log.info("Node {} restored term {} (promised to {}) and its log: last index {}, {} entries in memory"
              + " from {}, commit index {} or more, paged up to {} (read in {} ms while joining)", config.nodeId(), durable.term(),
              durable.promisedTo(), log.lastIndex(), stored.tail().size(), log.firstInMemory(), stored.commitIndex(),
              stored.pagedIndex(), state.tookMs());
          Election election = new Election(electionSettings(), durable, log,
              new SplittableRandom(), MONOTONIC_MS.getAsLong());
          ClusterView cluster = clusterManager.view();
          // The store side first, then the election verticle, so its consumers exist before anything ticks or asks.
          ReplicationVerticle replication = new ReplicationVerticle(store);
          CommittedFeed feed = new CommittedFeed();
          metrics.appliedIndex(feed::appliedIndex);
          DocumentCache cache = store.documents().cache();
          metrics.gauge("bully_document_cache_hits", "Reads by id answered from the node's document cache", cache::hits);
          metrics.gauge("bully_document_cache_misses", "Reads by id the document cache could not answer (the store did)", cache::misses);
          metrics.gauge("bully_document_cache_bytes", "What the cached documents take, as estimated (at most data.cacheMegabytes)",
              cache::bytes);
          ApplyVerticle applier = new ApplyVerticle(store.documents(), store.snapshots(), feed, config.writesCollection(), metrics);
          return vertx.deployVerticle(replication)
              .compose(id -> vertx.deployVerticle(new ElectionVerticle(config, replication::storageFor, store, election,
                  state.incarnation(), metrics, MONOTONIC_MS, feed)))
              .compose(id -> vertx.deployVerticle(applier))
              .compose(id -> vertx.deployVerticle(new HeartbeatVerticle(cluster, config.heartbeatMs())))
              .compose(id -> vertx.deployVerticle(new HttpVerticle(config, store, cluster, metrics, applier)));
        })
        .map(deploymentId -> this);
  }

  private ElectionSettings electionSettings() {
    return new ElectionSettings(config.nodeId(), config.members().stream().map(Member::id).toList(),
        config.heartbeatMs(), config.failureTimeoutMs(), config.takeoverDelayMs(), config.failureTimeoutMaxMs());
  }

  /**
   * Hands leadership over if this node leads, undeploys the verticles, flushes and closes the
   * store, and leaves the cluster. Never fails.
   */
  public Future<Void> stop() {
    // Context-less, so completing it does not need an event loop: the last steps run as Vert.x shuts its loops down.
    Promise<Void> stopped = Promise.promise();
    Future<Void> undeployed = Future.succeededFuture();
    if (vertx != null) {
      undeployed = handOver()
          .compose(v -> Future.all(vertx.deploymentIDs().stream().map(vertx::undeploy).toList()).mapEmpty());
    }
    undeployed.onComplete(ignored -> {
      if (store != null) {
        store.close();
      }
      // Vert.x completes its close future on a fresh thread, after its event loops ended.
      Future<Void> closed = vertx == null ? Future.succeededFuture() : vertx.close();
      closed.onComplete(done -> {
        closeQuietly();
        stopped.complete();
      });
    });
    return stopped.future();
  }

  /**
   * A coordinator that stops hands over first, so that writes pause for a hand-off rather than for
   * a failure timeout and an election. A node that does not lead, or cannot hand over, just stops.
   */
  private Future<Void> handOver() {
    DeliveryOptions options = Addresses.local().setSendTimeout(HAND_OFF_TIMEOUT_MS);
    return vertx.eventBus().<JsonObject>request(Addresses.LOCAL_STEP_DOWN, new JsonObject().put("leaving", true), options)
        .map(reply -> {
          JsonObject body = reply.body();
          if (Outcome.HANDED_OVER.equals(body.getString(Outcome.KEY))) {
            log.info("Node {} handed over to node {} in {} ms before stopping", config.nodeId(),
                body.getInteger("coordinatorId"), body.getLong("tookMs"));
          } else if (!"not_coordinator".equals(body.getString("error"))) {
            log.warn("Node {} stops without a hand-off: {}", config.nodeId(), body.getString("message"));
          }
          return (Void) null;
        })
        .otherwise(failure -> {
          log.warn("Node {} stops without a hand-off: {}", config.nodeId(), failure.toString());
          return null;
        });
  }

  private void closeQuietly() {
    try {
      if (embedded != null) {
        embedded.close();
      }
    } catch (RuntimeException e) {
      log.warn("Closing the embedded store failed", e);
    }
    try {
      lock.close();
    } catch (IOException e) {
      log.warn("Releasing the data folder lock failed", e);
    }
  }
}
