package dev.bully.tools;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * What the nodes spent during a benchmark's phase, so that its figures explain themselves and a
 * regression can be told from a noisy machine: per node, the CPU time of its process (from
 * {@code /proc/<pid>/stat}, Linux), the time its collector paused it and its longest pause, and how
 * often it forced its log files to the device and how long that took (from its {@code /metrics}).
 */
public final class NodeCost {
  /** The kernel's clock ticks per second for {@code /proc} times ({@code getconf CLK_TCK}); 100 on Linux here. */
  private static final double TICKS_PER_SECOND = 100;

  /** One node's totals at one moment. */
  private record Totals(int id, double cpuSeconds, double gcSeconds, double gcMaxSeconds, double forces, double forceSeconds) {
  }

  private final List<Totals> nodes;
  private final long atNs;

  private NodeCost(List<Totals> nodes, long atNs) {
    this.nodes = nodes;
    this.atNs = atNs;
  }

  /** The nodes' totals now. */
  public static NodeCost sample(Collection<NodeProcess> nodes) {
    List<Totals> totals = new ArrayList<>();
    for (NodeProcess node : nodes) {
      List<String> metrics = metrics(node);
      totals.add(new Totals(node.id(), cpuSeconds(node.pid()), sum(metrics, "jvm_gc_pause_seconds_sum"),
          max(metrics, "jvm_gc_pause_seconds_max"), sum(metrics, "bully_log_forces_total"),
          sum(metrics, "bully_log_force_seconds_total")));
    }
    return new NodeCost(totals, System.nanoTime());
  }

  /**
   * Since {@code before}, for {@code writes} acknowledged writes: the nodes' cores and CPU per
   * write together, then per node its CPU per 1,000 writes, its collector's pauses (total, and the
   * longest the node saw lately) and its log forces (how many, and their mean).
   */
  public String since(NodeCost before, long writes) {
    return since(before, writes, "write");
  }

  /** {@link #since(NodeCost, long)} for {@code count} operations of another kind ({@code unit}: "read", say). */
  public String since(NodeCost before, long count, String unit) {
    double seconds = (atNs - before.atNs) / 1e9;
    StringBuilder text = new StringBuilder();
    double cpu = 0;
    for (int i = 0; i < nodes.size(); i++) {
      Totals now = nodes.get(i);
      Totals then = before.nodes.get(i);
      double nodeCpu = now.cpuSeconds - then.cpuSeconds;
      double forces = now.forces - then.forces;
      cpu += nodeCpu;
      text.append(String.format("%n    node %d: CPU %.2f cores, %.3f s per 1,000 " + unit + "s; collector pauses %.2f s (longest lately %.0f ms);"
              + " log forces %.0f (%.0f/s, mean %.3f ms)", now.id, nodeCpu / seconds, count == 0 ? 0 : 1000 * nodeCpu / count,
          now.gcSeconds - then.gcSeconds, 1000 * now.gcMaxSeconds, forces, forces / seconds,
          forces == 0 ? 0 : 1000 * (now.forceSeconds - then.forceSeconds) / forces));
    }
    return String.format("nodes' CPU %.2f cores (%.3f ms per " + unit + ", %d nodes together) in %.0f s", cpu / seconds,
        count == 0 ? 0 : 1000 * cpu / count, nodes.size(), seconds) + text;
  }

  private static double cpuSeconds(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      // Fields after the command name (which may hold spaces) in parentheses: utime and stime are the 12th and 13th.
      List<String> fields = List.of(stat.substring(stat.lastIndexOf(')') + 2).split(" "));
      return (Long.parseLong(fields.get(11)) + Long.parseLong(fields.get(12))) / TICKS_PER_SECOND;
    } catch (IOException | RuntimeException e) {
      return 0; // not Linux, or the process is gone: the figure is then a lower bound
    }
  }

  private static List<String> metrics(NodeProcess node) {
    try {
      return node.get("/metrics").body().lines().toList();
    } catch (RuntimeException e) {
      return List.of();
    }
  }

  private static double sum(List<String> metrics, String name) {
    return values(metrics, name).sum();
  }

  private static double max(List<String> metrics, String name) {
    return values(metrics, name).max().orElse(0);
  }

  /** The values of every series of metric {@code name} (any labels). */
  private static java.util.stream.DoubleStream values(List<String> metrics, String name) {
    return metrics.stream()
        .filter(line -> line.startsWith(name + " ") || line.startsWith(name + "{"))
        .mapToDouble(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)));
  }
}
