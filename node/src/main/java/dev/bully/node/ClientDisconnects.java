package dev.bully.node;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import org.slf4j.LoggerFactory;
import org.slf4j.Marker;

/**
 * A dashboard that goes away without closing its SockJS connection (a tab closed, a laptop
 * asleep) is the browser's business, not the node's: Vert.x's event-bus bridge reports each one as
 * an ERROR with the exception. This filter turns that into one short DEBUG line. Installed by
 * {@link NodeLogging}.
 */
public final class ClientDisconnects extends TurboFilter {
  private static final org.slf4j.Logger log = LoggerFactory.getLogger("SockJS");

  @Override
  public FilterReply decide(Marker marker, Logger logger, Level level, String format, Object[] params, Throwable cause) {
    if (level == Level.ERROR && "SockJSSocket exception".equals(format) && logger.getName().endsWith(".EventBusBridgeImpl")) {
      log.debug("A dashboard client went away: {}", cause == null ? "no reason given" : cause.toString());
      return FilterReply.DENY;
    }
    return FilterReply.NEUTRAL;
  }
}
