package dev.bully.tools.chaos;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Real network faults for {@code bin/chaos.sh --netns}: each node runs in a network namespace of
 * its own, joined to the others by a bridge this run makes, and links are cut with iptables inside
 * the namespaces, where a paused process or a dropped packet is what the node really sees (the admin
 * chaos endpoints only drop messages inside the node). Everything it makes is named after the run and
 * removed at {@link #close}. Needs root, {@code ip} (iproute2) and {@code iptables}.
 *
 * <p>Delay and loss from {@code tc netem} need the kernel's {@code sch_netem}; where it is missing (as
 * on the development machine's kernel) random loss comes from iptables' {@code statistic} match and
 * there is no delay (the netem path was not tried there).
 */
final class NetNamespaces implements AutoCloseable {
  private final String tag;
  private final int nodes;
  private final String subnet;
  private final boolean netem;

  private NetNamespaces(String tag, int nodes, String subnet, boolean netem) {
    this.tag = tag;
    this.nodes = nodes;
    this.subnet = subnet;
    this.netem = netem;
  }

  /**
   * Makes a namespace per node, 1 to {@code nodes}, on one bridge, with TCP's longest retransmission
   * timeout set to {@code rtoMaxMs} in each (0: the kernel's); fails with what is missing.
   */
  static NetNamespaces create(int nodes, SplittableRandom random, int rtoMaxMs) {
    // Names of this run's own, not of its seed: a run with the same seed must not meet what another left behind.
    String tag = "b" + Integer.toString(ThreadLocalRandom.current().nextInt(36 * 36 * 36), 36);
    String subnet = "10.213." + (1 + random.nextInt(250));
    NetNamespaces spaces = new NetNamespaces(tag, nodes, subnet, false);
    try {
      run("ip", "link", "add", spaces.bridge(), "type", "bridge");
      run("ip", "addr", "add", subnet + ".254/24", "dev", spaces.bridge());
      run("ip", "link", "set", spaces.bridge(), "up");
      for (int id = 1; id <= nodes; id++) {
        String ns = spaces.namespace(id);
        String outside = tag + "v" + id;
        String inside = tag + "p" + id;
        run("ip", "netns", "add", ns);
        run("ip", "link", "add", outside, "type", "veth", "peer", "name", inside);
        run("ip", "link", "set", inside, "netns", ns);
        run("ip", "link", "set", outside, "master", spaces.bridge());
        run("ip", "link", "set", outside, "up");
        run("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up");
        run("ip", "netns", "exec", ns, "ip", "addr", "add", spaces.address(id) + "/24", "dev", inside);
        run("ip", "netns", "exec", ns, "ip", "link", "set", inside, "up");
        run("ip", "netns", "exec", ns, "iptables", "-F");
        if (rtoMaxMs > 0) {
          run("ip", "netns", "exec", ns, "sh", "-c", "echo " + rtoMaxMs + " > /proc/sys/net/ipv4/tcp_rto_max_ms");
        }
      }
    } catch (RuntimeException e) {
      spaces.close();
      throw new IllegalStateException("--netns needs root, ip (iproute2) and iptables (Debian: apt-get install iproute2"
          + " iptables): " + e.getMessage(), e);
    }
    boolean netem = runs("ip", "netns", "exec", spaces.namespace(1), "tc", "qdisc", "add", "dev", tag + "p1", "root", "netem",
        "delay", "1ms");
    if (netem) {
      run("ip", "netns", "exec", spaces.namespace(1), "tc", "qdisc", "del", "dev", tag + "p1", "root");
    }
    return new NetNamespaces(tag, nodes, subnet, netem);
  }

  /** Node {@code id}'s address, inside its namespace. */
  String address(int id) {
    return subnet + "." + id;
  }

  /** What runs a command inside node {@code id}'s namespace ({@code ip netns exec} execs it: the PID is the command's). */
  List<String> launcher(int id) {
    return List.of("ip", "netns", "exec", namespace(id));
  }

  boolean hasNetem() {
    return netem;
  }

  /** Node {@code from} can no longer send to node {@code to} (its packets are dropped on the way out). */
  void cutOneWay(int from, int to) {
    iptables(from, "-A", "OUTPUT", "-d", address(to), "-j", "DROP");
  }

  /** Neither node can reach the other. */
  void cut(int a, int b) {
    cutOneWay(a, b);
    cutOneWay(b, a);
  }

  /** Every node of {@code side} loses its links to every node of {@code other}. */
  void split(List<Integer> side, List<Integer> other) {
    for (int a : side) {
      for (int b : other) {
        cut(a, b);
      }
    }
  }

  /** Node {@code id} drops each packet it receives with this probability, and delays them when netem is there. */
  void degrade(int id, double loss, int delayMs) {
    if (netem) {
      run("ip", "netns", "exec", namespace(id), "tc", "qdisc", "replace", "dev", tag + "p" + id, "root", "netem",
          "delay", delayMs + "ms", "loss", (loss * 100) + "%");
    } else {
      iptables(id, "-A", "INPUT", "-s", subnet + ".0/24", "-m", "statistic", "--mode", "random", "--probability",
          Double.toString(loss), "-j", "DROP");
    }
  }

  /** Every cut and every degradation removed. */
  void heal() {
    for (int id = 1; id <= nodes; id++) {
      iptables(id, "-F");
      if (netem) {
        runs("ip", "netns", "exec", namespace(id), "tc", "qdisc", "del", "dev", tag + "p" + id, "root");
      }
    }
  }

  /** Removes the namespaces (and with them their links) and the bridge. */
  @Override
  public void close() {
    for (int id = 1; id <= nodes; id++) {
      runs("ip", "netns", "del", namespace(id));
      // A namespace outlives its name while the kernel still holds it (seen after a run here): its link would stay.
      runs("ip", "link", "del", tag + "v" + id);
    }
    runs("ip", "link", "del", bridge());
  }

  private void iptables(int id, String... rule) {
    List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", namespace(id), "iptables", "-w"));
    command.addAll(List.of(rule));
    run(command.toArray(String[]::new));
  }

  private String namespace(int id) {
    return tag + "n" + id;
  }

  private String bridge() {
    return tag + "br";
  }

  private static void run(String... command) {
    String failure = execute(command);
    if (failure != null) {
      throw new IllegalStateException(String.join(" ", command) + " failed: " + failure);
    }
  }

  private static boolean runs(String... command) {
    return execute(command) == null;
  }

  /** Runs a command; null when it succeeded, else what it printed. */
  private static String execute(String... command) {
    try {
      Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
      String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      return process.waitFor() == 0 ? null : output.isEmpty() ? "exit " + process.exitValue() : output;
    } catch (IOException e) {
      return e.getMessage();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
