package dev.bully.tools.chaos;

import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.ToIntFunction;

/**
 * The faults a chaos run injects, drawn from its seed: kill -9 (and restart), SIGSTOP, network cuts
 * (isolation, a split into minority and majority, one-way loss) through the admin endpoints, graceful
 * step-downs, power losses of the whole cluster, or a rolling restart. A majority is always left able to run; each fault is recorded
 * with its time for the report and the checker.
 */
final class FaultMix {
  private static final Duration RECOVERY_TIMEOUT = Duration.ofSeconds(90);

  private final ChaosOptions options;
  private final Nodes nodes;
  /** The nodes this run took down, shared with the run's sampler. */
  private final Set<Integer> down;
  private final PrintStream out;
  private final LongSupplier nowMs;
  private final Consumer<String> record;
  private final ToIntFunction<List<Integer>> agreedCoordinator;

  FaultMix(ChaosOptions options, Nodes nodes, Set<Integer> down, PrintStream out, LongSupplier nowMs,
           Consumer<String> record, ToIntFunction<List<Integer>> agreedCoordinator) {
    this.options = options;
    this.nodes = nodes;
    this.down = down;
    this.out = out;
    this.nowMs = nowMs;
    this.record = record;
    this.agreedCoordinator = agreedCoordinator;
  }

  /** Injects faults of the kinds asked for, one at a time, until shortly before the run ends. */
  void run(SplittableRandom random) throws InterruptedException {
    long endMs = options.durationS() * 1000L;
    if (options.faults().contains("rolling")) {
      Thread.sleep(2_000);
      RollingRestart rolling = new RollingRestart(nodes, this::fault, down);
      do {
        rolling.restartNext();
      } while (!rolling.roundDone() || nowMs.getAsLong() < endMs - 3_000);
      return;
    }
    List<String> kinds = new ArrayList<>();
    for (String kind : List.of("kill", "pause", "partition", "isolate", "stepdown", "powerloss")) {
      if (options.faults().contains(kind)) {
        kinds.add(kind);
      }
    }
    Thread.sleep(2_000);
    while (nowMs.getAsLong() < endMs - 3_000 && !kinds.isEmpty()) {
      String kind = kinds.get(random.nextInt(kinds.size()));
      long lastsMs = options.faultMinS() * 1_000L + random.nextLong((options.faultMaxS() - options.faultMinS()) * 1_000L);
      switch (kind) {
        case "kill" -> kill(random, lastsMs);
        case "pause" -> pause(random, lastsMs);
        case "stepdown" -> stepDown();
        case "powerloss" -> powerLoss(lastsMs);
        case "isolate" -> isolate(nodes.network().orElseThrow(), target(random), lastsMs);
        default -> partition(random, lastsMs);
      }
      Thread.sleep(1_000 + random.nextLong(3_000));
    }
    Thread.sleep(Math.max(0, endMs - nowMs.getAsLong()));
  }

  /** The node that leads now, or 0; the target of half the faults. */
  private int target(SplittableRandom random) {
    int coordinator = 0;
    try {
      coordinator = agreedCoordinator.applyAsInt(liveIds());
    } catch (RuntimeException e) {
      // none agreed
    }
    List<Integer> live = liveIds();
    return coordinator != 0 && random.nextBoolean() ? coordinator : live.get(random.nextInt(live.size()));
  }

  private List<Integer> liveIds() {
    return nodes.ids().stream().filter(id -> !down.contains(id)).toList();
  }

  private void kill(SplittableRandom random, long downMs) throws InterruptedException {
    if (down.size() + 1 > (options.nodes() - 1) / 2) {
      return; // keep a majority able to run
    }
    int node = target(random);
    fault("kill -9 node " + node);
    down.add(node);
    nodes.kill(node);
    if (options.faults().contains("restart") && nodes.canRestart()) {
      Thread.sleep(downMs);
      fault("restart node " + node);
      nodes.restart(node);
      down.remove(node);
    }
  }

  /** Every node at once, then all back together: what was acknowledged must have been forced to the device. */
  private void powerLoss(long downMs) throws InterruptedException {
    fault("power loss: every node at once");
    down.addAll(nodes.ids());
    nodes.powerLoss().forEach((id, undone) -> fault("node " + id + " lost its power: " + undone));
    Thread.sleep(downMs);
    fault("power back: every node restarts");
    for (int id : nodes.ids()) {
      nodes.restart(id);
      down.remove(id);
    }
    // The next fault waits for the cluster to lead again: a loss during the restart would only test the restart.
    dev.bully.tools.Await.until(RECOVERY_TIMEOUT, "a coordinator after the power came back",
        () -> agreedCoordinator.applyAsInt(nodes.ids()) != 0);
    fault("a coordinator leads again");
  }

  /** A graceful hand-off, as an operator asks for one: POST /admin/stepdown to the coordinator. */
  private void stepDown() {
    int coordinator = agreedCoordinator.applyAsInt(liveIds());
    if (coordinator == 0) {
      return;
    }
    fault("step down coordinator " + coordinator);
    HttpResponse<String> response = nodes.postAdmin(coordinator, "/admin/stepdown", Duration.ofSeconds(20));
    fault("node " + coordinator + " answered " + response.statusCode() + ": " + response.body());
  }

  private void pause(SplittableRandom random, long pausedMs) throws InterruptedException {
    int node = target(random);
    fault("SIGSTOP node " + node + " for " + pausedMs + " ms");
    nodes.pause(node, pausedMs);
    fault("SIGCONT node " + node);
  }

  private void partition(SplittableRandom random, long lastsMs) throws InterruptedException {
    if (nodes.network().isPresent()) {
      realPartition(nodes.network().get(), random, lastsMs);
      return;
    }
    List<Integer> live = liveIds();
    int node = target(random);
    switch (random.nextInt(3)) {
      case 0 -> {
        fault("isolate node " + node);
        admin(node, "isolate");
      }
      case 1 -> {
        List<Integer> shuffled = new ArrayList<>(live);
        Collections.shuffle(shuffled, new java.util.Random(random.nextLong()));
        List<Integer> minority = shuffled.subList(0, (options.nodes() - 1) / 2);
        List<Integer> majority = shuffled.subList(minority.size(), shuffled.size());
        fault("split " + minority + " | " + majority);
        String toMajority = join(majority);
        String toMinority = join(minority);
        minority.forEach(id -> admin(id, "drop?to=" + toMajority + "&from=" + toMajority));
        majority.forEach(id -> admin(id, "drop?to=" + toMinority + "&from=" + toMinority));
      }
      default -> {
        int other = live.get(random.nextInt(live.size()));
        if (other == node) {
          return;
        }
        fault("one-way loss: node " + node + " drops what it sends to node " + other);
        admin(node, "drop?to=" + other);
      }
    }
    Thread.sleep(lastsMs);
    fault("heal the network");
    liveIds().forEach(id -> admin(id, "heal"));
  }

  /**
   * A cut in the network itself, inside the nodes' namespaces: a node isolated, a minority split
   * from a majority, one way lost, a ring in which every node sees a majority of its own (five nodes
   * or more), a bridge node that alone links two halves, or random loss on one node.
   */
  private void realPartition(NetNamespaces net, SplittableRandom random, long lastsMs) throws InterruptedException {
    List<Integer> all = nodes.ids();
    int node = target(random);
    int n = all.size();
    List<Integer> shuffled = new ArrayList<>(all);
    Collections.shuffle(shuffled, new java.util.Random(random.nextLong()));
    switch (random.nextInt(n >= 5 ? 6 : 5)) {
      case 0 -> {
        isolate(net, node, lastsMs);
        return;
      }
      case 1 -> {
        List<Integer> minority = shuffled.subList(0, (n - 1) / 2);
        List<Integer> majority = shuffled.subList(minority.size(), n);
        fault("netns: split " + minority + " | " + majority);
        net.split(minority, majority);
      }
      case 2 -> {
        int other = shuffled.get(0) == node ? shuffled.get(1) : shuffled.get(0);
        fault("netns: one way: node " + node + " cannot send to node " + other);
        net.cutOneWay(node, other);
      }
      case 3 -> {
        // Halves on either side of one node that alone reaches both.
        int bridge = node;
        List<Integer> rest = shuffled.stream().filter(id -> id != bridge).toList();
        List<Integer> left = rest.subList(0, rest.size() / 2);
        List<Integer> right = rest.subList(rest.size() / 2, rest.size());
        fault("netns: bridge node " + bridge + " between " + left + " and " + right);
        net.split(left, right);
      }
      case 4 -> {
        double loss = 0.05 + random.nextDouble() * 0.25;
        fault(String.format("netns: node %d loses %.0f%% of what it receives", node, loss * 100));
        net.degrade(node, loss, 20);
      }
      default -> {
        // Each node reaches only its two neighbours on a ring: with five nodes each sees itself and two others, a
        // majority, and no two see the same majority.
        fault("netns: majorities ring " + shuffled + " (each node reaches only its neighbours)");
        for (int i = 0; i < n; i++) {
          for (int j = i + 1; j < n; j++) {
            int distance = Math.min(j - i, n - (j - i));
            if (distance > 1) {
              net.cut(shuffled.get(i), shuffled.get(j));
            }
          }
        }
      }
    }
    Thread.sleep(lastsMs);
    fault("netns: heal the network");
    net.heal();
  }

  /** Node {@code node} cut off from every other for {@code lastsMs}; then how long it takes to follow again. */
  private void isolate(NetNamespaces net, int node, long lastsMs) throws InterruptedException {
    fault("netns: isolate node " + node);
    net.split(List.of(node), nodes.ids().stream().filter(id -> id != node).toList());
    Thread.sleep(lastsMs);
    fault("netns: heal the network");
    long healedNs = System.nanoTime();
    net.heal();
    if (!down.contains(node)) {
      caughtUpAfterHeal(node, healedNs);
    }
  }

  /** How long the node that was cut off takes to follow the coordinator and hold what it had committed at the heal. */
  private void caughtUpAfterHeal(int node, long healedNs) {
    List<Integer> others = liveIds().stream().filter(id -> id != node).toList();
    long[] target = {-1};
    try {
      dev.bully.tools.Await.until(RECOVERY_TIMEOUT, "node " + node + " caught up after the heal", () -> {
        int coordinator = agreedCoordinator.applyAsInt(liveIds());
        if (coordinator == 0) {
          return false;
        }
        if (target[0] < 0) {
          target[0] = nodes.status(coordinator, ChaosRun.SAMPLE_TIMEOUT).getLong("commitIndex");
        }
        return nodes.status(node, ChaosRun.SAMPLE_TIMEOUT).getLong("commitIndex") >= target[0];
      });
      fault(String.format("netns: node %d follows and is caught up %.2f s after the heal (of %s)", node,
          (System.nanoTime() - healedNs) / 1e9, others));
    } catch (RuntimeException e) {
      fault("netns: node " + node + " not caught up after the heal: " + e.getMessage());
    }
  }

  /** Heals every cut and resumes or restarts every node this run took down. */
  void healEverything() {
    fault("heal everything");
    nodes.network().ifPresent(NetNamespaces::heal);
    // An attached cluster's killed nodes may have been restarted by whatever runs them.
    down.removeIf(id -> !nodes.canRestart() && answers(id));
    for (int id : nodes.ids()) {
      if (down.contains(id) && nodes.canRestart()) {
        nodes.restart(id);
        down.remove(id);
      } else if (!down.contains(id)) {
        admin(id, "heal");
      }
    }
  }

  private boolean answers(int id) {
    try {
      nodes.status(id, ChaosRun.SAMPLE_TIMEOUT);
      return true;
    } catch (RuntimeException e) {
      return false;
    }
  }

  private void admin(int node, String path) {
    try {
      nodes.admin(node, path);
    } catch (RuntimeException e) {
      out.println("chaos: node " + node + " did not take '" + path + "': " + e.getMessage());
    }
  }

  private static String join(List<Integer> ids) {
    return String.join(",", ids.stream().map(String::valueOf).toList());
  }

  private void fault(String description) {
    record.accept(description);
  }
}
