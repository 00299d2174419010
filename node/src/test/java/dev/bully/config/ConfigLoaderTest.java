package dev.bully.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bully.store.StoreSync;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
  private static final String SECRET = "0123456789abcdef0123";
  private static final String NODES = """
      [ {"id": 1, "httpPort": 8081, "clusterPort": 5701},
        {"id": 2, "httpPort": 8082, "clusterPort": 5702},
        {"id": 3, "httpPort": 8083, "clusterPort": 5703} ]""";
  /** The members as a file writes them, with the cluster object left open for more keys. */
  private static final String CLUSTER = "\"cluster\": {\"nodes\": " + NODES;

  @TempDir
  Path dir;

  private Path write(String json) throws IOException {
    Path file = dir.resolve("node.json");
    Files.writeString(file, json);
    return file;
  }

  private String failure(String json, Map<String, String> env) throws IOException {
    Path file = write(json);
    return assertThrows(ConfigException.class, () -> ConfigLoader.load(file, env)).getMessage();
  }

  private String failure(String json) throws IOException {
    return failure(json, Map.of());
  }

  @Test
  void minimalFileGetsSafeDefaults() throws IOException {
    NodeConfig config = ConfigLoader.load(write("{\"nodeId\": 2, \"cluster\": {\"nodes\": " + NODES + "}}"), Map.of());

    assertEquals(2, config.nodeId());
    assertEquals("127.0.0.1", config.httpHost());
    assertEquals(8082, config.httpPort());
    assertEquals("127.0.0.1", config.clusterHost());
    assertEquals(5702, config.clusterPort());
    assertEquals("127.0.0.1", config.eventBusHost());
    assertEquals(List.of("127.0.0.1:5701", "127.0.0.1:5702", "127.0.0.1:5703"), config.joinMembers());
    assertEquals(Path.of("data/node2"), config.dataDir());
    assertEquals(Optional.empty(), config.mongoConnectionString());
    assertEquals(false, config.chaosEnabled());
    assertEquals(StoreSync.FSYNC, config.storeSync(), "durable means forced to the device unless traded away");
    assertEquals(2, config.majority());
    assertEquals(List.of(1, 3), config.peers().stream().map(Member::id).toList());
  }

  @Test
  void shippedLocalConfigsAreValid() {
    for (int id = 1; id <= 5; id++) {
      NodeConfig config = ConfigLoader.load(Path.of("../conf/node" + id + ".json"), Map.of());
      assertEquals(id, config.nodeId());
      assertEquals(8080 + id, config.httpPort());
      assertEquals(5, config.members().size());
    }
  }

  @Test
  void unknownKeyIsNamedWithTheFile() throws IOException {
    String message = failure("{\"nodeId\": 1, \"cluster\": {\"nodes\": " + NODES + "}, \"heartbeatMS\": 50}");
    assertTrue(message.startsWith(dir.resolve("node.json") + ": unknown key 'heartbeatMS'"), message);
    assertTrue(message.contains("did you mean 'heartbeatMs'"), message);
  }

  @Test
  void unknownNestedKeyIsNamedByItsPath() throws IOException {
    String message = failure("{\"nodeId\": 1, \"cluster\": {\"nodes\": " + NODES + ", \"size\": 3}}");
    assertTrue(message.endsWith(": unknown key 'cluster.size'"), message);
  }

  @Test
  void wrongTypeIsNamed() throws IOException {
    String message = failure("{\"nodeId\": 1, \"cluster\": {\"nodes\": " + NODES + "}, \"httpPort\": \"80a\"}");
    assertTrue(message.endsWith(": key 'httpPort' must be an integer, got \"80a\""), message);
  }

  @Test
  void missingNodeIdIsNamed() throws IOException {
    String message = failure("{\"cluster\": {\"nodes\": " + NODES + "}}");
    assertTrue(message.endsWith(": key 'nodeId' is missing"), message);
  }

  @Test
  void nodeIdMustBeAConfiguredMember() throws IOException {
    String message = failure("{\"nodeId\": 7, \"cluster\": {\"nodes\": " + NODES + "}}");
    assertTrue(message.contains("key 'nodeId' is 7, which is not among the ids in 'cluster.nodes' [1, 2, 3]"), message);
  }

  @Test
  void duplicatePortsAcrossMembersAreNamed() throws IOException {
    String nodes = "[{\"id\": 1, \"httpPort\": 8081, \"clusterPort\": 5701}, {\"id\": 2, \"httpPort\": 8081, \"clusterPort\": 5702}]";
    String message = failure("{\"nodeId\": 1, \"cluster\": {\"nodes\": " + nodes + "}}");
    assertTrue(message.contains("key 'cluster.nodes' port 127.0.0.1:8081 is used twice "
        + "(cluster.nodes[0].httpPort and cluster.nodes[1].httpPort)"), message);
  }

  @Test
  void httpPortEqualToClusterPortIsRejected() throws IOException {
    String message = failure("{\"nodeId\": 1, \"cluster\": {\"nodes\": " + NODES + "}, \"httpPort\": 5701}");
    assertTrue(message.contains("key 'clusterManager.port' is 5701, the same port as 'httpPort'"), message);
  }

  @Test
  void duplicateIdsAreRejected() throws IOException {
    String nodes = "[{\"id\": 1, \"httpPort\": 8081, \"clusterPort\": 5701}, {\"id\": 1, \"httpPort\": 8082, \"clusterPort\": 5702}]";
    assertTrue(failure("{\"nodeId\": 1, \"cluster\": {\"nodes\": " + nodes + "}}").contains("id 1 appears twice"));
  }

  @Test
  void memberEntryWithoutPortIsNamed() throws IOException {
    String nodes = "[{\"id\": 1, \"httpPort\": 8081}]";
    String message = failure("{\"nodeId\": 1, \"cluster\": {\"nodes\": " + nodes + "}}");
    assertTrue(message.endsWith("key 'cluster.nodes[0].clusterPort' is missing"), message);
  }

  @Test
  void invalidJsonNamesTheFile() throws IOException {
    String message = failure("{\"nodeId\": 1,");
    assertTrue(message.startsWith(dir.resolve("node.json") + ": not a JSON object"), message);
  }

  @Test
  void missingFileIsNamed() {
    Path missing = dir.resolve("nope.json");
    String message = assertThrows(ConfigException.class, () -> ConfigLoader.load(missing, Map.of())).getMessage();
    assertEquals(missing + ": file not found", message);
  }

  @Test
  void chaosNeedsAnAdminToken() throws IOException {
    String message = failure("{\"nodeId\": 1, \"cluster\": {\"nodes\": " + NODES + "}, \"chaos\": {\"enabled\": true}}");
    assertTrue(message.contains("key 'chaos.enabled' is true but 'admin.token' is not set"), message);
  }

  @Test
  void storeSyncIsFsyncOrOsAndNamesTheKey() throws IOException {
    NodeConfig os = ConfigLoader.load(write("{\"nodeId\": 1, \"cluster\": {\"nodes\": " + NODES + "}, \"store\": {\"sync\": \"os\"}}"), Map.of());
    assertEquals(StoreSync.OS, os.storeSync());
    String message = failure("{\"nodeId\": 1, \"cluster\": {\"nodes\": " + NODES + "}, \"store\": {\"sync\": \"never\"}}");
    assertTrue(message.contains("node.json: key 'store.sync' is \"never\" but must be \"fsync\""), message);
  }

  @Test
  void failureTimeoutMustCoverMissedHeartbeats() throws IOException {
    String message = failure("{\"nodeId\": 1, \"cluster\": {\"nodes\": " + NODES + "}, \"heartbeatMs\": 100, \"failureTimeoutMs\": 150}");
    assertTrue(message.contains("key 'failureTimeoutMs' is 150 but must be at least twice heartbeatMs (100)"), message);
  }

  @Test
  void environmentOverridesFileValues() throws IOException {
    Path file = write("{\"nodeId\": 1, \"cluster\": {\"nodes\": " + NODES + "}}");
    NodeConfig config = ConfigLoader.load(file, Map.of(
        "BULLY_NODE_ID", "3",
        "BULLY_MONGO_CONNECTION_STRING", "mongodb://db:27017",
        "BULLY_CLUSTER_MANAGER_MEMBERS", "10.0.0.1:5701, 10.0.0.2:5701",
        "BULLY_CHAOS_ENABLED", "true",
        "BULLY_ADMIN_TOKEN", "s3cret"));

    assertEquals(3, config.nodeId());
    assertEquals(Optional.of("mongodb://db:27017"), config.mongoConnectionString());
    assertEquals(List.of("10.0.0.1:5701", "10.0.0.2:5701"), config.joinMembers());
    assertTrue(config.chaosEnabled());
  }

  @Test
  void environmentAloneIsAConfiguration() {
    NodeConfig config = ConfigLoader.load(null, Map.of("BULLY_NODE_ID", "1", "BULLY_CLUSTER_NODES", NODES));
    assertEquals(ConfigLoader.ENVIRONMENT, config.source());
    assertEquals(3, config.members().size());
  }

  @Test
  void badEnvironmentValueNamesTheVariableAndKey() throws IOException {
    String message = failure("{\"nodeId\": 1, \"cluster\": {\"nodes\": " + NODES + "}}", Map.of("BULLY_HEARTBEAT_MS", "fast"));
    assertEquals("environment variable BULLY_HEARTBEAT_MS: key 'heartbeatMs' must be an integer, got \"fast\"", message);
  }

  @Test
  void environmentNamesFollowTheKeyPath() {
    assertEquals("BULLY_MONGO_CONNECTION_STRING", ConfigLoader.environmentName("mongo.connection_string"));
    assertEquals("BULLY_FAILURE_TIMEOUT_MS", ConfigLoader.environmentName("failureTimeoutMs"));
    assertEquals("BULLY_CLUSTER_MANAGER_PUBLIC_HOST", ConfigLoader.environmentName("clusterManager.publicHost"));
  }

  @Test
  void eventBusTlsIsOffByDefaultAndNeedsItsMaterialWhenOn() throws IOException {
    assertTrue(ConfigLoader.load(write("{\"nodeId\": 1, \"cluster\": {\"nodes\": " + NODES + "}}"), Map.of())
        .eventBusTls().isEmpty());
    String missing = failure("{\"nodeId\": 1, \"cluster\": {\"nodes\": " + NODES + "}, \"eventBus\": {\"tls\": {\"enabled\": true}}}");
    assertTrue(missing.startsWith(dir.resolve("node.json") + ": key 'eventBus.tls.certPath' is missing"), missing);
    String absent = failure("{\"nodeId\": 1, \"cluster\": {\"nodes\": " + NODES + "}, \"eventBus\": {\"tls\": "
        + "{\"enabled\": true, \"keyStore\": \"/nonexistent/node.p12\", \"keyStorePassword\": \"x\"}}}");
    assertTrue(absent.endsWith(": key 'eventBus.tls.keyStore' names '/nonexistent/node.p12', which is not a readable file"), absent);
    Path store = java.nio.file.Files.writeString(dir.resolve("node.p12"), "not checked here");
    String noPassword = failure("{\"nodeId\": 1, \"cluster\": {\"nodes\": " + NODES + "}, \"eventBus\": {\"tls\": "
        + "{\"enabled\": true, \"keyStore\": \"" + store + "\"}}}");
    assertTrue(noPassword.contains("key 'eventBus.tls.keyStorePassword' is missing"), noPassword);
    String notAStore = failure("{\"nodeId\": 1, \"cluster\": {\"nodes\": " + NODES + "}, \"eventBus\": {\"tls\": "
        + "{\"enabled\": true, \"keyStore\": \"" + store + "\", \"keyStorePassword\": \"x\"}}}");
    assertTrue(notAStore.contains("key 'eventBus.tls.keyStorePassword' does not open the key store"), notAStore);
    NodeConfig config = ConfigLoader.load(write("{\"nodeId\": 1, \"cluster\": {\"nodes\": " + NODES + "}}"),
        Map.of("BULLY_EVENT_BUS_TLS_ENABLED", "true", "BULLY_EVENT_BUS_TLS_CERT_PATH", store.toString(),
            "BULLY_EVENT_BUS_TLS_KEY_PATH", store.toString(), "BULLY_EVENT_BUS_TLS_CA_PATH", store.toString()));
    assertEquals(store, config.eventBusTls().orElseThrow().certPath().orElseThrow(), "environment variables set it too");
  }

  @Test
  void httpTlsNeedsItsFilesAndMakesEveryMembersUrlHttps() throws IOException {
    String missing = failure("{\"nodeId\": 1, \"cluster\": {\"nodes\": " + NODES + "}, \"http\": {\"tls\": {\"enabled\": true}}}");
    assertTrue(missing.startsWith(dir.resolve("node.json") + ": key 'http.tls.certPath' is missing"), missing);
    Path pem = java.nio.file.Files.writeString(dir.resolve("http.pem"), "not checked here");
    NodeConfig config = ConfigLoader.load(write("{\"nodeId\": 1, \"cluster\": {\"nodes\": " + NODES + "}, \"http\": {\"tls\": "
        + "{\"enabled\": true, \"certPath\": \"" + pem + "\", \"keyPath\": \"" + pem + "\"}}}"), Map.of());
    assertEquals(pem, config.httpTls().orElseThrow().certPath().orElseThrow());
    assertEquals("https://127.0.0.1:8083", config.member(3).orElseThrow().httpUrl(), "redirects and the dashboard say https");
    assertEquals("http://127.0.0.1:8083", ConfigLoader.load(write("{\"nodeId\": 1, \"cluster\": {\"nodes\": " + NODES + "}}"),
        Map.of()).member(3).orElseThrow().httpUrl());
  }

  // cluster.secret and cluster.secretFile: required beyond loopback, and never printed

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
