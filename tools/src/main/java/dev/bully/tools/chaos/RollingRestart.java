package dev.bully.tools.chaos;

import dev.bully.tools.Await;
import dev.bully.tools.LocalCluster;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * A rolling restart, as an operator upgrades a cluster: each node in turn is stopped with SIGTERM
 * (a coordinator hands its leadership over first), started again, and waited for until it is ready
 * and has caught up with the commit index the coordinator had when it came back, before the next
 * node goes. Each round takes the followers first, highest id first, and the coordinator last, so
 * leadership moves once per round rather than once per node, to a successor that is warm again.
 */
final class RollingRestart {
  private static final Duration STEP_TIMEOUT = Duration.ofSeconds(90);
  private static final Duration STATUS_TIMEOUT = Duration.ofMillis(500);
  private static final Duration SETTLE_TIMEOUT = Duration.ofSeconds(30);

  private final Nodes nodes;
  private final Consumer<String> fault;
  private final Set<Integer> down;
  private final List<Integer> pending = new ArrayList<>();

  /** {@code fault} records each step; {@code down} holds the node being restarted, so writers avoid it. */
  RollingRestart(Nodes nodes, Consumer<String> fault, Set<Integer> down) {
    this.nodes = nodes;
    this.fault = fault;
    this.down = down;
  }

  /** Whether the last restart ended a round: every node has been restarted once since the round began. */
  boolean roundDone() {
    return pending.isEmpty();
  }

  /** Restarts the next node of the current round (starting a new round when one ends) and waits until it caught up. */
  void restartNext() {
    if (pending.isEmpty()) {
      pending.addAll(roundOrder());
    }
    int id = pending.remove(0);
    boolean leads = id == coordinator();
    fault.accept("SIGTERM node " + id + (leads ? " (the coordinator: it hands over)" : "") + ", rolling restart");
    down.add(id);
    nodes.terminate(id);
    nodes.restart(id);
    Await.until(STEP_TIMEOUT, "node " + id + " ready after its restart", () -> answers(id, "/health/ready"));
    down.remove(id);
    long commitIndex = Await.value(STEP_TIMEOUT, "a coordinator's commit index", this::coordinatorCommitIndex);
    Await.until(STEP_TIMEOUT, "node " + id + " caught up to index " + commitIndex, () -> caughtUp(id, commitIndex));
    fault.accept("node " + id + " is back and caught up (commit index " + commitIndex + ")");
  }

  private List<Integer> roundOrder() {
    // A cluster that just started (or just got a node back) may still be due a priority takeover: let it happen first,
    // so that leadership does not move during the round to a node that was already restarted.
    int highest = nodes.ids().stream().max(Integer::compare).orElseThrow();
    try {
      Await.until(SETTLE_TIMEOUT, "node " + highest + " leads", () -> coordinator() == highest);
    } catch (IllegalStateException e) {
      fault.accept("node " + highest + " does not lead after " + SETTLE_TIMEOUT.toSeconds() + " s; the coordinator it has now goes last");
    }
    int coordinator = coordinator();
    // Highest first: the likely successor has long been back and warm when the coordinator hands over to it.
    List<Integer> order = new ArrayList<>(nodes.ids().stream().filter(id -> id != coordinator)
        .sorted(java.util.Comparator.reverseOrder()).toList());
    if (coordinator != 0) {
      order.add(coordinator);
    }
    return order;
  }

  private Map<Integer, JsonObject> statuses() {
    Map<Integer, JsonObject> statuses = new TreeMap<>();
    for (int id : nodes.ids()) {
      try {
        statuses.put(id, nodes.status(id, STATUS_TIMEOUT));
      } catch (RuntimeException e) {
        // stopped or starting
      }
    }
    return statuses;
  }

  private int coordinator() {
    return LocalCluster.agreedCoordinator(statuses(), nodes.ids().stream().filter(id -> !down.contains(id)).toList());
  }

  /** The agreed coordinator's commit index, or null while there is none. */
  private Long coordinatorCommitIndex() {
    Map<Integer, JsonObject> statuses = statuses();
    int coordinator = LocalCluster.agreedCoordinator(statuses, nodes.ids());
    return coordinator == 0 ? null : statuses.get(coordinator).getLong("commitIndex");
  }

  private boolean caughtUp(int id, long commitIndex) {
    try {
      JsonObject status = nodes.status(id, STATUS_TIMEOUT);
      return status.getValue("coordinatorId") != null && status.getLong("commitIndex") >= commitIndex;
    } catch (RuntimeException e) {
      return false;
    }
  }

  private boolean answers(int id, String path) {
    try {
      return nodes.send(id, HttpRequest.newBuilder(URI.create(nodes.url(id) + path)).GET(), STATUS_TIMEOUT)
          .statusCode() == 200;
    } catch (RuntimeException e) {
      return false;
    }
  }
}
