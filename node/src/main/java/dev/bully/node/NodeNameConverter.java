package dev.bully.node;

import ch.qos.logback.classic.pattern.ClassicConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;

/** Writes the node's name ({@code node-3}) into every log line, as {@code %node} in {@link NodeLogging}'s pattern. */
public final class NodeNameConverter extends ClassicConverter {
  public static final String PROPERTY = "bully.node";

  @Override
  public String convert(ILoggingEvent event) {
    return System.getProperty(PROPERTY, "node");
  }
}
