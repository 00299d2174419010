package dev.bully.node;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.CoreConstants;
import ch.qos.logback.core.pattern.DynamicConverter;
import ch.qos.logback.core.spi.ContextAwareBase;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The node's logging, set up in code (found by logback as a {@code Configurator} service): one
 * line per event with the node's name, so that merged logs of all nodes read as one transcript.
 *
 * <p>In code rather than in a {@code logback.xml}, because logback's XML configuration loads and
 * runs an XML parser at every start: set up from XML, logback's first line took 0.35 s and 0.3 s
 * more CPU than set up here (measured without a class-data archive), on two cores that three
 * starting nodes share. {@code -Dlogback.configurationFile=FILE}
 * still configures logging from a file; {@code -Dbully.log.level=DEBUG} sets the root level.
 */
public final class NodeLogging extends ContextAwareBase implements Configurator {
  static final String PATTERN = "%d{yyyy-MM-dd'T'HH:mm:ss.SSS} %-5level [%node] %logger{0} - %msg%n";

  @Override
  public ExecutionStatus configure(LoggerContext context) {
    if (System.getProperty("logback.configurationFile") != null) {
      return ExecutionStatus.INVOKE_NEXT_IF_ANY;
    }
    // The node's name is read per event: Vert.x starts logging before the configuration is loaded.
    @SuppressWarnings("unchecked")
    Map<String, Supplier<DynamicConverter>> rules =
        (Map<String, Supplier<DynamicConverter>>) context.getObject(CoreConstants.PATTERN_RULE_REGISTRY_FOR_SUPPLIERS);
    if (rules == null) {
      rules = new HashMap<>();
      context.putObject(CoreConstants.PATTERN_RULE_REGISTRY_FOR_SUPPLIERS, rules);
    }
    rules.put("node", NodeNameConverter::new);

    PatternLayoutEncoder encoder = new PatternLayoutEncoder();
    encoder.setContext(context);
    encoder.setPattern(PATTERN);
    encoder.start();
    ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
    console.setContext(context);
    console.setName("STDOUT");
    console.setEncoder(encoder);
    console.start();

    // A dashboard that disconnects abruptly is one DEBUG line, not an ERROR with its exception.
    ClientDisconnects disconnects = new ClientDisconnects();
    disconnects.setContext(context);
    disconnects.start();
    context.addTurboFilter(disconnects);
    PeerConnectionWarnings peerConnections = new PeerConnectionWarnings();
    peerConnections.setContext(context);
    peerConnections.start();
    context.addTurboFilter(peerConnections);

    level(context, "com.hazelcast", Level.WARN);
    // The CP subsystem is not used; its "UNSAFE mode" warning at every start is noise.
    level(context, "com.hazelcast.cp", Level.ERROR);
    // Who the cluster manager counts as members, and when it moves its partitions: a few lines per change, and what a
    // node's operations on the cluster manager's maps (an event-bus address, a subscription) wait for when they hang.
    level(context, "com.hazelcast.internal.cluster.ClusterService", Level.INFO);
    level(context, "com.hazelcast.internal.partition.impl.MigrationManager", Level.INFO);
    level(context, "org.mongodb.driver", Level.WARN);
    level(context, "de.bwaldvogel", Level.WARN);
    level(context, "io.netty", Level.WARN);
    Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    root.setLevel(Level.toLevel(System.getProperty("bully.log.level"), Level.INFO));
    root.addAppender(console);
    return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
  }

  private static void level(LoggerContext context, String logger, Level level) {
    context.getLogger(logger).setLevel(level);
  }
}
