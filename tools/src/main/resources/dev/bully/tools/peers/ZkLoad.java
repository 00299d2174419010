import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;

/**
 * The ZooKeeper side of {@code bin/bench.sh compare}, compiled at run time against the installed
 * ZooKeeper's jar: CLIENTS sessions to one server, each doing synchronous setData of 100 bytes on
 * its own znode for SECONDS (a setData answers once a quorum logged it, forced to the device).
 * Prints one line: {@code ok=N errors=E p50_ms=.. p90_ms=.. p99_ms=.. max_ms=..}.
 *
 * <p>Usage: ZkLoad HOST:PORT CLIENTS SECONDS
 */
public final class ZkLoad {
  public static void main(String[] args) throws Exception {
    String server = args[0];
    int clients = Integer.parseInt(args[1]);
    long endNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(Long.parseLong(args[2]));
    byte[] value = new byte[100];
    Arrays.fill(value, (byte) 'x');
    List<long[]> perClient = new ArrayList<>();
    long[] errors = new long[clients];
    List<Thread> threads = new ArrayList<>();
    for (int c = 0; c < clients; c++) {
      int client = c;
      long[][] latencies = {new long[1 << 16]};
      int[] count = {0};
      Thread thread = new Thread(() -> {
        try {
          ZooKeeper zk = connect(server);
          String path = "/bench-" + client;
          try {
            zk.create(path, value, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
          } catch (KeeperException.NodeExistsException e) {
            // from an earlier phase
          }
          while (System.nanoTime() < endNs) {
            long start = System.nanoTime();
            try {
              zk.setData(path, value, -1);
              if (count[0] == latencies[0].length) {
                latencies[0] = Arrays.copyOf(latencies[0], count[0] * 2);
              }
              latencies[0][count[0]++] = System.nanoTime() - start;
            } catch (KeeperException e) {
              errors[client]++;
            }
          }
          zk.close();
        } catch (Exception e) {
          errors[client]++;
        }
        synchronized (perClient) {
          perClient.add(Arrays.copyOf(latencies[0], count[0]));
        }
      });
      threads.add(thread);
      thread.start();
    }
    for (Thread thread : threads) {
      thread.join();
    }
    long[] all = perClient.stream().flatMapToLong(Arrays::stream).sorted().toArray();
    System.out.printf("ok=%d errors=%d p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f%n", all.length,
        Arrays.stream(errors).sum(), ms(all, 50), ms(all, 90), ms(all, 99), ms(all, 100));
  }

  private static ZooKeeper connect(String server) throws Exception {
    CountDownLatch connected = new CountDownLatch(1);
    ZooKeeper zk = new ZooKeeper(server, 10_000, event -> {
      if (event.getState() == Watcher.Event.KeeperState.SyncConnected) {
        connected.countDown();
      }
    });
    if (!connected.await(10, TimeUnit.SECONDS)) {
      throw new IllegalStateException("no session with " + server);
    }
    return zk;
  }

  private static double ms(long[] sorted, int percentile) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int at = (int) Math.ceil(percentile / 100.0 * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, at))] / 1e6;
  }
}
