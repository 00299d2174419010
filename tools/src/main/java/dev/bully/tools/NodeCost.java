package dev.bully.tools;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;

/**
 * What the nodes spent during a benchmark's phase, so that its figures explain themselves: the CPU
 * time of their processes (from {@code /proc/<pid>/stat}, Linux) and the time their collectors
 * paused them (from each node's {@code /metrics}, {@code jvm_gc_pause_seconds_sum}).
 */
public final class NodeCost {
  /** The kernel's clock ticks per second for {@code /proc} times ({@code getconf CLK_TCK}); 100 on Linux here. */
  private static final double TICKS_PER_SECOND = 100;

  private final double cpuSeconds;
  private final double gcSeconds;
  private final long atNs;

  private NodeCost(double cpuSeconds, double gcSeconds, long atNs) {
    this.cpuSeconds = cpuSeconds;
    this.gcSeconds = gcSeconds;
    this.atNs = atNs;
  }

  /** The nodes' totals now. */
  public static NodeCost sample(Collection<NodeProcess> nodes) {
    double cpu = 0;
    double gc = 0;
    for (NodeProcess node : nodes) {
      cpu += cpuSeconds(node.pid());
      gc += gcSeconds(node);
    }
    return new NodeCost(cpu, gc, System.nanoTime());
  }

  /** Since {@code before}, for {@code writes} acknowledged writes: cores used, CPU per write, collector pauses. */
  public String since(NodeCost before, long writes) {
    double seconds = (atNs - before.atNs) / 1e9;
    double cpu = cpuSeconds - before.cpuSeconds;
    return String.format("nodes' CPU %.2f cores (%.3f ms per write, 3 nodes together), collector pauses %.2f s in %.0f s",
        cpu / seconds, writes == 0 ? 0 : 1000 * cpu / writes, gcSeconds - before.gcSeconds, seconds);
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

  private static double gcSeconds(NodeProcess node) {
    try {
      return node.get("/metrics").body().lines()
          .filter(line -> line.startsWith("jvm_gc_pause_seconds_sum"))
          .mapToDouble(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)))
          .sum();
    } catch (RuntimeException e) {
      return 0;
    }
  }
}
