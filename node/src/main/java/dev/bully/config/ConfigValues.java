package dev.bully.config;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A configuration's raw values: the JSON file's keys, flattened to dotted paths, with environment
 * overrides applied, each remembered with where it came from. Typed getters check each value's
 * type and range and fail with a message naming the file or variable and the key; what the values
 * mean together is {@link ConfigLoader}'s.
 */
final class ConfigValues {
  private static final String ENV_PREFIX = "BULLY_";

  /** The type of each known key. Anything else in the file is rejected as unknown. */
  private enum Type { INT, PORT, PORT_OR_ZERO, STRING, BOOLEAN, STRING_LIST, MEMBERS }

  private static final Map<String, Type> KEYS = new LinkedHashMap<>();

  static {
    KEYS.put("nodeId", Type.INT);
    KEYS.put("cluster.name", Type.STRING);
    KEYS.put("cluster.nodes", Type.MEMBERS);
    KEYS.put("cluster.secret", Type.STRING);
    KEYS.put("cluster.secretFile", Type.STRING);
    KEYS.put("httpHost", Type.STRING);
    KEYS.put("httpPort", Type.PORT);
    KEYS.put("http.tls.enabled", Type.BOOLEAN);
    KEYS.put("http.tls.keyStore", Type.STRING);
    KEYS.put("http.tls.keyStorePassword", Type.STRING);
    KEYS.put("http.tls.certPath", Type.STRING);
    KEYS.put("http.tls.keyPath", Type.STRING);
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
    KEYS.put("mongo.embeddedPort", Type.PORT_OR_ZERO);
    KEYS.put("data.writesCollection", Type.BOOLEAN);
    KEYS.put("data.cacheMegabytes", Type.INT);
    KEYS.put("heartbeatMs", Type.INT);
    KEYS.put("failureTimeoutMs", Type.INT);
    KEYS.put("failureTimeoutMaxMs", Type.INT);
    KEYS.put("store.minFreeBytes", Type.INT);
    KEYS.put("store.sync", Type.STRING);
    KEYS.put("takeoverDelayMs", Type.INT);
    KEYS.put("log.memoryEntries", Type.INT);
    KEYS.put("log.idempotencyKeys", Type.INT);
    KEYS.put("log.memoryBytes", Type.INT);
    KEYS.put("log.retainEntries", Type.INT);
    KEYS.put("api.maxWriteBytes", Type.INT);
    KEYS.put("api.maxDepth", Type.INT);
    KEYS.put("api.maxKeys", Type.INT);
    KEYS.put("api.token", Type.STRING);
    KEYS.put("chaos.enabled", Type.BOOLEAN);
    KEYS.put("admin.token", Type.STRING);
  }

  private final String source;
  private final Map<String, Object> values = new HashMap<>();
  /** Where each value came from, for error messages: the file, or the variable that overrode it. */
  private final Map<String, String> origins = new HashMap<>();

  ConfigValues(String source) {
    this.source = source;
  }

  /** The file the values were read from, or {@link ConfigLoader#ENVIRONMENT}. */
  String source() {
    return source;
  }

  /** The environment variable that overrides {@code key}. */
  static String environmentName(String key) {
    String snake = key.replace('.', '_').replaceAll("([a-z0-9])([A-Z])", "$1_$2");
    return ENV_PREFIX + snake.toUpperCase();
  }

  /** Every key a configuration may contain, in documentation order. */
  static Set<String> keys() {
    return KEYS.keySet();
  }

  /** The value of {@code key} as read, not checked; null when absent. */
  Object raw(String key) {
    return values.get(key);
  }

  void readFile(Path file) {
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

  void applyEnvironment(Map<String, String> environment) {
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

  Optional<Path> existingFile(String key) {
    Optional<Path> path = optionalString(key).map(Path::of);
    if (path.isPresent() && !Files.isRegularFile(path.get())) {
      throw fail(key, "names '" + path.get() + "', which is not a readable file");
    }
    return path;
  }

  int integer(String key, Integer fallback, int min, int max) {
    return (int) longValue(key, fallback == null ? null : fallback.longValue(), min, max);
  }

  long longValue(String key, Long fallback, long min, long max) {
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

  String string(String key, String fallback) {
    return optionalString(key).orElse(fallback);
  }

  Optional<String> optionalString(String key) {
    Object value = values.get(key);
    if (value == null) {
      return Optional.empty();
    }
    if (!(value instanceof String s) || s.isBlank()) {
      throw fail(key, "must be a non-empty string, got " + describe(value));
    }
    return Optional.of(s);
  }

  boolean bool(String key, boolean fallback) {
    Object value = values.get(key);
    if (value == null) {
      return fallback;
    }
    if (!(value instanceof Boolean b)) {
      throw fail(key, "must be true or false, got " + describe(value));
    }
    return b;
  }

  List<String> stringList(String key, List<String> fallback) {
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

  ConfigException fail(String key, String problem) {
    return new ConfigException(origin(key) + ": key '" + key + "' " + problem);
  }

  String origin(String key) {
    return origins.getOrDefault(key, source);
  }

  static String describe(Object value) {
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
