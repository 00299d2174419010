package dev.bully.config;

import dev.bully.core.ElectionSettings;
import dev.bully.core.LogLimits;
import dev.bully.core.WriteLimits;
import dev.bully.store.StoreSync;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Reads a node's JSON configuration, applies environment overrides and validates the result.
 *
 * <p>Every key has one environment variable that overrides it, derived from its path:
 * {@code mongo.connection_string} is {@code BULLY_MONGO_CONNECTION_STRING}, {@code heartbeatMs} is
 * {@code BULLY_HEARTBEAT_MS}. Lists take JSON ({@code BULLY_CLUSTER_NODES}) or, for lists of
 * strings, a comma-separated value. Validation fails fast on the first problem, with a message
 * naming the file or variable and the key, so a container or a laptop fails the same readable way.
 */
public final class ConfigLoader {

  /** The source name used when there is no configuration file. */
  public static final String ENVIRONMENT = "environment";

  private static final Set<String> MEMBER_KEYS = Set.of("id", "host", "httpPort", "clusterPort");

  static final String DEFAULT_HOST = "127.0.0.1";
  static final int DEFAULT_HEARTBEAT_MS = 50;
  static final int DEFAULT_FAILURE_TIMEOUT_MS = 150;
  /** What the embedded store keeps free on its disk: 512 MiB. */
  static final long DEFAULT_MIN_FREE_BYTES = 512L * 1024 * 1024;
  static final int DEFAULT_TAKEOVER_DELAY_MS = 2000;

  private final ConfigValues v;

  private ConfigLoader(ConfigValues values) {
    this.v = values;
  }

  /** Loads {@code file} (or only the environment when {@code file} is null) and validates it. */
  public static NodeConfig load(Path file, Map<String, String> environment) {
    ConfigValues values = new ConfigValues(file == null ? ENVIRONMENT : file.toString());
    if (file != null) {
      values.readFile(file);
    }
    values.applyEnvironment(environment);
    return new ConfigLoader(values).validate();
  }

  /** The environment variable that overrides {@code key}. */
  public static String environmentName(String key) {
    return ConfigValues.environmentName(key);
  }

  /** Every key a configuration may contain, in documentation order. */
  public static Set<String> keys() {
    return ConfigValues.keys();
  }

  /** The shortest cluster secret accepted: 16 characters of base64 are 96 bits. */
  static final int MIN_SECRET_LENGTH = 16;

  private NodeConfig validate() {
    int nodeId = v.integer("nodeId", null, 1, Integer.MAX_VALUE);
    List<Member> members = members();
    Member self = members.stream().filter(m -> m.id() == nodeId).findFirst().orElseThrow(() ->
        v.fail("nodeId", "is " + nodeId + ", which is not among the ids in 'cluster.nodes' "
            + members.stream().map(Member::id).toList()));

    String httpHost = v.string("httpHost", DEFAULT_HOST);
    int httpPort = v.integer("httpPort", self.httpPort(), 1, 65535);
    String clusterHost = v.string("clusterManager.host", DEFAULT_HOST);
    int clusterPort = v.integer("clusterManager.port", self.clusterPort(), 1, 65535);
    String clusterPublicHost = v.string("clusterManager.publicHost", clusterHost);
    List<String> joinMembers = v.stringList("clusterManager.members",
        members.stream().map(Member::clusterAddress).toList());
    String eventBusHost = v.string("eventBus.host", DEFAULT_HOST);
    int eventBusPort = v.integer("eventBus.port", 0, 0, 65535);
    String eventBusPublicHost = v.string("eventBus.publicHost", eventBusHost);

    requireDistinctPorts(httpPort, clusterPort, eventBusPort);

    int heartbeatMs = v.integer("heartbeatMs", DEFAULT_HEARTBEAT_MS, 1, 60_000);
    int failureTimeoutMs = v.integer("failureTimeoutMs", DEFAULT_FAILURE_TIMEOUT_MS, 1, 600_000);
    if (failureTimeoutMs < 2 * heartbeatMs) {
      throw v.fail("failureTimeoutMs", "is " + failureTimeoutMs + " but must be at least twice heartbeatMs ("
          + heartbeatMs + "), or every late heartbeat would start an election");
    }
    int failureTimeoutMaxMs = v.integer("failureTimeoutMaxMs",
        (int) Math.min(600_000L, (long) ElectionSettings.DEFAULT_MAX_FACTOR * failureTimeoutMs), 1, 600_000);
    if (failureTimeoutMaxMs < failureTimeoutMs) {
      throw v.fail("failureTimeoutMaxMs", "is " + failureTimeoutMaxMs + " but must be at least failureTimeoutMs ("
          + failureTimeoutMs + "): it is how far the failure timeout may grow under load");
    }
    int takeoverDelayMs = v.integer("takeoverDelayMs", DEFAULT_TAKEOVER_DELAY_MS, 0, 3_600_000);

    LogLimits logLimits = new LogLimits(
        v.integer("log.memoryEntries", LogLimits.DEFAULT.memoryEntries(), 1, 100_000_000),
        v.integer("log.idempotencyKeys", LogLimits.DEFAULT.idempotencyKeys(), 0, 100_000_000),
        v.integer("log.memoryBytes", (int) LogLimits.DEFAULT.memoryBytes(), 1, Integer.MAX_VALUE))
        .withRetainEntries(v.integer("log.retainEntries", (int) LogLimits.DEFAULT_RETAIN_ENTRIES, 1, Integer.MAX_VALUE));
    WriteLimits writeLimits = new WriteLimits(
        v.integer("api.maxWriteBytes", WriteLimits.DEFAULT.maxWriteBytes(), 64, WriteLimits.MAX_WRITE_BYTES_CEILING),
        v.integer("api.maxDepth", WriteLimits.DEFAULT.maxDepth(), 1, WriteLimits.MAX_DEPTH_CEILING),
        v.integer("api.maxKeys", WriteLimits.DEFAULT.maxKeys(), 0, Integer.MAX_VALUE));

    boolean chaosEnabled = v.bool("chaos.enabled", false);
    Optional<String> adminToken = v.optionalString("admin.token");
    if (chaosEnabled && adminToken.isEmpty()) {
      throw v.fail("chaos.enabled", "is true but 'admin.token' is not set; the chaos endpoints always need a token");
    }

    if (v.optionalString("mongo.connection_string").isPresent() && v.integer("mongo.embeddedPort", 0, 0, 65535) != 0) {
      throw v.fail("mongo.embeddedPort", "is set together with 'mongo.connection_string': the embedded store runs only"
          + " without an external MongoDB");
    }
    Optional<String> secret = clusterSecret();
    if (secret.isEmpty()) {
      requireLoopbackWithoutSecret("httpHost", httpHost);
      requireLoopbackWithoutSecret("clusterManager.host", clusterHost);
      requireLoopbackWithoutSecret("eventBus.host", eventBusHost);
    }

    return new NodeConfig(
        v.source(), nodeId,
        v.string("cluster.name", "bully"),
        members,
        httpHost, httpPort,
        clusterHost, clusterPort, clusterPublicHost, joinMembers,
        eventBusHost, eventBusPort, eventBusPublicHost,
        Path.of(v.string("dataDir", "data/node" + nodeId)),
        v.optionalString("mongo.connection_string"),
        v.string("mongo.db_name", "bully"),
        v.integer("mongo.embeddedPort", 0, 0, 65535),
        v.bool("data.writesCollection", false),
        v.integer("data.cacheMegabytes", dev.bully.data.DocumentCache.DEFAULT_MEGABYTES, 0, 64 * 1024),
        heartbeatMs, failureTimeoutMs, failureTimeoutMaxMs, takeoverDelayMs, logLimits, writeLimits,
        v.longValue("store.minFreeBytes", DEFAULT_MIN_FREE_BYTES, 0, Long.MAX_VALUE),
        storeSync(),
        chaosEnabled, adminToken, tlsFiles("eventBus.tls", true), secret, v.optionalString("api.token"),
        tlsFiles("http.tls", false));
  }

  private StoreSync storeSync() {
    String name = v.string("store.sync", StoreSync.FSYNC.configName());
    return StoreSync.named(name).orElseThrow(() -> v.fail("store.sync", "is \"" + name + "\" but must be \"fsync\""
        + " (forced to the device before it counts: the default) or \"os\" (written to the operating system only,"
        + " which a power loss can undo)"));
  }

  /**
   * {@code cluster.secret}, or the contents of {@code cluster.secretFile} (surrounding white space
   * removed): at least {@value #MIN_SECRET_LENGTH} characters.
   */
  private Optional<String> clusterSecret() {
    Optional<String> inline = v.optionalString("cluster.secret");
    Optional<Path> file = v.existingFile("cluster.secretFile");
    if (inline.isPresent() && file.isPresent()) {
      throw v.fail("cluster.secretFile", "is set together with 'cluster.secret'; set one of them");
    }
    String key = inline.isPresent() ? "cluster.secret" : "cluster.secretFile";
    Optional<String> secret = inline;
    if (file.isPresent()) {
      try {
        secret = Optional.of(Files.readString(file.get()).strip());
      } catch (IOException e) {
        throw v.fail(key, "names '" + file.get() + "', which cannot be read: " + e.getMessage());
      }
    }
    if (secret.isPresent() && secret.get().length() < MIN_SECRET_LENGTH) {
      throw v.fail(key, "is " + secret.get().length() + " characters long; a cluster secret needs at least "
          + MIN_SECRET_LENGTH + " (e.g. openssl rand -base64 32)");
    }
    return secret;
  }

  /** Without a cluster secret any process that reaches the node could speak for a member: loopback only. */
  private void requireLoopbackWithoutSecret(String key, String host) {
    if (!isLoopback(host)) {
      throw v.fail(key, "is '" + host + "', beyond loopback, but no cluster secret is set: set 'cluster.secret' or"
          + " 'cluster.secretFile' (the same on every node), or the protocol's messages cannot be authenticated");
    }
  }

  private static boolean isLoopback(String host) {
    try {
      return java.net.InetAddress.getByName(host).isLoopbackAddress();
    } catch (java.net.UnknownHostException e) {
      return false;
    }
  }

  /**
   * {@code <prefix>.*} when {@code <prefix>.enabled}: a key store and its password, or the PEM files
   * (certificate and key, and with {@code trustsPeers} the CA certificates too); every file named
   * must exist, and a key store must open with its password.
   */
  private Optional<TlsFiles> tlsFiles(String prefix, boolean trustsPeers) {
    if (!v.bool(prefix + ".enabled", false)) {
      return Optional.empty();
    }
    Optional<Path> keyStore = v.existingFile(prefix + ".keyStore");
    Optional<String> password = v.optionalString(prefix + ".keyStorePassword");
    List<String> pemKeys = trustsPeers ? List.of(prefix + ".certPath", prefix + ".keyPath", prefix + ".caPath")
        : List.of(prefix + ".certPath", prefix + ".keyPath");
    List<Optional<Path>> pems = new ArrayList<>();
    for (String key : pemKeys) {
      pems.add(v.existingFile(key));
    }
    List<String> pemNames = pemKeys.stream().map(key -> key.substring(prefix.length() + 1)).toList();
    if (keyStore.isPresent()) {
      if (password.isEmpty()) {
        throw v.fail(prefix + ".keyStorePassword", "is missing; the key store '" + prefix + ".keyStore' needs its password");
      }
      if (pems.stream().anyMatch(Optional::isPresent)) {
        throw v.fail(prefix + ".keyStore", "is set together with PEM files; use either a key store or "
            + String.join(", ", pemNames.subList(0, pemNames.size() - 1)) + " and " + pemNames.get(pemNames.size() - 1));
      }
      openKeyStore(keyStore.get(), password.get(), prefix + ".keyStorePassword");
    } else {
      for (int i = 0; i < pems.size(); i++) {
        if (pems.get(i).isEmpty()) {
          throw v.fail(pemKeys.get(i), "is missing; with " + prefix + ".enabled, set either '" + prefix + ".keyStore' (and its"
              + " password) or " + (trustsPeers ? "all of " : "both ") + quotedList(pemKeys));
        }
      }
    }
    return Optional.of(new TlsFiles(keyStore, password, pems.get(0), pems.get(1),
        trustsPeers ? pems.get(2) : Optional.empty()));
  }

  private static String quotedList(List<String> keys) {
    List<String> quoted = keys.stream().map(key -> "'" + key + "'").toList();
    return String.join(", ", quoted.subList(0, quoted.size() - 1)) + " and " + quoted.get(quoted.size() - 1);
  }

  /** A key store that does not open with its password fails here, naming the key, rather than at start-up. */
  private void openKeyStore(Path file, String password, String passwordKey) {
    try (var in = Files.newInputStream(file)) {
      java.security.KeyStore.getInstance(file.toString().endsWith(".jks") ? "JKS" : "PKCS12").load(in, password.toCharArray());
    } catch (IOException | java.security.GeneralSecurityException e) {
      throw v.fail(passwordKey, "does not open the key store '" + file + "': " + e.getMessage());
    }
  }

  private List<Member> members() {
    Object value = v.raw("cluster.nodes");
    if (value == null) {
      throw v.fail("cluster.nodes", "is missing; list every member as {\"id\", \"host\", \"httpPort\", \"clusterPort\"}");
    }
    if (!(value instanceof JsonArray array) || array.isEmpty()) {
      throw v.fail("cluster.nodes", "must be a non-empty array of members");
    }
    boolean https = v.bool("http.tls.enabled", false);
    List<Member> members = new ArrayList<>();
    Set<Integer> ids = new HashSet<>();
    Map<String, String> portUsers = new HashMap<>();
    for (int i = 0; i < array.size(); i++) {
      String at = "cluster.nodes[" + i + "]";
      if (!(array.getValue(i) instanceof JsonObject entry)) {
        throw v.fail("cluster.nodes", "entry " + i + " must be an object");
      }
      for (String name : entry.fieldNames()) {
        if (!MEMBER_KEYS.contains(name)) {
          throw new ConfigException(v.origin("cluster.nodes") + ": unknown key '" + at + "." + name + "'");
        }
      }
      int id = memberInt(entry, at, "id", null, 1);
      String host = entry.getValue("host") == null ? DEFAULT_HOST : memberString(entry, at, "host");
      int httpPort = memberInt(entry, at, "httpPort", null, 1);
      int clusterPort = memberInt(entry, at, "clusterPort", null, 1);
      if (!ids.add(id)) {
        throw v.fail("cluster.nodes", "id " + id + " appears twice");
      }
      if (httpPort == clusterPort) {
        throw v.fail("cluster.nodes", "port " + httpPort + " is used twice (" + at + ".httpPort and " + at + ".clusterPort)");
      }
      claimPort(portUsers, host, httpPort, at + ".httpPort");
      claimPort(portUsers, host, clusterPort, at + ".clusterPort");
      members.add(new Member(id, host, httpPort, clusterPort, https));
    }
    members.sort((a, b) -> Integer.compare(a.id(), b.id()));
    return members;
  }

  private void claimPort(Map<String, String> portUsers, String host, int port, String user) {
    String previous = portUsers.put(host + ":" + port, user);
    if (previous != null) {
      throw v.fail("cluster.nodes", "port " + host + ":" + port + " is used twice (" + previous + " and " + user + ")");
    }
  }

  private void requireDistinctPorts(int httpPort, int clusterPort, int eventBusPort) {
    if (httpPort == clusterPort) {
      throw v.fail("clusterManager.port", "is " + clusterPort + ", the same port as 'httpPort'");
    }
    if (eventBusPort != 0 && (eventBusPort == httpPort || eventBusPort == clusterPort)) {
      throw v.fail("eventBus.port", "is " + eventBusPort + ", a port already used by 'httpPort' or 'clusterManager.port'");
    }
  }

  private int memberInt(JsonObject entry, String at, String name, Integer fallback, int min) {
    Object value = entry.getValue(name);
    if (value == null && fallback != null) {
      return fallback;
    }
    int max = name.equals("id") ? Integer.MAX_VALUE : 65535;
    if (!(value instanceof Number n) || n.doubleValue() != n.longValue() || n.longValue() < min || n.longValue() > max) {
      throw new ConfigException(v.origin("cluster.nodes") + ": key '" + at + "." + name + "' "
          + (value == null ? "is missing" : "must be an integer from " + min + " to " + max + ", got " + ConfigValues.describe(value)));
    }
    return n.intValue();
  }

  private String memberString(JsonObject entry, String at, String name) {
    Object value = entry.getValue(name);
    if (!(value instanceof String s) || s.isBlank()) {
      throw new ConfigException(v.origin("cluster.nodes") + ": key '" + at + "." + name
          + "' must be a non-empty string, got " + ConfigValues.describe(value));
    }
    return s;
  }

}
