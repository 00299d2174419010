package dev.bully.election;

import dev.bully.metrics.NodeMetrics;
import java.util.EnumMap;
import java.util.Map;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Protocol messages this node refused before they reached the replica: ones that do not verify
 * (forged, meant for another node, or sealed with another secret), authentic ones sent again
 * (replayed), and authentic ones that do not decode. Each is counted ({@code bully_messages_rejected} in {@code /metrics}, and in the
 * status the dashboard shows as intrusions); the log gets at most one line per reason a second,
 * with how many were refused since the last one, so a flood cannot fill the disk.
 */
public final class Rejections {
  public enum Reason { UNAUTHENTICATED, REPLAYED, MALFORMED }

  private static final Logger log = LoggerFactory.getLogger(Rejections.class);
  private static final long LOG_INTERVAL_MS = 1_000;

  private final int nodeId;
  private final NodeMetrics metrics;
  private final LongSupplier clock;
  private final Map<Reason, Long> counts = new EnumMap<>(Reason.class);
  private final Map<Reason, Long> lastLoggedMs = new EnumMap<>(Reason.class);
  private final Map<Reason, Long> sinceLogged = new EnumMap<>(Reason.class);

  /** {@code clock}: monotonic milliseconds. */
  public Rejections(int nodeId, NodeMetrics metrics, LongSupplier clock) {
    this.nodeId = nodeId;
    this.metrics = metrics;
    this.clock = clock;
  }

  void unauthenticated() {
    refuse(Reason.UNAUTHENTICATED, "a message that does not verify with this cluster's secret (forged, meant for"
        + " another node, or from a node with another secret)");
  }

  void replayed() {
    refuse(Reason.REPLAYED, "an authentic message older than one already taken from its sender (replayed)");
  }

  void malformed(String why) {
    refuse(Reason.MALFORMED, "an authentic message that is malformed: " + why);
  }

  /** How many messages were refused, by reason, since the node started. */
  public Map<Reason, Long> counts() {
    return Map.copyOf(counts);
  }

  private void refuse(Reason reason, String what) {
    counts.merge(reason, 1L, Long::sum);
    metrics.rejected(reason.name().toLowerCase());
    long now = clock.getAsLong();
    long unlogged = sinceLogged.merge(reason, 1L, Long::sum);
    Long last = lastLoggedMs.get(reason);
    if (last == null || now - last >= LOG_INTERVAL_MS) {
      lastLoggedMs.put(reason, now);
      sinceLogged.put(reason, 0L);
      log.warn("Node {} refused {}{}", nodeId, what, unlogged > 1 ? " (" + unlogged + " refused since the last such line)" : "");
    }
  }
}
