package dev.bully.config;

import dev.bully.core.LogLimits;
import dev.bully.core.WriteLimits;
import dev.bully.store.StoreSync;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The validated configuration of one node. Built only by {@link ConfigLoader}, so every instance
 * satisfies the rules the loader checks: the node id is a configured member, ports do not clash,
 * timings are positive and consistent.
 *
 * @param source                 where the configuration was read from (a file path or "environment")
 * @param nodeId                 this node's id
 * @param clusterName            isolates one cluster from another on the same hosts
 * @param members                every configured member, this node included, ordered by id
 * @param httpHost               the address the HTTP server binds
 * @param httpPort               the port the HTTP server binds
 * @param clusterHost            the address the cluster manager binds
 * @param clusterPort            the port the cluster manager binds
 * @param clusterPublicHost      the address the cluster manager advertises to the others
 * @param joinMembers            the {@code host:port} list the cluster manager joins through
 * @param eventBusHost           the address the event-bus transport binds
 * @param eventBusPort           the port the event-bus transport binds (0: any free port)
 * @param eventBusPublicHost     the address the event-bus transport advertises to the others
 * @param dataDir                where the embedded store keeps its file
 * @param mongoConnectionString  an external MongoDB to use instead of the embedded store
 * @param mongoDatabase          the database name inside MongoDB
 * @param mongoEmbeddedPort      the loopback port the embedded store listens on (0: a free one)
 * @param writesCollection       whether the writes of {@code POST /api/writes} are applied as documents of
 *                               collection {@code writes} too ({@code data.writesCollection})
 * @param dataCacheMegabytes           how much of the documents read by id lately a node keeps in memory, 0 for none
 *                               ({@code data.cacheMegabytes})
 * @param heartbeatMs            how often the coordinator sends heartbeats
 * @param failureTimeoutMs       how long silence lasts before a node suspects the coordinator, while the cluster
 *                               has not been seen to pause for longer
 * @param failureTimeoutMaxMs    how far that timeout may grow when the cluster is seen to pause (10 times it by default)
 * @param takeoverDelayMs        how long a caught-up higher node waits before it takes over
 * @param logLimits              how much of the log stays in memory ({@code log.memoryEntries},
 *                               {@code log.idempotencyKeys}, {@code log.memoryBytes}, {@code log.retainEntries})
 * @param writeLimits            the shape a client's write may have ({@code api.maxWriteBytes},
 *                               {@code api.maxDepth}, {@code api.maxKeys})
 * @param storeMinFreeBytes      the room the embedded store keeps free on its disk; below it, store writes wait
 * @param storeSync              how far a store write goes before it counts as durable ({@code store.sync})
 * @param chaosEnabled           whether the admin chaos endpoints are served
 * @param adminToken             the bearer token the admin endpoints require
 * @param eventBusTls            TLS for the clustered event bus, when enabled
 * @param clusterSecret          the secret that authenticates protocol messages ({@code cluster.secret} or the
 *                               contents of {@code cluster.secretFile}); empty on a loopback-only node without one
 * @param apiToken               the bearer token client writes and reads require ({@code api.token}); none when empty
 * @param httpTls                TLS for the HTTP API and dashboard ({@code http.tls.*}), when enabled
 */
public record NodeConfig(
    String source,
    int nodeId,
    String clusterName,
    List<Member> members,
    String httpHost,
    int httpPort,
    String clusterHost,
    int clusterPort,
    String clusterPublicHost,
    List<String> joinMembers,
    String eventBusHost,
    int eventBusPort,
    String eventBusPublicHost,
    Path dataDir,
    Optional<String> mongoConnectionString,
    String mongoDatabase,
    int mongoEmbeddedPort,
    boolean writesCollection,
    int dataCacheMegabytes,
    long heartbeatMs,
    long failureTimeoutMs,
    long failureTimeoutMaxMs,
    long takeoverDelayMs,
    LogLimits logLimits,
    WriteLimits writeLimits,
    long storeMinFreeBytes,
    StoreSync storeSync,
    boolean chaosEnabled,
    Optional<String> adminToken,
    Optional<TlsFiles> eventBusTls,
    Optional<String> clusterSecret,
    Optional<String> apiToken,
    Optional<TlsFiles> httpTls) {

  public NodeConfig {
    members = List.copyOf(members);
    joinMembers = List.copyOf(joinMembers);
  }

  /** Without the secret and the admin token, which must never reach a log. */
  @Override
  public String toString() {
    return "NodeConfig[source=" + source + ", nodeId=" + nodeId + ", cluster=" + clusterName + ", members=" + members
        + ", http=" + httpHost + ":" + httpPort + ", clusterManager=" + clusterHost + ":" + clusterPort
        + ", eventBus=" + eventBusHost + ":" + eventBusPort + ", dataDir=" + dataDir
        + ", adminToken=" + (adminToken.isPresent() ? "(set)" : "(none)")
        + ", clusterSecret=" + (clusterSecret.isPresent() ? "(set)" : "(none)")
        + ", apiToken=" + (apiToken.isPresent() ? "(set)" : "(none)") + "]";
  }

  /** This node's own entry in {@link #members()}. */
  public Member self() {
    return member(nodeId).orElseThrow();
  }

  /** The configured member with this id, if any. */
  public Optional<Member> member(int id) {
    return members.stream().filter(m -> m.id() == id).findFirst();
  }

  /** Every configured member except this node. */
  public List<Member> peers() {
    return members.stream().filter(m -> m.id() != nodeId).toList();
  }

  /** The number of acknowledgements, this node's own included, that make a majority. */
  public int majority() {
    return members.size() / 2 + 1;
  }
}
