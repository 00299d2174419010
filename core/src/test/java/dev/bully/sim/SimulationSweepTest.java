package dev.bully.sim;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.function.IntConsumer;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/**
 * Thousands of randomized histories: faults of every kind on a seeded schedule, then a stable
 * network with a majority up. Safety is checked after every event by the simulator; liveness here:
 * one agreed coordinator within a bounded time, and after takeoverDelayMs the highest live id; every
 * acknowledged write in every live node's committed log, and applied to its documents.
 *
 * <p>It runs the fixed seeds 1..10,000 and 1,000 fresh ones, drawn each run and printed. A failure names its
 * seed; {@code mvn test -Dtest=SimulationSweepTest -Dsim.seed=N} replays it alone.
 */
class SimulationSweepTest {
  static final long HEARTBEAT_MS = 50;
  static final long FAILURE_TIMEOUT_MS = 200;
  static final long TAKEOVER_DELAY_MS = 1000;
  static final long AGREEMENT_BOUND_MS = 5000;
  /**
   * Leadership may climb in steps (1 → 3 → 4 → 5 when the higher nodes catch up one after another), and each new
   * coordinator times its followers' caught-up delay afresh: one takeover delay and a little per step.
   */
  /**
   * How many times longer catching up may take with small budgets: batches of a few dozen entries,
   * and followers whose answers wait while pages of three entries are written one per tick.
   */
  static final long SMALL_BUDGET_SLACK = 6;

  static long priorityBoundMs(int size) {
    return (size - 1) * (TAKEOVER_DELAY_MS + 2 * FAILURE_TIMEOUT_MS);
  }

  @Test
  void randomizedHistoriesKeepEveryInvariant() {
    Long only = Long.getLong("sim.seed");
    int count = Integer.getInteger("sim.histories", 10_000);
    long first = Long.getLong("sim.firstSeed", 1);
    // Besides the fixed seeds, fresh ones each run (printed), so that the sweep keeps exploring.
    int freshCount = only != null ? 0 : Integer.getInteger("sim.freshHistories", 1_000);
    long freshFirst = new SplittableRandom().nextLong(1_000_000_000L, 1_000_000_000_000L);
    System.out.printf("Sweep: fixed seeds %d..%d, fresh seeds %d..%d%n", first, first + count - 1, freshFirst,
        freshFirst + freshCount - 1);
    List<Long> seeds = new ArrayList<>();
    if (only != null) {
      seeds.add(only);
    } else {
      LongStream.range(first, first + count).forEach(seeds::add);
      LongStream.range(freshFirst, freshFirst + freshCount).forEach(seeds::add);
    }
    List<String> failures = new ArrayList<>();
    long appendsFromStore = 0;
    long restartsFromStoredTail = 0;
    long cutBySize = 0;
    long replayed = 0;
    long appliedAgain = 0;
    long readsConfirmed = 0;
    long compactions = 0;
    long snapshotsInstalled = 0;
    for (long seed : seeds) {
      try {
        Simulation sim = runHistory(seed);
        appendsFromStore += sim.coverage().appendsFromStore();
        restartsFromStoredTail += sim.coverage().restartsFromStoredTail();
        cutBySize += sim.coverage().cutBySize();
        replayed += sim.network().replayed();
        appliedAgain += sim.coverage().batchesAppliedAgain();
        readsConfirmed += sim.reader().confirmed();
        compactions += sim.coverage().compactions();
        snapshotsInstalled += sim.coverage().snapshotsInstalled();
      } catch (AssertionError | RuntimeException | StackOverflowError e) {
        failures.add("seed " + seed + ": " + (e instanceof AssertionError ? e.getMessage() : e));
        if (only != null && !(e instanceof AssertionError)) {
          e.printStackTrace(); // replaying one seed: where it broke
        }
        if (failures.size() >= 3) {
          break;
        }
      }
    }
    if (!failures.isEmpty()) {
      fail(failures.size() + " histories failed; replay one with -Dtest=SimulationSweepTest -Dsim.seed=N\n"
          + String.join("\n\n", failures));
    }
    System.out.printf("Sweep: %d histories, %d APPENDs filled from a store, %d restarts from a stored tail, "
        + "%d batches and pages cut by size, %d old messages replayed, %d batches applied again after a crash, "
        + "%d linearizable reads confirmed, %d compactions, %d snapshots installed%n",
        seeds.size(), appendsFromStore, restartsFromStoredTail, cutBySize, replayed, appliedAgain, readsConfirmed, compactions,
        snapshotsInstalled);
    if (only == null && count >= 100) {
      // The histories run with small in-memory logs: followers catch up from the coordinator's store, and
      // restarts read their log's tail; crashes cut batches of documents short. A sweep that no longer does
      // all of these checks less than it claims.
      assertTrue(appendsFromStore > 0 && restartsFromStoredTail > 0 && cutBySize > 0 && replayed > 0 && appliedAgain > 0
          && readsConfirmed > 0 && compactions > 0 && snapshotsInstalled > 0, "appends from store " + appendsFromStore
              + ", restarts from a stored tail " + restartsFromStoredTail + ", cut by size " + cutBySize + ", replayed " + replayed
              + ", applied again " + appliedAgain + ", reads confirmed " + readsConfirmed + ", compactions " + compactions
              + ", snapshots installed " + snapshotsInstalled);
    }
  }

  /**
   * The document checks catch a store that loses deletes' versions: a batch applied again after a
   * crash then decides a condition differently, or keeps a copy it deleted. Some history of the
   * sweep's first seeds must fail so (typically within a few dozen).
   */
  @Test
  void aStoreThatDropsTombstonesIsCaught() {
    for (long seed = 1; seed <= 2_000; seed++) {
      try {
        runHistory(seed, sim -> {
          forEachNode(sim, id -> sim.documents(id).dropsTombstones = true);
          sim.reader().stop(); // the histories of this check were drawn without reads, which shift every message
        });
      } catch (AssertionError e) {
        if (e.getMessage().contains("'s document") || e.getMessage().contains("where applying once decides")) {
          System.out.println("Without tombstones, seed " + seed + ": " + e.getMessage().lines().findFirst().orElse(""));
          return;
        }
        throw e;
      }
    }
    fail("no history of seeds 1..2,000 failed with stores that drop tombstones");
  }

  /**
   * The document checks catch a snapshot that leaves the tombstones out: the follower then applies
   * the log after the snapshot to documents that forgot a delete read while the coordinator
   * applied, decides a condition differently from everyone else, and its documents part from the
   * image of the log. Some history of the sweep's first seeds must fail so.
   */
  @Test
  void aSnapshotWithoutTombstonesIsCaught() {
    for (long seed = 1; seed <= 3_000; seed++) {
      try {
        runHistory(seed, sim -> forEachNode(sim, id -> sim.documents(id).snapshotsWithoutTombstones = true));
      } catch (AssertionError e) {
        if (e.getMessage().contains("'s document") || e.getMessage().contains("where applying once decides")) {
          System.out.println("Snapshots without tombstones, seed " + seed + ": " + e.getMessage().lines().findFirst().orElse(""));
          return;
        }
        throw e;
      }
    }
    fail("no history of seeds 1..3,000 failed with snapshots that leave tombstones out");
  }

  /**
   * The read check catches a coordinator that answers linearizable reads from its own state without
   * a majority's confirmation: cut off, it still thinks it leads while a newer coordinator commits
   * writes. Some history of the sweep's first seeds must fail so.
   */
  @Test
  void aCoordinatorThatReadsWithoutAskingAMajorityIsCaught() {
    for (long seed = 1; seed <= 2_000; seed++) {
      try {
        runHistory(seed, sim -> sim.reader().unsafe());
      } catch (AssertionError e) {
        if (e.getMessage().contains("linearizable read")) {
          System.out.println("Reads without a majority, seed " + seed + ": " + e.getMessage().lines().findFirst().orElse(""));
          return;
        }
        throw e;
      }
    }
    fail("no history of seeds 1..2,000 failed with reads that trust the coordinator's role");
  }

  static Simulation runHistory(long seed) {
    return runHistory(seed, sim -> { });
  }

  /** One history; {@code fault} sets up the simulation once its network and its crashes are drawn. */
  static Simulation runHistory(long seed, java.util.function.Consumer<Simulation> fault) {
    SplittableRandom random = new SplittableRandom(seed ^ 0x5DEECE66DL);
    int size = random.nextBoolean() ? 3 : 5;
    // One history in eight with budgets of entry text a few dozen writes large: batches and pages split by size.
    boolean smallBudgets = seed % 8 == 0;
    long slack = smallBudgets ? SMALL_BUDGET_SLACK : 1;
    // Three histories in four keep only a few dozen applied entries: logs are compacted, and followers catch up by snapshot.
    long retain = seed % 4 == 2 ? dev.bully.core.LogLimits.DEFAULT_RETAIN_ENTRIES
        : 1 + new SplittableRandom(seed ^ 0x7F4A7C159E3779B9L).nextInt(40);
    Simulation sim = new Simulation(seed, size, HEARTBEAT_MS, FAILURE_TIMEOUT_MS, TAKEOVER_DELAY_MS, smallBudgets, retain);
    sim.network().lossRate = random.nextDouble() * 0.2;
    sim.network().duplicateRate = random.nextDouble() * 0.05;
    sim.network().delayMaxMs = 1 + random.nextInt(10);
    sim.network().slowRate = random.nextDouble() * 0.05;
    // One history in four has a replayer: old authentic messages sent again, seconds later (its own randomness).
    if (seed % 4 == 3) {
      sim.network().replayRate = 0.01 + new SplittableRandom(seed).nextDouble() * 0.04;
    }

    // One history in four has nodes that die in the middle of applying a batch to their documents (their own randomness).
    if (seed % 4 == 1) {
      double rate = 0.005 + new SplittableRandom(seed).nextDouble() * 0.02;
      forEachNode(sim, id -> sim.documents(id).diesAfterWriteRate = rate);
    }

    fault.accept(sim);
    sim.writeEvery(5 + random.nextInt(40));
    sim.reader().every(2 + new SplittableRandom(seed ^ 0x3C6EF372FE94F82BL).nextInt(30)); // its own randomness
    long chaosEndMs = 2000 + random.nextInt(8000);
    while (sim.now() < chaosEndMs) {
      sim.runFor(50 + random.nextInt(700));
      injectFault(sim, random);
    }

    // The network becomes stable with a majority up, and nodes stop dying.
    forEachNode(sim, id -> sim.documents(id).diesAfterWriteRate = 0);
    sim.calm();
    sim.heal();
    int majority = size / 2 + 1;
    int stayDown = random.nextInt(size - majority + 1);
    List<Integer> ids = new ArrayList<>();
    for (int id = 1; id <= size; id++) {
      ids.add(id);
      sim.resume(id);
    }
    java.util.Collections.shuffle(ids, new java.util.Random(random.nextLong()));
    for (int i = 0; i < ids.size(); i++) {
      if (i < stayDown) {
        sim.crash(ids.get(i));
      } else {
        sim.restart(ids.get(i));
      }
    }
    long stableAtMs = sim.now();
    int agreed = sim.awaitAgreement(AGREEMENT_BOUND_MS);
    if (agreed == 0) {
      throw new AssertionError("no agreed coordinator " + AGREEMENT_BOUND_MS + " ms after the network became stable at "
          + stableAtMs + " ms with nodes " + new TreeSet<>(sim.liveIds()) + " up\n" + sim.transcriptTail(60));
    }
    int highest = sim.liveIds().stream().max(Integer::compare).orElseThrow();
    if (!sim.awaitCoordinator(highest, slack * priorityBoundMs(size))) {
      throw new AssertionError("coordinator is " + sim.agreedCoordinator() + ", not the highest live node " + highest
          + ", " + slack * priorityBoundMs(size) + " ms after agreement; " + sim.status(highest) + "; coordinator "
          + sim.status(sim.agreedCoordinator()) + "\n" + sim.transcriptTail(60));
    }
    // Every write a coordinator saw committed is, exactly once, in every live node's committed log.
    sim.stopWriting();
    sim.reader().stop();
    sim.runFor(slack * 1000);
    for (int id : sim.liveIds()) {
      java.util.List<String> keys = sim.committedLog(id).stream().map(dev.bully.core.LogEntry::requestId)
          .filter(java.util.Objects::nonNull).toList();
      java.util.Set<String> unique = new java.util.HashSet<>(keys);
      if (unique.size() != keys.size()) {
        throw new AssertionError("node " + id + "'s committed log holds a write twice");
      }
      for (String key : sim.acknowledged().keySet()) {
        if (!unique.contains(key)) {
          throw new AssertionError("acknowledged write " + key + " (index " + sim.acknowledged().get(key)
              + ") is missing from node " + id + "'s committed log; " + sim.status(id) + "; coordinator "
              + (sim.agreedCoordinator() == 0 ? "none agreed" : sim.status(sim.agreedCoordinator()))
              + " at " + sim.now() + " ms\n" + sim.transcriptTail(40));
        }
      }
    }
    // And every live node has applied them all to its documents (which the simulator checked against the image).
    for (int id : sim.liveIds()) {
      if (sim.documents(id).applied != sim.status(id).commitIndex()) {
        throw new AssertionError("node " + id + " applied up to " + sim.documents(id).applied + " of " + sim.status(id).commitIndex()
            + " committed, " + slack * 1000 + " ms after the writes stopped (" + sim.documents(id) + ")\n" + sim.transcriptTail(20));
      }
    }
    return sim;
  }

  private static void injectFault(Simulation sim, SplittableRandom random) {
    int id = 1 + random.nextInt(sim.size());
    switch (random.nextInt(13)) {
      case 0, 1 -> sim.crash(id);
      case 2, 3 -> sim.restart(id);
      case 4 -> sim.pause(id);
      case 5 -> sim.resume(id);
      case 6 -> sim.isolate(id);
      case 7 -> {
        TreeSet<Integer> side = new TreeSet<>();
        for (int other = 1; other <= sim.size(); other++) {
          if (random.nextBoolean()) {
            side.add(other);
          }
        }
        sim.partition(side);
      }
      case 8 -> {
        int other = 1 + random.nextInt(sim.size());
        if (other != id) {
          sim.cut(id, other);
        }
      }
      case 9, 10 -> {
        // Rivals: two nodes that cannot hear each other start elections at the same moment, so both may pass
        // their pre-votes and claim the same term; only the one-promise-per-term rule keeps them apart.
        int rival = 1 + random.nextInt(sim.size());
        if (rival != id) {
          sim.cut(id, rival);
          sim.cut(rival, id);
          sim.startElectionNow(id);
          sim.startElectionNow(rival);
        }
      }
      case 11 -> sim.stepDown(id); // a graceful hand-off, if id leads
      default -> {
        if (random.nextBoolean()) {
          sim.heal();
        } else {
          sim.startElectionNow(id);
        }
      }
    }
  }

  private static void forEachNode(Simulation sim, IntConsumer action) {
    for (int id = 1; id <= sim.size(); id++) {
      action.accept(id);
    }
  }
}
