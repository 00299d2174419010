package dev.bully.sim;

import dev.bully.core.ElectionSettings;
import dev.bully.core.Envelope;
import dev.bully.core.LogEntry;
import dev.bully.core.LogLimits;
import dev.bully.core.Output;
import dev.bully.core.ProtocolEvent;
import dev.bully.core.Role;
import dev.bully.core.Status;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.stream.IntStream;

/**
 * A deterministic simulation of a cluster running the production code: each node is the real
 * {@link dev.bully.core.Election} replica under the real {@link dev.bully.driver.Driver} (its output
 * pipeline, outbox, pager, client writes and log restore), and only the IO is simulated
 * ({@link SimNode}): one virtual clock, one seeded random generator, stores whose writes take a
 * random while, and a network that can lose, delay, reorder and duplicate messages, cut links one
 * way or both, crash and restart nodes (what the store holds survives, the rest is lost) and pause
 * them like SIGSTOP (nothing runs, messages wait in the socket). The same seed always gives the
 * same history, so a failure replays from its seed alone.
 *
 * <p>Each node also applies what it knows is committed to its documents ({@link SimDocuments}), with
 * the production rules, one store write at a time, so that crashes fall between any two of them.
 *
 * <p>The safety invariants ({@link Invariants}) are checked after every output and every event.
 */
public final class Simulation {
  public static final long TICK_MS = 10;

  private final SplittableRandom random;
  private final SimNode[] nodes;
  private final Invariants invariants = new Invariants(this);
  private final EventQueue events = new EventQueue();
  private final List<String> transcript = new ArrayList<>();
  private final SimNetwork network;
  private final Coverage coverage = new Coverage();

  /** How long a store write takes, at most (each takes a random while up to this). */
  long persistMaxMs = 3;

  private Consumer<ProtocolEvent> eventHook = e -> { };
  /**
   * Few entries stay in memory, so that catch-up from the store, eviction and restarts from a
   * store's tail happen in every history. Drawn from its own generator, so a seed's limits do not
   * depend on the rest of its history.
   */
  private final LogLimits logLimits;
  private final SimClient client;
  private final SimReader reader;

  public Simulation(long seed, int size, long heartbeatMs, long failureTimeoutMs, long takeoverDelayMs) {
    this(seed, size, heartbeatMs, failureTimeoutMs, takeoverDelayMs, false);
  }

  /**
   * With {@code smallBudgets}, budgets of entry text far below a node's, around the size of the
   * writes (which vary from a few to over a thousand characters): pages, APPEND batches and
   * store-filled APPENDs split by size as well as by count, and a node's memory fills up with
   * unpaged entries, so its answers are held back. Catching up then takes many more round trips.
   */
  public Simulation(long seed, int size, long heartbeatMs, long failureTimeoutMs, long takeoverDelayMs, boolean smallBudgets) {
    this(seed, size, heartbeatMs, failureTimeoutMs, takeoverDelayMs, smallBudgets, LogLimits.DEFAULT_RETAIN_ENTRIES);
  }

  /** With {@code retainEntries} small, logs are compacted all along, and followers behind catch up from snapshots. */
  public Simulation(long seed, int size, long heartbeatMs, long failureTimeoutMs, long takeoverDelayMs, boolean smallBudgets,
                    long retainEntries) {
    this.random = new SplittableRandom(seed);
    this.network = new SimNetwork(this, random, seed);
    SplittableRandom limits = new SplittableRandom(seed ^ 0x9E3779B97F4A7C15L);
    this.logLimits = (smallBudgets
        ? new LogLimits(1 + limits.nextInt(8), 4 + limits.nextInt(64), 8_000 + limits.nextInt(24_000),
            4_000 + limits.nextInt(12_000), 4_000 + limits.nextInt(12_000))
        : new LogLimits(1 + limits.nextInt(8), 4 + limits.nextInt(64))).withRetainEntries(retainEntries);
    this.client = new SimClient(this, new SplittableRandom(limits.nextLong()), new SplittableRandom(seed ^ 0x2545F4914F6CDD1DL));
    this.reader = new SimReader(this, new SplittableRandom(seed ^ 0x61C8864680B583EBL));
    int applyBatchEntries = 1 + limits.nextInt(64);
    List<Integer> ids = IntStream.rangeClosed(1, size).boxed().toList();
    this.nodes = new SimNode[size + 1];
    for (int id : ids) {
      nodes[id] = new SimNode(id, this, new ElectionSettings(id, ids, heartbeatMs, failureTimeoutMs, takeoverDelayMs), logLimits,
          applyBatchEntries, new SplittableRandom(seed * 31 + id));
      nodes[id].start();
    }
  }

  // ---------------------------------------------------------------- time

  public long now() {
    return events.now();
  }

  public void runFor(long durationMs) {
    runUntil(now() + durationMs);
  }

  public void runUntil(long endMs) {
    // Messages that beget more messages without end: a liveness bug, found here rather than as a hung build.
    events.runUntil(endMs, invariants::check,
        () -> violation("the nodes flood each other with messages " + network.sentByType()));
  }

  /** Runs {@code action} at {@code atMs}; the invariants of {@code node} (if not null) are checked after it. */
  void schedule(long atMs, SimNode node, Runnable action) {
    events.schedule(atMs, node, action);
  }

  SplittableRandom random() {
    return random;
  }

  Invariants invariants() {
    return invariants;
  }

  // ---------------------------------------------------------------- nodes

  public int size() {
    return nodes.length - 1;
  }

  SimNode node(int id) {
    return nodes[id];
  }

  public Status status(int id) {
    return nodes[id].replica().status();
  }

  public boolean isUp(int id) {
    return nodes[id].running();
  }

  public void crash(int id) {
    crash(id, "crashed");
  }

  /** Node {@code id} dies, and the transcript says {@code how}. */
  void crash(int id, String how) {
    nodes[id].crash();
    note("-- node " + id + " " + how);
  }

  /** Chaos: node {@code id} dies on the first election message (ELECTION or claim) it receives. */
  public void dieDuringElection(int id) {
    nodes[id].diesOnElectionMessage = true;
  }

  /** Chaos: node {@code id} dies once its first announcement of a new term has reached one peer. */
  public void dieDuringAnnouncement(int id) {
    nodes[id].diesDuringAnnouncement = true;
  }

  public void restart(int id) {
    if (!nodes[id].up) {
      note("-- node " + id + " restarted with term " + nodes[id].durable.term());
      nodes[id].start();
    }
  }

  public void pause(int id) {
    if (nodes[id].running()) {
      nodes[id].pause();
      note("-- node " + id + " paused");
    }
  }

  /** Resumes a paused node: its store's late answers and timers come first, then the messages that waited for it. */
  public void resume(int id) {
    if (nodes[id].up && nodes[id].paused) {
      note("-- node " + id + " resumed");
      nodes[id].resume();
      invariants.check(nodes[id]);
    }
  }

  public void startElectionNow(int id) {
    if (isUp(id)) {
      nodes[id].driver.startElectionNow();
      invariants.check(nodes[id]);
    }
  }

  /** Asks node {@code id} to hand its leadership over, as SIGTERM or POST /admin/stepdown do. */
  public void stepDown(int id) {
    if (isUp(id)) {
      nodes[id].driver.stepDown(false);
      invariants.check(nodes[id]);
    }
  }

  /**
   * A client write sent to the node that leads now (the highest term among live coordinators),
   * through its client-write batching; once the write's concern is met the client is told, and it
   * counts as {@link #acknowledged()}. Returns the node it went to, or 0 when none leads.
   */
  public int write() {
    return client.write();
  }

  /** Writes whose client was told they are committed: key to index. */
  public Map<String, Long> acknowledged() {
    return invariants.acknowledged();
  }

  /** What node {@code id} moved to its rollback collection, oldest first. */
  public List<LogEntry> rolledBack(int id) {
    return List.copyOf(nodes[id].rolledBack);
  }

  /** Starts a client that writes through the current coordinator every {@code intervalMs}, until the end. */
  public void writeEvery(long intervalMs) {
    client.writeEvery(intervalMs);
  }

  public void stopWriting() {
    client.stop();
  }

  /** The client of linearizable reads, which starts when asked to ({@link SimReader#every}). */
  SimReader reader() {
    return reader;
  }

  /** Every entry of node {@code id}'s log, committed or not, in order (the log it acts on: what its store will hold). */
  public List<LogEntry> entries(int id) {
    return List.copyOf(nodes[id].intendedLog);
  }

  /** The committed entries of node {@code id}, in order. */
  public List<LogEntry> committedLog(int id) {
    SimNode node = nodes[id];
    return List.copyOf(node.intendedLog.subList(0, (int) status(id).commitIndex()));
  }

  /** What this history exercised so far. */
  public Coverage coverage() {
    return coverage;
  }

  /**
   * Node {@code id}'s documents: what it has applied ({@link SimDocuments#applied}, in words by
   * {@code toString}) and its document chaos (dying while applying, dropping tombstones).
   */
  SimDocuments documents(int id) {
    return nodes[id].documents;
  }

  /** The limits every node's log runs with in this history. */
  public LogLimits logLimits() {
    return logLimits;
  }

  /** A node's output is true now: its events go into the transcript. */
  void record(Output output) {
    for (ProtocolEvent event : output.events()) {
      transcript.add(String.format("%7d ms  %s", now(), event.text()));
      eventHook.accept(event);
    }
  }

  AssertionError violation(String what) {
    return new AssertionError("Invariant violated at " + now() + " ms: " + what + "\n" + transcriptTail(60));
  }

  // ---------------------------------------------------------------- network

  /** Cuts the link from {@code from} to {@code to}; the other direction is untouched. */
  public void cut(int from, int to) {
    network.cut(from, to);
  }

  public void isolate(int id) {
    for (int other = 1; other <= size(); other++) {
      if (other != id) {
        cut(id, other);
        cut(other, id);
      }
    }
    note("-- node " + id + " isolated");
  }

  public void partition(Set<Integer> side) {
    for (int a : side) {
      for (int b = 1; b <= size(); b++) {
        if (!side.contains(b)) {
          cut(a, b);
          cut(b, a);
        }
      }
    }
    note("-- partition " + side + " | rest");
  }

  public void heal() {
    network.heal();
    note("-- network healed");
  }

  /** No more loss, duplication or long delays. */
  public void calm() {
    network.calm();
  }

  /** The network's faults, for a history to set. */
  SimNetwork network() {
    return network;
  }

  /** A node's message onto the network. */
  void send(int from, Envelope envelope) {
    network.send(from, envelope);
  }

  // ---------------------------------------------------------------- observations

  /** The coordinator every live node agrees on (and which itself is coordinator), or 0 if none. */
  public int agreedCoordinator() {
    int agreed = -1;
    long term = -1;
    for (int id = 1; id <= size(); id++) {
      if (!isUp(id)) {
        continue;
      }
      Status status = status(id);
      if (agreed == -1) {
        agreed = status.coordinatorId();
        term = status.term();
      } else if (status.coordinatorId() != agreed || status.term() != term) {
        return 0;
      }
    }
    if (agreed <= 0 || !isUp(agreed) || status(agreed).role() != Role.COORDINATOR) {
      return 0;
    }
    return agreed;
  }

  /** Runs until every live node agrees on a coordinator, or the deadline passes; returns it or 0. */
  public int awaitAgreement(long withinMs) {
    long deadline = now() + withinMs;
    while (now() < deadline) {
      runFor(TICK_MS);
      int agreed = agreedCoordinator();
      if (agreed != 0) {
        return agreed;
      }
    }
    return 0;
  }

  /** Runs until every live node agrees on {@code expected}, or the deadline passes; whether it happened. */
  public boolean awaitCoordinator(int expected, long withinMs) {
    long deadline = now() + withinMs;
    while (agreedCoordinator() != expected && now() < deadline) {
      runFor(TICK_MS);
    }
    return agreedCoordinator() == expected;
  }

  public Set<Integer> liveIds() {
    Set<Integer> live = new TreeSet<>();
    for (int id = 1; id <= size(); id++) {
      if (isUp(id)) {
        live.add(id);
      }
    }
    return live;
  }

  public Map<Long, Integer> coordinatorsByTerm() {
    return invariants.coordinatorsByTerm();
  }

  public List<String> transcript() {
    return List.copyOf(transcript);
  }

  public String transcriptTail(int lines) {
    return String.join("\n", transcript.subList(Math.max(0, transcript.size() - lines), transcript.size()));
  }

  public void onEvent(Consumer<ProtocolEvent> hook) {
    this.eventHook = hook;
  }

  private void note(String line) {
    transcript.add(String.format("%7d ms  %s", now(), line));
  }
}
