package dev.bully.config;

import dev.bully.core.ElectionSettings;
import dev.bully.core.LogLimits;
import dev.bully.core.WriteLimits;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
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

  private static final String ENV_PREFIX = "BULLY_";

  /** The type of each known key. Anything else in the file is rejected as unknown. */
  private enum Type { INT, PORT, PORT_OR_ZERO, STRING, BOOLEAN, STRING_LIST, MEMBERS }

  private static final Map<String, Type> KEYS = new LinkedHashMap<>();

  static {
    KEYS.put("nodeId", Type.INT);
    KEYS.put("cluster.name", Type.STRING);
    KEYS.put("cluster.nodes", Type.MEMBERS);
    KEYS.put("httpHost", Type.STRING);
    KEYS.put("httpPort", Type.PORT);
    KEYS.put("clusterManager.host", Type.STRING);
    KEYS.put("clusterManager.port", Type.PORT);
    KEYS.put("clusterManager.publicHost", Type.STRING);
    KEYS.put("clusterManager.members", Type.STRING_LIST);
    KEYS.put("eventBus.host", Type.STRING);
    KEYS.put("eventBus.port", Type.PORT_OR_ZERO);
    KEYS.put("eventBus.publicHost", Type.STRING);
    KEYS.put("eventBus.tls.enabled", Type.BOOLEAN);
    KEYS.put("eventBus.tls.keyStore", Type.STRING);
    KEYS.put("eventBus.tls.keyStorePassword", Type.STRING);
    KEYS.put("eventBus.tls.certPath", Type.STRING);
    KEYS.put("eventBus.tls.keyPath", Type.STRING);
    KEYS.put("eventBus.tls.caPath", Type.STRING);
    KEYS.put("dataDir", Type.STRING);
    KEYS.put("mongo.connection_string", Type.STRING);
    KEYS.put("mongo.db_name", Type.STRING);
    KEYS.put("heartbeatMs", Type.INT);
    KEYS.put("failureTimeoutMs", Type.INT);
    KEYS.put("failureTimeoutMaxMs", Type.INT);
    KEYS.put("store.minFreeBytes", Type.INT);
    KEYS.put("takeoverDelayMs", Type.INT);
    KEYS.put("log.memoryEntries", Type.INT);
    KEYS.put("log.idempotencyKeys", Type.INT);
    KEYS.put("log.memoryBytes", Type.INT);
    KEYS.put("api.maxWriteBytes", Type.INT);
    KEYS.put("api.maxDepth", Type.INT);
    KEYS.put("api.maxKeys", Type.INT);
    KEYS.put("chaos.enabled", Type.BOOLEAN);
    KEYS.put("admin.token", Type.STRING);
  }

  private static final Set<String> MEMBER_KEYS = Set.of("id", "host", "httpPort", "clusterPort");

  static final String DEFAULT_HOST = "127.0.0.1";
  static final int DEFAULT_HEARTBEAT_MS = 50;
  static final int DEFAULT_FAILURE_TIMEOUT_MS = 150;
  /** What the embedded store keeps free on its disk: 512 MiB. */
  static final long DEFAULT_MIN_FREE_BYTES = 512L * 1024 * 1024;
  static final int DEFAULT_TAKEOVER_DELAY_MS = 2000;

  private final String source;
  private final Map<String, Object> values = new HashMap<>();
  /** Where each value came from, for error messages: the file, or the variable that overrode it. */
  private final Map<String, String> origins = new HashMap<>();

  private ConfigLoader(String source) {
    this.source = source;
  }

  /** Loads {@code file} (or only the environment when {@code file} is null) and validates it. */
  public static NodeConfig load(Path file, Map<String, String> environment) {
    ConfigLoader loader = new ConfigLoader(file == null ? ENVIRONMENT : file.toString());
    if (file != null) {
      loader.readFile(file);
    }
    loader.applyEnvironment(environment);
    return loader.validate();
  }

  /** The environment variable that overrides {@code key}. */
  public static String environmentName(String key) {
    String snake = key.replace('.', '_').replaceAll("([a-z0-9])([A-Z])", "$1_$2");
    return ENV_PREFIX + snake.toUpperCase();
  }

  /** Every key a configuration may contain, in documentation order. */
  public static Set<String> keys() {
    return KEYS.keySet();
  }

  private void readFile(Path file) {
    String text;
    try {
      text = Files.readString(file);
    } catch (NoSuchFileException e) {
      throw new ConfigException(source + ": file not found");
    } catch (IOException e) {
      throw new ConfigException(source + ": cannot read file (" + e.getMessage() + ")");
    }
    JsonObject json;
    try {
      json = new JsonObject(text);
    } catch (DecodeException | ClassCastException e) {
      throw new ConfigException(source + ": not a JSON object (" + firstLine(e.getMessage()) + ")");
    }
    flatten("", json);
  }

  /** Records each leaf under its dotted path; objects that are not known keys are descended into. */
  private void flatten(String prefix, JsonObject json) {
    for (String name : json.fieldNames()) {
      String key = prefix.isEmpty() ? name : prefix + "." + name;
      Object value = json.getValue(name);
      if (KEYS.containsKey(key)) {
        values.put(key, value);
        origins.put(key, source);
      } else if (value instanceof JsonObject nested && isSection(key)) {
        flatten(key, nested);
      } else {
        throw new ConfigException(source + ": unknown key '" + key + "'" + suggestion(key));
      }
    }
  }

  private static boolean isSection(String key) {
    return KEYS.keySet().stream().anyMatch(k -> k.startsWith(key + "."));
  }

  private static String suggestion(String key) {
    String lower = key.toLowerCase();
    return KEYS.keySet().stream()
        .filter(k -> k.toLowerCase().equals(lower) || k.replace("_", "").equalsIgnoreCase(key.replace("_", "")))
        .findFirst()
        .map(k -> " (did you mean '" + k + "'?)")
        .orElse("");
  }

  private void applyEnvironment(Map<String, String> environment) {
    for (String key : KEYS.keySet()) {
      String name = environmentName(key);
      String raw = environment.get(name);
      if (raw == null || raw.isEmpty()) {
        continue;
      }
      String origin = "environment variable " + name;
      origins.put(key, origin);
      values.put(key, parseEnvironmentValue(key, raw, origin));
    }
  }

  private Object parseEnvironmentValue(String key, String raw, String origin) {
    Type type = KEYS.get(key);
    try {
      return switch (type) {
        case INT, PORT, PORT_OR_ZERO -> Long.parseLong(raw.trim());
        case BOOLEAN -> switch (raw.trim().toLowerCase()) {
          case "true" -> true;
          case "false" -> false;
          default -> raw;
        };
        case MEMBERS -> new JsonArray(raw);
        case STRING_LIST -> raw.trim().startsWith("[")
            ? new JsonArray(raw)
            : new JsonArray(List.of(raw.split("\\s*,\\s*")));
        case STRING -> raw;
      };
    } catch (NumberFormatException e) {
      return raw; // reported as a wrong type, with the key, by validate()
    } catch (DecodeException e) {
      throw new ConfigException(origin + " (key '" + key + "'): not valid JSON (" + firstLine(e.getMessage()) + ")");
    }
  }

  private NodeConfig validate() {
    int nodeId = integer("nodeId", null, 1, Integer.MAX_VALUE);
    List<Member> members = members();
    Member self = members.stream().filter(m -> m.id() == nodeId).findFirst().orElseThrow(() ->
        fail("nodeId", "is " + nodeId + ", which is not among the ids in 'cluster.nodes' "
            + members.stream().map(Member::id).toList()));

    String httpHost = string("httpHost", DEFAULT_HOST);
    int httpPort = integer("httpPort", self.httpPort(), 1, 65535);
    String clusterHost = string("clusterManager.host", DEFAULT_HOST);
    int clusterPort = integer("clusterManager.port", self.clusterPort(), 1, 65535);
    String clusterPublicHost = string("clusterManager.publicHost", clusterHost);
    List<String> joinMembers = stringList("clusterManager.members",
        members.stream().map(Member::clusterAddress).toList());
    String eventBusHost = string("eventBus.host", DEFAULT_HOST);
    int eventBusPort = integer("eventBus.port", 0, 0, 65535);
    String eventBusPublicHost = string("eventBus.publicHost", eventBusHost);

    requireDistinctPorts(httpPort, clusterPort, eventBusPort);

    int heartbeatMs = integer("heartbeatMs", DEFAULT_HEARTBEAT_MS, 1, 60_000);
    int failureTimeoutMs = integer("failureTimeoutMs", DEFAULT_FAILURE_TIMEOUT_MS, 1, 600_000);
    if (failureTimeoutMs < 2 * heartbeatMs) {
      throw fail("failureTimeoutMs", "is " + failureTimeoutMs + " but must be at least twice heartbeatMs ("
          + heartbeatMs + "), or every late heartbeat would start an election");
    }
    int failureTimeoutMaxMs = integer("failureTimeoutMaxMs",
        (int) Math.min(600_000L, (long) ElectionSettings.DEFAULT_MAX_FACTOR * failureTimeoutMs), 1, 600_000);
    if (failureTimeoutMaxMs < failureTimeoutMs) {
      throw fail("failureTimeoutMaxMs", "is " + failureTimeoutMaxMs + " but must be at least failureTimeoutMs ("
          + failureTimeoutMs + "): it is how far the failure timeout may grow under load");
    }
    int takeoverDelayMs = integer("takeoverDelayMs", DEFAULT_TAKEOVER_DELAY_MS, 0, 3_600_000);

    LogLimits logLimits = new LogLimits(
        integer("log.memoryEntries", LogLimits.DEFAULT.memoryEntries(), 1, 100_000_000),
        integer("log.idempotencyKeys", LogLimits.DEFAULT.idempotencyKeys(), 0, 100_000_000),
        integer("log.memoryBytes", (int) LogLimits.DEFAULT.memoryBytes(), 1, Integer.MAX_VALUE));
    WriteLimits writeLimits = new WriteLimits(
        integer("api.maxWriteBytes", WriteLimits.DEFAULT.maxWriteBytes(), 64, WriteLimits.MAX_WRITE_BYTES_CEILING),
        integer("api.maxDepth", WriteLimits.DEFAULT.maxDepth(), 1, WriteLimits.MAX_DEPTH_CEILING),
        integer("api.maxKeys", WriteLimits.DEFAULT.maxKeys(), 0, Integer.MAX_VALUE));

    boolean chaosEnabled = bool("chaos.enabled", false);
    Optional<String> adminToken = optionalString("admin.token");
    if (chaosEnabled && adminToken.isEmpty()) {
      throw fail("chaos.enabled", "is true but 'admin.token' is not set; the chaos endpoints always need a token");
    }

    return new NodeConfig(
        source, nodeId,
        string("cluster.name", "bully"),
        members,
        httpHost, httpPort,
        clusterHost, clusterPort, clusterPublicHost, joinMembers,
        eventBusHost, eventBusPort, eventBusPublicHost,
        Path.of(string("dataDir", "data/node" + nodeId)),
        optionalString("mongo.connection_string"),
        string("mongo.db_name", "bully"),
        heartbeatMs, failureTimeoutMs, failureTimeoutMaxMs, takeoverDelayMs, logLimits, writeLimits,
        longValue("store.minFreeBytes", DEFAULT_MIN_FREE_BYTES, 0, Long.MAX_VALUE),
        chaosEnabled, adminToken, eventBusTls());
  }

  /** {@code eventBus.tls.*}: a key store, or the three PEM files; every file named must exist. */
  private Optional<EventBusTls> eventBusTls() {
    if (!bool("eventBus.tls.enabled", false)) {
      return Optional.empty();
    }
    Optional<Path> keyStore = existingFile("eventBus.tls.keyStore");
    Optional<String> password = optionalString("eventBus.tls.keyStorePassword");
    Optional<Path> cert = existingFile("eventBus.tls.certPath");
    Optional<Path> key = existingFile("eventBus.tls.keyPath");
    Optional<Path> ca = existingFile("eventBus.tls.caPath");
    if (keyStore.isPresent()) {
      if (password.isEmpty()) {
        throw fail("eventBus.tls.keyStorePassword", "is missing; the key store 'eventBus.tls.keyStore' needs its password");
      }
      if (cert.isPresent() || key.isPresent() || ca.isPresent()) {
        throw fail("eventBus.tls.keyStore", "is set together with PEM files; use either a key store or certPath, keyPath and caPath");
      }
      openKeyStore(keyStore.get(), password.get());
    } else if (cert.isEmpty() || key.isEmpty() || ca.isEmpty()) {
      throw fail(cert.isEmpty() ? "eventBus.tls.certPath" : key.isEmpty() ? "eventBus.tls.keyPath" : "eventBus.tls.caPath",
          "is missing; with eventBus.tls.enabled, set either 'eventBus.tls.keyStore' (and its password) or all of"
              + " 'eventBus.tls.certPath', 'eventBus.tls.keyPath' and 'eventBus.tls.caPath'");
    }
    return Optional.of(new EventBusTls(keyStore, password, cert, key, ca));
  }

  /** A key store that does not open with its password fails here, naming the key, rather than at start-up. */
  private void openKeyStore(Path file, String password) {
    try (var in = Files.newInputStream(file)) {
      java.security.KeyStore.getInstance(file.toString().endsWith(".jks") ? "JKS" : "PKCS12").load(in, password.toCharArray());
    } catch (IOException | java.security.GeneralSecurityException e) {
      throw fail("eventBus.tls.keyStorePassword", "does not open the key store '" + file + "': " + e.getMessage());
    }
  }

  private Optional<Path> existingFile(String key) {
    Optional<Path> path = optionalString(key).map(Path::of);
    if (path.isPresent() && !Files.isRegularFile(path.get())) {
      throw fail(key, "names '" + path.get() + "', which is not a readable file");
    }
    return path;
  }

  private List<Member> members() {
    Object value = values.get("cluster.nodes");
    if (value == null) {
      throw fail("cluster.nodes", "is missing; list every member as {\"id\", \"host\", \"httpPort\", \"clusterPort\"}");
    }
    if (!(value instanceof JsonArray array) || array.isEmpty()) {
      throw fail("cluster.nodes", "must be a non-empty array of members");
    }
    List<Member> members = new ArrayList<>();
    Set<Integer> ids = new HashSet<>();
    Map<String, String> portUsers = new HashMap<>();
    for (int i = 0; i < array.size(); i++) {
      String at = "cluster.nodes[" + i + "]";
      if (!(array.getValue(i) instanceof JsonObject entry)) {
        throw fail("cluster.nodes", "entry " + i + " must be an object");
      }
      for (String name : entry.fieldNames()) {
        if (!MEMBER_KEYS.contains(name)) {
          throw new ConfigException(origin("cluster.nodes") + ": unknown key '" + at + "." + name + "'");
        }
      }
      int id = memberInt(entry, at, "id", null, 1);
      String host = entry.getValue("host") == null ? DEFAULT_HOST : memberString(entry, at, "host");
      int httpPort = memberInt(entry, at, "httpPort", null, 1);
      int clusterPort = memberInt(entry, at, "clusterPort", null, 1);
      if (!ids.add(id)) {
        throw fail("cluster.nodes", "id " + id + " appears twice");
      }
      if (httpPort == clusterPort) {
        throw fail("cluster.nodes", "port " + httpPort + " is used twice (" + at + ".httpPort and " + at + ".clusterPort)");
      }
      claimPort(portUsers, host, httpPort, at + ".httpPort");
      claimPort(portUsers, host, clusterPort, at + ".clusterPort");
      members.add(new Member(id, host, httpPort, clusterPort));
    }
    members.sort((a, b) -> Integer.compare(a.id(), b.id()));
    return members;
  }

  private void claimPort(Map<String, String> portUsers, String host, int port, String user) {
    String previous = portUsers.put(host + ":" + port, user);
    if (previous != null) {
      throw fail("cluster.nodes", "port " + host + ":" + port + " is used twice (" + previous + " and " + user + ")");
    }
  }

  private void requireDistinctPorts(int httpPort, int clusterPort, int eventBusPort) {
    if (httpPort == clusterPort) {
      throw fail("clusterManager.port", "is " + clusterPort + ", the same port as 'httpPort'");
    }
    if (eventBusPort != 0 && (eventBusPort == httpPort || eventBusPort == clusterPort)) {
      throw fail("eventBus.port", "is " + eventBusPort + ", a port already used by 'httpPort' or 'clusterManager.port'");
    }
  }

  private int memberInt(JsonObject entry, String at, String name, Integer fallback, int min) {
    Object value = entry.getValue(name);
    if (value == null && fallback != null) {
      return fallback;
    }
    int max = name.equals("id") ? Integer.MAX_VALUE : 65535;
    if (!(value instanceof Number n) || n.doubleValue() != n.longValue() || n.longValue() < min || n.longValue() > max) {
      throw new ConfigException(origin("cluster.nodes") + ": key '" + at + "." + name + "' "
          + (value == null ? "is missing" : "must be an integer from " + min + " to " + max + ", got " + describe(value)));
    }
    return n.intValue();
  }

  private String memberString(JsonObject entry, String at, String name) {
    Object value = entry.getValue(name);
    if (!(value instanceof String s) || s.isBlank()) {
      throw new ConfigException(origin("cluster.nodes") + ": key '" + at + "." + name
          + "' must be a non-empty string, got " + describe(value));
    }
    return s;
  }

  private int integer(String key, Integer fallback, int min, int max) {
    return (int) longValue(key, fallback == null ? null : fallback.longValue(), min, max);
  }

  private long longValue(String key, Long fallback, long min, long max) {
    Object value = values.get(key);
    if (value == null) {
      if (fallback == null) {
        throw fail(key, "is missing");
      }
      return fallback;
    }
    if (!(value instanceof Number n) || n.doubleValue() != n.longValue()) {
      throw fail(key, "must be an integer, got " + describe(value));
    }
    if (n.longValue() < min || n.longValue() > max) {
      throw fail(key, "must be from " + min + " to " + max + ", got " + n.longValue());
    }
    return n.longValue();
  }

  private String string(String key, String fallback) {
    return optionalString(key).orElse(fallback);
  }

  private Optional<String> optionalString(String key) {
    Object value = values.get(key);
    if (value == null) {
      return Optional.empty();
    }
    if (!(value instanceof String s) || s.isBlank()) {
      throw fail(key, "must be a non-empty string, got " + describe(value));
    }
    return Optional.of(s);
  }

  private boolean bool(String key, boolean fallback) {
    Object value = values.get(key);
    if (value == null) {
      return fallback;
    }
    if (!(value instanceof Boolean b)) {
      throw fail(key, "must be true or false, got " + describe(value));
    }
    return b;
  }

  private List<String> stringList(String key, List<String> fallback) {
    Object value = values.get(key);
    if (value == null) {
      return fallback;
    }
    if (!(value instanceof JsonArray array) || array.isEmpty()) {
      throw fail(key, "must be a non-empty array of \"host:port\" strings, got " + describe(value));
    }
    List<String> list = new ArrayList<>();
    for (Object item : array) {
      if (!(item instanceof String s) || !s.matches("[^:\\s]+:\\d{1,5}")) {
        throw fail(key, "entries must be \"host:port\" strings, got " + describe(item));
      }
      list.add(s);
    }
    return list;
  }

  private ConfigException fail(String key, String problem) {
    return new ConfigException(origin(key) + ": key '" + key + "' " + problem);
  }

  private String origin(String key) {
    return origins.getOrDefault(key, source);
  }

  private static String describe(Object value) {
    if (value == null) {
      return "null";
    }
    if (value instanceof String s) {
      return "\"" + s + "\"";
    }
    if (value instanceof JsonObject) {
      return "an object";
    }
    if (value instanceof JsonArray) {
      return "an array";
    }
    return String.valueOf(value);
  }

  private static String firstLine(String message) {
    return message == null ? "" : message.lines().findFirst().orElse("");
  }
}
