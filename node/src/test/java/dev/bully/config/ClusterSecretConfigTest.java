package dev.bully.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code cluster.secret} and {@code cluster.secretFile}: required beyond loopback, and never printed. */
class ClusterSecretConfigTest {
  private static final String CLUSTER = "\"cluster\": {\"nodes\": [{\"id\": 1, \"httpPort\": 8081, \"clusterPort\": 5701}]";
  private static final String SECRET = "0123456789abcdef0123";

  @TempDir
  Path dir;

  private Path write(String json) throws IOException {
    Path file = dir.resolve("node.json");
    Files.writeString(file, json);
    return file;
  }

  private String failure(String json) throws IOException {
    Path file = write(json);
    return assertThrows(ConfigException.class, () -> ConfigLoader.load(file, Map.of())).getMessage();
  }

  @Test
  void aLoopbackNodeNeedsNoSecret() throws IOException {
    assertEquals(Optional.empty(), ConfigLoader.load(write("{\"nodeId\": 1, " + CLUSTER + "}}"), Map.of()).clusterSecret());
  }

  @Test
  void bindingBeyondLoopbackWithoutASecretIsRefusedNamingTheKey() throws IOException {
    for (String key : new String[] {"httpHost", "clusterManager.host", "eventBus.host"}) {
      String[] path = key.split("\\.");
      String binding = path.length == 1 ? "\"" + key + "\": \"0.0.0.0\""
          : "\"" + path[0] + "\": {\"" + path[1] + "\": \"0.0.0.0\"}";
      String message = failure("{\"nodeId\": 1, " + CLUSTER + "}, " + binding + "}");
      assertTrue(message.startsWith(dir.resolve("node.json") + ": key '" + key + "' is '0.0.0.0', beyond loopback,"
          + " but no cluster secret is set"), message);
    }
  }

  @Test
  void aSecretAllowsBindingBeyondLoopback() throws IOException {
    NodeConfig config = ConfigLoader.load(write("{\"nodeId\": 1, " + CLUSTER + ", \"secret\": \"" + SECRET + "\"},"
        + " \"httpHost\": \"0.0.0.0\"}"), Map.of());
    assertEquals(Optional.of(SECRET), config.clusterSecret());
  }

  @Test
  void aShortSecretIsRefused() throws IOException {
    String message = failure("{\"nodeId\": 1, " + CLUSTER + ", \"secret\": \"short\"}}");
    assertTrue(message.endsWith(": key 'cluster.secret' is 5 characters long; a cluster secret needs at least 16"
        + " (e.g. openssl rand -base64 32)"), message);
  }

  @Test
  void aSecretFileIsReadWithoutItsLineEnd() throws IOException {
    Path secretFile = dir.resolve("cluster.secret");
    Files.writeString(secretFile, SECRET + "\n");
    NodeConfig config = ConfigLoader.load(write("{\"nodeId\": 1, " + CLUSTER + ", \"secretFile\": \"" + secretFile + "\"}}"), Map.of());
    assertEquals(Optional.of(SECRET), config.clusterSecret());
  }

  @Test
  void aMissingSecretFileOrBothKeysAreRefused() throws IOException {
    assertTrue(failure("{\"nodeId\": 1, " + CLUSTER + ", \"secretFile\": \"" + dir.resolve("none") + "\"}}")
        .contains(": key 'cluster.secretFile' names '" + dir.resolve("none") + "', which is not a readable file"));
    Path secretFile = dir.resolve("cluster.secret");
    Files.writeString(secretFile, SECRET);
    assertTrue(failure("{\"nodeId\": 1, " + CLUSTER + ", \"secret\": \"" + SECRET + "\", \"secretFile\": \"" + secretFile + "\"}}")
        .endsWith(": key 'cluster.secretFile' is set together with 'cluster.secret'; set one of them"));
  }

  @Test
  void theSecretComesFromTheEnvironmentToo() throws IOException {
    NodeConfig config = ConfigLoader.load(write("{\"nodeId\": 1, " + CLUSTER + "}, \"httpHost\": \"0.0.0.0\"}"),
        Map.of(ConfigLoader.environmentName("cluster.secret"), SECRET));
    assertEquals(Optional.of(SECRET), config.clusterSecret());
    assertEquals("BULLY_CLUSTER_SECRET", ConfigLoader.environmentName("cluster.secret"));
  }

  @Test
  void theConfigurationPrintsNeitherSecretNorToken() throws IOException {
    NodeConfig config = ConfigLoader.load(write("{\"nodeId\": 1, " + CLUSTER + ", \"secret\": \"" + SECRET + "\"},"
        + " \"admin\": {\"token\": \"admin-token-value\"}}"), Map.of());
    assertFalse(config.toString().contains(SECRET), config.toString());
    assertFalse(config.toString().contains("admin-token-value"), config.toString());
  }
}
