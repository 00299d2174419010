package dev.bully;

import dev.bully.config.ConfigException;
import dev.bully.config.ConfigLoader;
import dev.bully.config.NodeConfig;
import dev.bully.election.RuntimePauses;
import dev.bully.node.Node;
import dev.bully.node.NodeNameConverter;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code java -jar bully-node.jar -conf conf/node1.json}: starts one node and stops it cleanly on
 * SIGTERM. Without {@code -conf}, the configuration comes from {@code BULLY_*} environment
 * variables alone.
 */
@Command(name = "java -jar bully-node.jar", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
    description = "Starts one node of a bully-cluster and stops it cleanly on SIGTERM.",
    usageHelpWidth = 100,
    footer = "Every key can also be set by an environment variable, e.g. BULLY_NODE_ID, BULLY_HTTP_PORT; without -conf"
        + " the configuration comes from them alone (see docs/operations.md: Configuration).")
public final class Main {
  static final int EXIT_USAGE = 2;
  static final int EXIT_FAILED = 1;
  private static final long STOP_TIMEOUT_MS = 15_000;

  @Option(names = {"-conf", "--conf"}, paramLabel = "FILE", description = "the node's JSON configuration")
  private Path configFile;

  private Main() {
  }

  public static void main(String[] args) {
    // Before any Hazelcast class loads, so its first lines go through SLF4J too.
    System.setProperty("hazelcast.logging.type", "slf4j");
    Main options = new Main();
    CommandLine line = new CommandLine(options);
    try {
      line.parseArgs(args);
    } catch (CommandLine.ParameterException e) {
      System.err.println("bully-node: " + e.getMessage());
      line.usage(System.err);
      System.exit(EXIT_USAGE);
      return;
    }
    if (CommandLine.printHelpIfRequested(line.getParseResult())) {
      return;
    }
    // Parsed only: the node runs on Vert.x's threads once this method returns.
    Path configFile = options.configFile;

    NodeConfig config;
    try {
      config = ConfigLoader.load(configFile, System.getenv());
    } catch (ConfigException e) {
      System.err.println("bully-node: " + e.getMessage());
      System.exit(EXIT_USAGE);
      return;
    }

    System.setProperty(NodeNameConverter.PROPERTY, "node-" + config.nodeId());
    RuntimePauses.watch(); // from now, so that the pauses of start-up are learned too
    Logger log = LoggerFactory.getLogger(Main.class);
    log.info("Starting node {} of cluster '{}' from {}", config.nodeId(), config.clusterName(), config.source());
    long startedNs = System.nanoTime();

    Node node;
    try {
      node = Node.start(config).toCompletionStage().toCompletableFuture().join();
    } catch (RuntimeException e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      log.error("Node {} could not start: {}", config.nodeId(), cause.getMessage(), cause);
      System.err.println("bully-node: node " + config.nodeId() + " could not start: " + cause.getMessage());
      System.exit(EXIT_FAILED);
      return;
    }
    log.info("Node {} is ready in {} ms", config.nodeId(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedNs));

    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      log.info("Node {} is stopping", config.nodeId());
      CompletableFuture<Void> stopped = node.stop().toCompletionStage().toCompletableFuture();
      try {
        stopped.get(STOP_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        log.info("Node {} stopped", config.nodeId());
      } catch (Exception e) {
        log.warn("Node {} did not stop within {} ms", config.nodeId(), STOP_TIMEOUT_MS);
      }
    }, "bully-shutdown"));
  }

  /** The version the jar's manifest carries, or "development" when run from classes. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String version = Main.class.getPackage().getImplementationVersion();
      return new String[] {"bully-node " + (version != null ? version : "development")};
    }
  }
}
