package dev.bully.tools;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.SplittableRandom;
import java.util.Set;
import java.util.function.IntFunction;
import java.util.stream.IntStream;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A cluster of real node processes for the scenarios, the benchmarks and the integration tests: its
 * own folder, free loopback ports, one configuration file per node, and every process it started
 * stopped by PID on close.
 */
public final class LocalCluster implements AutoCloseable {
  private static final String LOOPBACK = "127.0.0.1";
  public static final Duration READY_TIMEOUT = Duration.ofSeconds(90);
  private static final int PORT_RANGE_START = 20_000;
  private static final int PORT_RANGE_SIZE = 12_000;

  private final Path dir;
  private final int size;
  private final List<Integer> ports;
  private final String name;
  private final IntFunction<String> hostOf;
  private final Map<Integer, NodeProcess> running = new TreeMap<>();
  private final String secret;
  /** With {@code http.tls} in the extra configuration: trust in the nodes' key store (a self-signed certificate). */
  private final javax.net.ssl.SSLContext httpsTrust;
  private final Thread shutdownHook = new Thread(this::stopAll, "local-cluster-stop");
  private IntFunction<Map<String, String>> environment = id -> Map.of();
  private IntFunction<List<String>> launcher = id -> List.of();

  public LocalCluster(Path dir, int size) {
    this(dir, size, new JsonObject());
  }

  /** {@code extra} is merged into every node's configuration (e.g. timings, chaos settings). */
  public LocalCluster(Path dir, int size, JsonObject extra) {
    this(dir, size, extra, id -> LOOPBACK);
  }

  /**
   * Each node on its own address, {@code hostOf(id)} (e.g. 127.0.0.11, .12, .13: a "host" each on
   * one machine): its HTTP API, cluster manager and event bus bind there, and the others reach it
   * there.
   */
  public LocalCluster(Path dir, int size, JsonObject extra, IntFunction<String> hostOf) {
    this.hostOf = hostOf;
    this.dir = dir.toAbsolutePath();
    this.size = size;
    this.ports = freePorts(2 * size);
    this.name = "it-" + ProcessHandle.current().pid() + "-" + ports.get(0);
    byte[] secretBytes = new byte[24];
    new java.security.SecureRandom().nextBytes(secretBytes);
    this.secret = java.util.Base64.getEncoder().encodeToString(secretBytes);
    for (int id = 1; id <= size; id++) {
      writeConfig(id, extra);
    }
    this.httpsTrust = httpsTrust(extra);
    // Ctrl-C on a scenario or a benchmark must not leave its nodes running.
    Runtime.getRuntime().addShutdownHook(shutdownHook);
  }

  /** An SSL context trusting the certificates of {@code http.tls.keyStore}, when {@code http.tls.enabled}; else null. */
  private static javax.net.ssl.SSLContext httpsTrust(JsonObject extra) {
    JsonObject tls = extra.getJsonObject("http", new JsonObject()).getJsonObject("tls", new JsonObject());
    if (!tls.getBoolean("enabled", false)) {
      return null;
    }
    try (var in = Files.newInputStream(Path.of(tls.getString("keyStore")))) {
      java.security.KeyStore store = java.security.KeyStore.getInstance("PKCS12");
      store.load(in, tls.getString("keyStorePassword").toCharArray());
      javax.net.ssl.TrustManagerFactory trust = javax.net.ssl.TrustManagerFactory.getInstance(
          javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
      trust.init(store);
      javax.net.ssl.SSLContext context = javax.net.ssl.SSLContext.getInstance("TLS");
      context.init(null, trust.getTrustManagers(), null);
      return context;
    } catch (IOException | java.security.GeneralSecurityException e) {
      throw new IllegalArgumentException("cannot read http.tls.keyStore for the cluster's clients: " + e.getMessage(), e);
    }
  }

  public Path dir() {
    return dir;
  }

  /** What each node's JVM is started through from now on, by node id (e.g. {@code ip netns exec NS}). */
  public LocalCluster launcher(IntFunction<List<String>> launcher) {
    this.launcher = launcher;
    return this;
  }

  /** What each node's process gets added to its environment from now on, by node id (e.g. a library to preload). */
  public LocalCluster environment(IntFunction<Map<String, String>> environment) {
    this.environment = environment;
    return this;
  }

  public Path config(int id) {
    return dir.resolve("node" + id + ".json");
  }

  public Path dataDir(int id) {
    return dir.resolve("data/node" + id);
  }

  public Path log(int id) {
    return dir.resolve("node" + id + ".log");
  }

  public int httpPort(int id) {
    return ports.get(id - 1);
  }

  public NodeProcess start(int id) {
    if (running.containsKey(id) && running.get(id).isAlive()) {
      throw new IllegalStateException("node " + id + " is already running");
    }
    NodeProcess node = NodeProcess.start(id, hostOf.apply(id), httpPort(id), config(id), dir, log(id), httpsTrust,
        environment.apply(id), launcher.apply(id));
    running.put(id, node);
    return node;
  }

  /** Sends one signal to every running node with one kill(1), so that they all get it at the same instant. */
  public void signalAll(String name) {
    NodeProcess.signal(name, running.values().stream().filter(NodeProcess::isAlive).map(NodeProcess::pid).toList());
  }

  /** Starts every node, then waits until each is ready. */
  public List<NodeProcess> startAll() {
    List<NodeProcess> nodes = new ArrayList<>();
    for (int id = 1; id <= size; id++) {
      nodes.add(start(id));
    }
    nodes.forEach(node -> node.awaitReady(READY_TIMEOUT));
    return nodes;
  }

  public NodeProcess node(int id) {
    return running.get(id);
  }

  public int size() {
    return size;
  }

  /** The running nodes' statuses by id; a node that does not answer is left out. */
  public Map<Integer, JsonObject> statuses() {
    return statuses(running.keySet());
  }

  /**
   * The statuses of those of {@code ids} that run, by id; a node that does not answer is left out.
   * Only they are asked: a paused node keeps each question waiting for its timeout.
   */
  public Map<Integer, JsonObject> statuses(Collection<Integer> ids) {
    Map<Integer, JsonObject> statuses = new TreeMap<>();
    running.forEach((id, node) -> {
      if (ids.contains(id) && node.isAlive()) {
        try {
          statuses.put(id, node.status());
        } catch (RuntimeException e) {
          // paused, starting or stopping
        }
      }
    });
    return statuses;
  }

  /**
   * The coordinator that every one of {@code ids} follows, in one term, and which itself is
   * coordinator; 0 when they do not agree.
   */
  public int agreedCoordinator(Collection<Integer> ids) {
    return agreedCoordinator(statuses(ids), ids);
  }

  /** The same, from statuses already fetched (by node id; a missing one counts as not agreeing). */
  public static int agreedCoordinator(Map<Integer, JsonObject> statuses, Collection<Integer> ids) {
    Set<String> views = new HashSet<>();
    for (int id : ids) {
      JsonObject status = statuses.get(id);
      if (status == null || status.getInteger("coordinatorId") == null) {
        return 0;
      }
      views.add(status.getInteger("coordinatorId") + "@" + status.getLong("term"));
    }
    if (views.size() != 1) {
      return 0;
    }
    int coordinator = Integer.parseInt(views.iterator().next().split("@")[0]);
    JsonObject own = statuses.get(coordinator);
    return own != null && "COORDINATOR".equals(own.getString("role")) ? coordinator : 0;
  }

  /** Waits until {@code ids} agree on {@code expected} as coordinator; returns its term. */
  public long awaitCoordinator(int expected, Collection<Integer> ids, Duration timeout) {
    Map<Integer, JsonObject> lastSeen = new TreeMap<>();
    try {
      Await.until(timeout, "nodes " + ids + " agree on coordinator " + expected, () -> {
        Map<Integer, JsonObject> statuses = statuses(ids);
        lastSeen.clear();
        lastSeen.putAll(statuses);
        return agreedCoordinator(statuses, ids) == expected;
      });
    } catch (IllegalStateException e) {
      throw new IllegalStateException(e.getMessage() + "; last seen: " + describe(lastSeen, ids)
          + "; not running: " + ids.stream().filter(id -> running.get(id) == null || !running.get(id).isAlive()).toList(), e);
    }
    return node(expected).status().getLong("term");
  }

  /**
   * What each of {@code ids} said of itself in {@code statuses}, for a failure message: role,
   * coordinator, term, log and applied index, or that it gave no status.
   */
  public static String describe(Map<Integer, JsonObject> statuses, Collection<Integer> ids) {
    List<String> views = new ArrayList<>();
    for (int id : ids) {
      JsonObject status = statuses.get(id);
      if (status != null) {
        views.add("node " + id + " " + status.getString("role") + " of " + status.getInteger("coordinatorId")
            + " in term " + status.getLong("term") + ", log " + status.getLong("lastTerm") + "/" + status.getLong("lastIndex")
            + " committed " + status.getLong("commitIndex") + " applied " + status.getLong("appliedIndex"));
      } else {
        views.add("node " + id + " gave no status");
      }
    }
    return String.join("; ", views);
  }

  /**
   * Waits until {@code ids} hold the same log (last term and index) with all of it committed: a
   * scenario that starts while one node still lacks the coordinator's first entry of its term would
   * see that node outranked, and so silent, in the election that follows.
   */
  public void awaitLogsAgree(Collection<Integer> ids, Duration timeout) {
    Await.until(timeout, "nodes " + ids + " hold the same committed log", () -> {
      Set<String> positions = new HashSet<>();
      for (int id : ids) {
        JsonObject status = node(id).status();
        positions.add(status.getLong("lastTerm") + "/" + status.getLong("lastIndex") + "/" + status.getLong("commitIndex"));
      }
      return positions.size() == 1;
    });
  }

  /** The lines of node {@code id}'s log so far. */
  public List<String> logLines(int id) {
    try {
      return Files.exists(log(id)) ? Files.readAllLines(log(id)) : List.of();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public List<Integer> ids() {
    return IntStream.rangeClosed(1, size).boxed().toList();
  }

  private void writeConfig(int id, JsonObject extra) {
    JsonArray nodes = new JsonArray();
    for (int member = 1; member <= size; member++) {
      nodes.add(new JsonObject()
          .put("id", member)
          .put("host", hostOf.apply(member))
          .put("httpPort", httpPort(member))
          .put("clusterPort", ports.get(size + member - 1)));
    }
    JsonObject config = new JsonObject()
        .put("nodeId", id)
        .put("cluster", new JsonObject().put("name", name).put("nodes", nodes).put("secret", secret))
        .put("dataDir", dataDir(id).toString());
    String host = hostOf.apply(id);
    if (!host.equals(LOOPBACK)) {
      config.put("httpHost", host)
          .put("clusterManager", new JsonObject().put("host", host))
          .put("eventBus", new JsonObject().put("host", host));
    }
    config.mergeIn(extra, true);
    try {
      Files.writeString(config(id), config.encodePrettily());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Free ports below the kernel's ephemeral range (32768 and up here). A port picked from the
   * ephemeral range can be taken, between the pick and the node's bind, by any outgoing connection
   * on the machine, including the nodes' own connections to each other.
   */
  static List<Integer> freePorts(int count) {
    SplittableRandom random = new SplittableRandom();
    Set<Integer> chosen = new LinkedHashSet<>();
    while (chosen.size() < count) {
      int port = PORT_RANGE_START + random.nextInt(PORT_RANGE_SIZE);
      if (!chosen.contains(port) && canBind(port)) {
        chosen.add(port);
      }
    }
    return List.copyOf(chosen);
  }

  private static boolean canBind(int port) {
    try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** Stops every node this cluster started, by PID. */
  @Override
  public void close() {
    stopAll();
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException e) {
      // already shutting down: the hook is running or has run
    }
  }

  private synchronized void stopAll() {
    running.values().forEach(NodeProcess::close);
  }
}
