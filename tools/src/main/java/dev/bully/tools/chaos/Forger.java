package dev.bully.tools.chaos;

import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.LongSupplier;

/**
 * The chaos run's {@code forge} fault: a {@link Rogue} member of the cluster manager, without the
 * cluster secret, that listens on every node's protocol address for the whole run and every 50 to
 * 250 ms sends one node a forgery: a claim with the largest term or a far later one, fake entries
 * after a plausible last index in a plausible term with a commit index, or an APPEND conflicting
 * with entry 1. What it must never achieve is checked afterwards: nothing forged in any log
 * ({@link Checker}), no message received ({@link #stolen}), and the history's other invariants.
 */
final class Forger implements AutoCloseable {
  private final Rogue rogue;
  private final List<Integer> ids;
  private final LongSupplier highestTerm;
  private final Thread thread;
  private volatile boolean running = true;
  private long sent;

  /** Joins the cluster of {@code nodeConfig}; {@code highestTerm}: the highest term the run has seen, to forge plausibly. */
  Forger(Path nodeConfig, List<Integer> ids, LongSupplier highestTerm, long seed) throws Exception {
    this.rogue = Rogue.join(nodeConfig, "forger");
    this.ids = List.copyOf(ids);
    this.highestTerm = highestTerm;
    for (int id : ids) {
      rogue.steal(id);
    }
    SplittableRandom random = new SplittableRandom(seed ^ 0xF0F0F0F0L);
    this.thread = new Thread(() -> forge(random), "chaos-forger");
    thread.setDaemon(true);
    thread.start();
  }

  private void forge(SplittableRandom random) {
    while (running) {
      int to = ids.get(random.nextInt(ids.size()));
      int as = ids.get(random.nextInt(ids.size()));
      long term = Math.max(1, highestTerm.getAsLong());
      long last = 1 + random.nextInt(5_000);
      switch (random.nextInt(4)) {
        case 0 -> rogue.send(to, Rogue.claim(as, Long.MAX_VALUE));
        case 1 -> rogue.send(to, Rogue.claim(as, term + 1 + random.nextInt(1_000_000)));
        case 2 -> rogue.send(to, Rogue.append(as, term, last, term, 1 + random.nextInt(5), last + 5));
        default -> rogue.send(to, Rogue.append(as, term + 1, 0, 0, 1, 1));
      }
      sent++;
      try {
        Thread.sleep(50 + random.nextInt(200));
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  /** Forgeries sent, each twice (plain and with a made-up MAC). */
  long sent() {
    return sent;
  }

  /** Protocol messages meant for a node that reached the forger: must stay 0. */
  long stolen() {
    return rogue.stolen();
  }

  @Override
  public void close() throws Exception {
    running = false;
    thread.interrupt();
    thread.join(5_000);
    rogue.close();
  }
}
