package dev.bully;

import dev.bully.config.ConfigException;
import dev.bully.config.ConfigLoader;
import dev.bully.config.NodeConfig;
import dev.bully.node.Node;
import dev.bully.node.NodeNameConverter;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code java -jar bully-node.jar -conf conf/node1.json}: starts one node and stops it cleanly on
 * SIGTERM. Without {@code -conf}, the configuration comes from {@code BULLY_*} environment
 * variables alone.
 */
public final class Main {
  static final int EXIT_USAGE = 2;
  static final int EXIT_FAILED = 1;
  private static final long STOP_TIMEOUT_MS = 15_000;

  private Main() {
  }

  public static void main(String[] args) {
    // Before any Hazelcast class loads, so its first lines go through SLF4J too.
    System.setProperty("hazelcast.logging.type", "slf4j");
    Path configFile = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "-conf", "--conf" -> {
          if (i + 1 >= args.length) {
            usage("-conf needs a file");
          }
          configFile = Path.of(args[++i]);
        }
        case "-h", "--help" -> {
          System.out.println(usageText());
          return;
        }
        default -> usage("unknown argument '" + args[i] + "'");
      }
    }

    NodeConfig config;
    try {
      config = ConfigLoader.load(configFile, System.getenv());
    } catch (ConfigException e) {
      System.err.println("bully-node: " + e.getMessage());
      System.exit(EXIT_USAGE);
      return;
    }

    System.setProperty(NodeNameConverter.PROPERTY, "node-" + config.nodeId());
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

  private static void usage(String problem) {
    System.err.println("bully-node: " + problem);
    System.err.println(usageText());
    System.exit(EXIT_USAGE);
  }

  private static String usageText() {
    return """
        usage: java -jar bully-node.jar [-conf FILE]
          -conf FILE   the node's JSON configuration (see docs/operations.md: Configuration)
        Every key can also be set by an environment variable, e.g. BULLY_NODE_ID, BULLY_HTTP_PORT.""";
  }
}
