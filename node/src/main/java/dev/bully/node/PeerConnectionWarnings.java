package dev.bully.node;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.LoggerFactory;
import org.slf4j.Marker;

/**
 * While a peer is cut off, the event bus tries to connect to it four times a second, and Vert.x
 * logs each failure as a WARN with the exception's stack: some 60 lines a second per peer. This
 * filter keeps the first failure of a kind for a peer, on one line with its cause, and then one line
 * per {@value #QUIET_SECONDS} s saying how many more there were. Installed by {@link NodeLogging}.
 */
public final class PeerConnectionWarnings extends TurboFilter {
  static final int QUIET_SECONDS = 10;
  private static final String EVENT_BUS = "io.vertx.core.eventbus.impl.clustered.";
  private static final org.slf4j.Logger log = LoggerFactory.getLogger("EventBus");

  /** Per warning (it names the peer), when it was last written and how many were held back since. */
  private final Map<String, long[]> seen = new ConcurrentHashMap<>();

  @Override
  public FilterReply decide(Marker marker, Logger logger, Level level, String format, Object[] params, Throwable cause) {
    if (level != Level.WARN || format == null || !logger.getName().startsWith(EVENT_BUS)
        || !(format.startsWith("Connecting to server ") || format.startsWith("No pong from server "))) {
      return FilterReply.NEUTRAL;
    }
    long now = System.nanoTime();
    long[] last = seen.computeIfAbsent(format, key -> new long[] {now - TimeUnit.SECONDS.toNanos(QUIET_SECONDS), 0});
    long heldBack;
    synchronized (last) {
      if (now - last[0] < TimeUnit.SECONDS.toNanos(QUIET_SECONDS)) {
        last[1]++;
        return FilterReply.DENY;
      }
      heldBack = last[1];
      last[0] = now;
      last[1] = 0;
    }
    String why = cause == null ? "" : ": " + cause;
    if (heldBack == 0) {
      log.warn("{}{}", format, why);
    } else {
      log.warn("{}{} ({} more times in the last {} s)", format, why, heldBack, QUIET_SECONDS);
    }
    return FilterReply.DENY;
  }
}
