package dev.bully.config;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * The configurations of a local cluster of N members, for {@code bin/cluster.sh up N}: {@code
 * java -cp bully-node.jar dev.bully.config.LocalConfigs CONF_DIR N OUT_DIR} reads
 * {@code CONF_DIR/node<ID>.json} with the node's own loader, and writes into {@code OUT_DIR} the
 * configuration of each of the N lowest ids with {@code cluster.nodes} cut to those N, so that a
 * cluster of three is three members, whose majority is two. A cluster of fewer members than
 * {@code CONF_DIR} configures keeps its data apart ({@code data/cluster-of-N/node<ID>}): a node's
 * log must never move to a cluster whose majority is smaller than the one that committed it.
 * Also writes {@code OUT_DIR/ports}, a line per member: {@code id httpHost httpPort clusterPort},
 * and, unless the configurations set a cluster secret, {@code OUT_DIR/cluster.secret}, which every
 * node's {@code cluster.secretFile} then names.
 * A file it cannot read or a configuration that is not valid is an error naming the file and key.
 */
public final class LocalConfigs {
  private LocalConfigs() {
  }

  public static void main(String[] args) {
    System.exit(new CommandLine(new Cli()).execute(args));
  }

  @Command(name = "LocalConfigs", mixinStandardHelpOptions = true,
      description = "Writes the configuration files of a local cluster of NODE_COUNT nodes (for bin/cluster.sh).")
  private static final class Cli implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "CONF_DIR", description = "the folder of the nodes' configuration files")
    private Path confDir;

    @Parameters(index = "1", paramLabel = "NODE_COUNT", description = "how many of them run")
    private int count;

    @Parameters(index = "2", paramLabel = "OUT_DIR", description = "where the running nodes' files go")
    private Path outDir;

    @Override
    public Integer call() {
      try {
        write(confDir, count, outDir, System.getenv());
        return 0;
      } catch (ConfigException e) {
        System.err.println("cluster.sh: " + e.getMessage());
        return 2;
      }
    }
  }

  static void write(Path confDir, int count, Path outDir, Map<String, String> environment) {
    Path first = confDir.resolve("node1.json");
    NodeConfig one = ConfigLoader.load(first, environment);
    List<Member> members = one.members();
    if (count < 1 || count > members.size()) {
      throw new ConfigException(first + " (key 'cluster.nodes'): configures " + members.size() + " members "
          + members.stream().map(Member::id).toList() + "; a cluster of " + count + " cannot be made from it");
    }
    List<Member> chosen = members.subList(0, count);
    List<String> ports = new ArrayList<>();
    try {
      Files.createDirectories(outDir);
      Path secretFile = secretFile(outDir);
      for (Member member : chosen) {
        Path source = confDir.resolve("node" + member.id() + ".json");
        NodeConfig config = ConfigLoader.load(source, environment); // validates it as the node will
        JsonObject json = read(source);
        JsonArray nodes = new JsonArray();
        memberList(json, source).forEach(node -> {
          if (chosen.stream().anyMatch(m -> m.id() == ((JsonObject) node).getInteger("id"))) {
            nodes.add(node);
          }
        });
        putInCluster(json, "nodes", nodes);
        if (config.clusterSecret().isEmpty()) {
          putInCluster(json, "secretFile", secretFile.toAbsolutePath().toString());
        }
        if (count < members.size()) {
          json.put("dataDir", "data/cluster-of-" + count + "/node" + member.id());
        }
        Path target = outDir.resolve("node" + member.id() + ".json");
        Files.writeString(target, json.encodePrettily() + "\n");
        ConfigLoader.load(target, environment);
        ports.add(member.id() + " " + config.httpHost() + " " + config.httpPort() + " " + config.clusterPort());
      }
      Files.write(outDir.resolve("ports"), ports);
    } catch (IOException e) {
      throw new ConfigException(outDir + ": cannot write the cluster's configuration (" + e.getMessage() + ")");
    }
  }

  /**
   * The local cluster's secret, {@code OUT_DIR/cluster.secret}: made once (32 random bytes, base64,
   * readable by its owner only) and kept, so that nodes restarted later still share it.
   */
  private static Path secretFile(Path outDir) throws IOException {
    Path file = outDir.resolve("cluster.secret");
    if (!Files.exists(file)) {
      byte[] bytes = new byte[32];
      new java.security.SecureRandom().nextBytes(bytes);
      Path fresh = Files.createTempFile(outDir, "cluster.secret", ".new");
      try {
        Files.setPosixFilePermissions(fresh, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
      } catch (UnsupportedOperationException e) {
        // not a POSIX file system: the folder's permissions are what protects it
      }
      Files.writeString(fresh, java.util.Base64.getEncoder().encodeToString(bytes) + "\n");
      Files.move(fresh, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }
    return file;
  }

  private static JsonObject read(Path file) throws IOException {
    try {
      return new JsonObject(Files.readString(file));
    } catch (DecodeException e) {
      throw new ConfigException(file + ": not valid JSON"); // the loader has read it already; kept for safety
    }
  }

  /** {@code cluster.nodes}, nested ({@code {"cluster": {"nodes": [...]}}}) or as a dotted key. */
  private static JsonArray memberList(JsonObject json, Path source) {
    if (json.getValue("cluster.nodes") instanceof JsonArray dotted) {
      return dotted;
    }
    if (json.getValue("cluster") instanceof JsonObject cluster && cluster.getValue("nodes") instanceof JsonArray nodes) {
      return nodes;
    }
    throw new ConfigException(source + " (key 'cluster.nodes'): missing; the members must be in the file");
  }

  /** Sets {@code cluster.<name>} as the file writes its keys: dotted, or in the {@code cluster} object. */
  private static void putInCluster(JsonObject json, String name, Object value) {
    if (!json.containsKey("cluster." + name) && json.getValue("cluster") instanceof JsonObject cluster) {
      cluster.put(name, value);
    } else {
      json.put("cluster." + name, value);
    }
  }
}
