package dev.bully.tools;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import javax.tools.ToolProvider;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code bin/bench.sh compare [SECONDS]}: three members of each installed peer and three nodes of
 * ours, one after another on the same disk, all forcing every write to the device before they
 * answer; at 1 and 64 clients for SECONDS each: writes/s, latency p50 / p99, and our ratios.
 *
 * <ul>
 *   <li>etcd (Debian {@code etcd-server}; its defaults): {@code hey} posts 100-byte values to the
 *       leader's {@code /v3/kv/put} (an answer means committed on a quorum and applied).</li>
 *   <li>ZooKeeper (Debian {@code zookeeper}; its defaults, {@code forceSync=yes}): a Java client of
 *       our own ({@code ZkLoad}, compiled here against the installed jar) calls {@code setData} of
 *       100 bytes on the leader, one session per client.</li>
 *   <li>bully-cluster: {@code hey} posts small writes to the coordinator, after the same warm-up as
 *       {@code bench.sh writes}.</li>
 * </ul>
 * A peer that is not installed is left out and said so. Each peer gets 10 s at 64 clients before
 * its figures are taken, so no one is measured cold.
 */
@Command(name = "compare", mixinStandardHelpOptions = true,
    description = "etcd, ZooKeeper (when installed) and bully-cluster back to back, fsync on for all: writes/s and latency")
public final class CompareBench implements Callable<Integer> {
  private static final List<Integer> CLIENTS = List.of(1, 64);
  private static final int PEER_WARM_UP_SECONDS = 10;
  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
  private static final Path ZK_JAR = Path.of("/usr/share/java/zookeeper.jar");

  @Parameters(index = "0", defaultValue = "20", description = "seconds per measured phase (default: ${DEFAULT-VALUE})")
  int seconds;

  /** One measured phase: who, how many clients, what came out. */
  private record Row(String system, int clients, double writesPerSecond, double p50Ms, double p99Ms, long errors) {
  }

  public static void main(String[] args) {
    System.exit(new CommandLine(new CompareBench()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    if (!WriteBench.heyInstalled()) {
      System.out.println("compare: needs hey for its load (Debian: apt-get install hey)");
      return 2;
    }
    Path dir = Files.createDirectories(Path.of("target", "bench", "compare-" + System.currentTimeMillis()));
    System.out.printf("compare: %d s per phase, 3 members each, fsync on for all (logs in %s)%n", seconds, dir);
    List<Row> rows = new ArrayList<>();
    if (EtcdCluster.installed()) {
      rows.addAll(etcd(dir.resolve("etcd")));
    } else {
      System.out.println("compare: etcd is not installed (Debian: apt-get install etcd-server etcd-client): left out");
    }
    if (Files.exists(ZK_JAR)) {
      rows.addAll(zookeeper(dir.resolve("zookeeper")));
    } else {
      System.out.println("compare: ZooKeeper is not installed (Debian: apt-get install zookeeper): left out");
    }
    rows.addAll(bully(dir.resolve("bully")));
    print(rows);
    return 0;
  }

  private List<Row> etcd(Path dir) throws Exception {
    try (EtcdCluster etcd = new EtcdCluster(dir)) {
      int leader = etcd.awaitLeader();
      URI put = URI.create(etcd.clientUrl(leader) + "/v3/kv/put");
      String body = EtcdCluster.putBody("bench/key", 100);
      System.out.printf("compare: etcd %s, leader n%d%n", EtcdCluster.version(), leader);
      WriteBench.hey(put, 64, PEER_WARM_UP_SECONDS, body, "200");
      List<Row> rows = new ArrayList<>();
      for (int clients : CLIENTS) {
        rows.add(row("etcd", clients, WriteBench.hey(put, clients, seconds, body, "200")));
      }
      return rows;
    }
  }

  private List<Row> zookeeper(Path dir) throws Exception {
    Path classes = Files.createDirectories(dir.resolve("classes"));
    Path source = classes.resolve("ZkLoad.java");
    try (var in = CompareBench.class.getResourceAsStream("peers/ZkLoad.java")) {
      Files.write(source, in.readAllBytes());
    }
    if (ToolProvider.getSystemJavaCompiler().run(null, null, null, "-d", classes.toString(), "-cp", ZK_JAR.toString(),
        source.toString()) != 0) {
      throw new IllegalStateException("cannot compile the ZooKeeper load client against " + ZK_JAR);
    }
    List<Integer> ports = LocalCluster.freePorts(9);
    List<Process> members = new ArrayList<>();
    try {
      for (int i = 1; i <= 3; i++) {
        Path data = Files.createDirectories(dir.resolve("n" + i + ".data"));
        Files.writeString(data.resolve("myid"), i + "\n");
        StringBuilder config = new StringBuilder("tickTime=2000\ninitLimit=10\nsyncLimit=5\n")
            .append("dataDir=").append(data.toAbsolutePath()).append('\n')
            .append("clientPortAddress=127.0.0.1\nclientPort=").append(ports.get(i - 1)).append('\n')
            .append("admin.enableServer=false\n4lw.commands.whitelist=srvr\nmaxClientCnxns=0\n");
        for (int j = 1; j <= 3; j++) {
          config.append("server.").append(j).append("=127.0.0.1:").append(ports.get(2 + j)).append(':')
              .append(ports.get(5 + j)).append('\n');
        }
        Path cfg = dir.resolve("n" + i + ".cfg");
        Files.writeString(cfg, config);
        // The same heap and collector as our nodes get from the harness.
        members.add(start(dir, "n" + i, List.of("java", "-Xms256m", "-Xmx256m", "-XX:+UseSerialGC", "-cp",
            ZK_JAR + ":/usr/share/java/slf4j-simple.jar", "org.apache.zookeeper.server.quorum.QuorumPeerMain", cfg.toString())));
      }
      int leader = await("a ZooKeeper leader", () -> zkLeader(ports));
      String server = "127.0.0.1:" + ports.get(leader - 1);
      System.out.printf("compare: ZooKeeper %s, leader n%d%n", ZK_JAR.toRealPath().getFileName(), leader);
      String classpath = classes + ":" + ZK_JAR + ":/usr/share/java/slf4j-nop.jar";
      zkLoad(classpath, server, 64, PEER_WARM_UP_SECONDS);
      List<Row> rows = new ArrayList<>();
      for (int clients : CLIENTS) {
        Map<String, String> out = zkLoad(classpath, server, clients, seconds);
        rows.add(new Row("ZooKeeper", clients, Long.parseLong(out.get("ok")) / (double) seconds,
            Double.parseDouble(out.get("p50_ms")), Double.parseDouble(out.get("p99_ms")), Long.parseLong(out.get("errors"))));
      }
      return rows;
    } finally {
      stop(members);
      deleteData(dir, ".data");
    }
  }

  /** Runs the ZooKeeper load client and returns its summary line's fields. */
  private static Map<String, String> zkLoad(String classpath, String server, int clients, int seconds) throws Exception {
    Process load = new ProcessBuilder("java", "-cp", classpath, "ZkLoad", server, String.valueOf(clients), String.valueOf(seconds))
        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    String line = new String(load.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    if (load.waitFor() != 0 || !line.startsWith("ok=")) {
      throw new IllegalStateException("the ZooKeeper load client failed: " + line);
    }
    Map<String, String> fields = new LinkedHashMap<>();
    for (String field : line.split(" ")) {
      fields.put(field.substring(0, field.indexOf('=')), field.substring(field.indexOf('=') + 1));
    }
    return fields;
  }

  /** The ZooKeeper member (1..3) that says it leads (four-letter word {@code srvr}), or 0. */
  private static int zkLeader(List<Integer> ports) {
    for (int i = 1; i <= 3; i++) {
      try (Socket socket = new Socket("127.0.0.1", ports.get(i - 1))) {
        socket.setSoTimeout(1000);
        socket.getOutputStream().write("srvr".getBytes(StandardCharsets.US_ASCII));
        if (new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).contains("Mode: leader")) {
          return i;
        }
      } catch (IOException e) {
        // not up yet
      }
    }
    return 0;
  }

  private List<Row> bully(Path dir) throws Exception {
    try (LocalCluster cluster = new LocalCluster(Files.createDirectories(dir), 3, new JsonObject())) {
      cluster.startAll();
      cluster.awaitCoordinator(3, cluster.ids(), START_TIMEOUT);
      URI target = URI.create(cluster.node(3).baseUrl() + "/api/writes");
      System.out.println("compare: bully-cluster, coordinator 3, store.sync fsync; warming up as bench.sh writes does");
      WriteBench.warmUp(HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build(), target, true);
      List<Row> rows = new ArrayList<>();
      for (int clients : CLIENTS) {
        rows.add(row("bully-cluster", clients, WriteBench.hey(target, clients, seconds)));
      }
      return rows;
    } finally {
      deleteData(dir, "data");
    }
  }

  private Row row(String system, int clients, WriteBench.Result result) {
    long errors = result.errors().values().stream().mapToLong(Long::longValue).sum();
    return new Row(system, clients, result.latenciesNs().size() / (double) seconds, WriteBench.ms(result, 50),
        WriteBench.ms(result, 99), errors);
  }

  private static void print(List<Row> rows) {
    System.out.println("compare: system         clients  writes/s   p50 ms   p99 ms  errors");
    for (Row row : rows) {
      System.out.printf("compare: %-14s %7d %9.0f %8.2f %8.2f %7d%n", row.system(), row.clients(), row.writesPerSecond(),
          row.p50Ms(), row.p99Ms(), row.errors());
    }
    for (int clients : CLIENTS) {
      Row ours = find(rows, "bully-cluster", clients);
      for (String peer : List.of("etcd", "ZooKeeper")) {
        Row theirs = find(rows, peer, clients);
        if (ours != null && theirs != null) {
          System.out.printf("compare: %d client%s, bully-cluster / %s: writes/s %.2fx, p50 %.2fx, p99 %.2fx%n", clients,
              clients == 1 ? "" : "s", peer, ours.writesPerSecond() / theirs.writesPerSecond(), ours.p50Ms() / theirs.p50Ms(),
              ours.p99Ms() / theirs.p99Ms());
        }
      }
    }
  }

  private static Row find(List<Row> rows, String system, int clients) {
    return rows.stream().filter(r -> r.system().equals(system) && r.clients() == clients).findFirst().orElse(null);
  }

  private static Process start(Path dir, String name, List<String> command) throws IOException {
    Files.createDirectories(dir);
    return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(dir.resolve(name + ".log").toFile()).start();
  }

  /** Stops what this run started, by PID, and waits until it is gone. */
  private static void stop(List<Process> processes) throws InterruptedException {
    for (Process process : processes) {
      process.destroyForcibly();
    }
    for (Process process : processes) {
      process.waitFor();
    }
  }

  /** Removes the data folders (names ending in {@code suffix}) a run left under {@code dir}; its logs stay. */
  static void deleteData(Path dir, String suffix) throws IOException {
    if (!Files.isDirectory(dir)) {
      return;
    }
    try (var folders = Files.list(dir)) {
      for (Path folder : folders.filter(p -> Files.isDirectory(p) && p.getFileName().toString().endsWith(suffix)).toList()) {
        dev.bully.node.FileTrees.delete(folder);
      }
    }
  }

  private static int await(String what, java.util.function.IntSupplier found) throws InterruptedException {
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      int value = found.getAsInt();
      if (value != 0) {
        return value;
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException("no " + what + " within " + START_TIMEOUT.toSeconds() + " s");
  }
}
