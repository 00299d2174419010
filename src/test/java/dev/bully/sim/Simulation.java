package dev.bully.sim;

import dev.bully.core.DurableState;
import dev.bully.core.Election;
import dev.bully.core.ElectionSettings;
import dev.bully.core.Envelope;
import dev.bully.core.LogEntry;
import dev.bully.core.LogWrite;
import dev.bully.core.Message;
import dev.bully.core.ReplicatedLog;
import dev.bully.core.Write;
import dev.bully.core.Output;
import dev.bully.core.ProtocolEvent;
import dev.bully.core.Role;
import dev.bully.core.Status;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.stream.IntStream;

/**
 * A deterministic simulation of a cluster running the real {@link Election} core: one virtual clock,
 * one seeded random generator, and a network that can lose, delay, reorder and duplicate messages,
 * cut links one way or both, crash and restart nodes (durable state survives, the rest is lost) and
 * pause them like SIGSTOP (nothing runs, messages wait in the socket). The same seed always gives
 * the same history, so a failure replays from its seed alone.
 *
 * <p>After every event it checks the safety invariants: at most one coordinator per term, no term
 * ever goes down, what a node acts on is what it persisted (term, promise and log), an index once
 * committed anywhere always holds the same entry, and a new coordinator's log holds every entry
 * committed before it won.
 */
public final class Simulation {
  public static final long TICK_MS = 10;

  private final SplittableRandom random;
  private final ElectionSettings[] settings;
  private final SimNode[] nodes;
  private final PriorityQueue<Event> queue = new PriorityQueue<>();
  private final List<String> transcript = new ArrayList<>();
  private final Map<Long, Integer> coordinatorOfTerm = new HashMap<>();
  private final Set<Long> blockedLinks = new HashSet<>();
  private final Map<Long, LogEntry> committed = new HashMap<>();
  private final Map<String, Long> acknowledged = new HashMap<>();
  private final Map<String, Integer> proposedTo = new HashMap<>();
  private long writeSequence;
  private boolean clientStopped;
  private long now;
  private long sequence;

  // Network faults, changed by the histories.
  double lossRate;
  double duplicateRate;
  long delayMinMs = 0;
  long delayMaxMs = 2;
  double slowRate;
  long slowDelayMaxMs = 100;

  private Consumer<ProtocolEvent> eventHook = e -> { };

  public Simulation(long seed, int size, long heartbeatMs, long failureTimeoutMs, long takeoverDelayMs) {
    this.random = new SplittableRandom(seed);
    List<Integer> ids = IntStream.rangeClosed(1, size).boxed().toList();
    this.settings = new ElectionSettings[size + 1];
    this.nodes = new SimNode[size + 1];
    for (int id : ids) {
      settings[id] = new ElectionSettings(id, ids, heartbeatMs, failureTimeoutMs, takeoverDelayMs);
      nodes[id] = new SimNode(id);
      start(id);
    }
  }

  // ---------------------------------------------------------------- time

  public long now() {
    return now;
  }

  public void runFor(long durationMs) {
    runUntil(now + durationMs);
  }

  public void runUntil(long endMs) {
    while (!queue.isEmpty() && queue.peek().atMs <= endMs) {
      Event event = queue.poll();
      now = event.atMs;
      event.action.run();
    }
    now = Math.max(now, endMs);
  }

  private void schedule(long atMs, Runnable action) {
    queue.add(new Event(atMs, sequence++, action));
  }

  // ---------------------------------------------------------------- nodes

  public int size() {
    return nodes.length - 1;
  }

  public Status status(int id) {
    return nodes[id].election.status();
  }

  public boolean isUp(int id) {
    return nodes[id].up && !nodes[id].paused;
  }

  public void crash(int id) {
    SimNode node = nodes[id];
    node.up = false;
    node.paused = false;
    node.inbox.clear();
    node.incarnation++;
    note("-- node " + id + " crashed");
  }

  public void restart(int id) {
    if (!nodes[id].up) {
      note("-- node " + id + " restarted with term " + nodes[id].durable.term());
      start(id);
    }
  }

  public void pause(int id) {
    if (nodes[id].up && !nodes[id].paused) {
      nodes[id].paused = true;
      note("-- node " + id + " paused");
    }
  }

  /** Resumes a paused node: its late timers fire first, then the messages that waited for it. */
  public void resume(int id) {
    SimNode node = nodes[id];
    if (!node.paused) {
      return;
    }
    node.paused = false;
    note("-- node " + id + " resumed");
    apply(node, node.election.tick(now));
    List<Message> waiting = new ArrayList<>(node.inbox);
    node.inbox.clear();
    for (Message message : waiting) {
      if (node.up && !node.paused) {
        apply(node, node.election.step(message, now));
      }
    }
  }

  public void startElectionNow(int id) {
    if (isUp(id)) {
      apply(nodes[id], nodes[id].election.startElectionNow(now));
    }
  }

  /**
   * A client write sent to the node that leads now (the highest term among live coordinators);
   * returns the node it went to, or 0 when none leads.
   */
  public int write() {
    int target = 0;
    long bestTerm = -1;
    for (int id = 1; id <= size(); id++) {
      if (isUp(id) && status(id).role() == Role.COORDINATOR && status(id).term() > bestTerm) {
        target = id;
        bestTerm = status(id).term();
      }
    }
    if (target != 0) {
      String key = "w" + (++writeSequence);
      proposedTo.put(key, target);
      apply(nodes[target], nodes[target].election.propose(List.of(new Write(key, "{\"n\":" + writeSequence + "}", now)), now));
    }
    return target;
  }

  /** Writes that a coordinator saw committed, as a client would have been told: key to index. */
  public Map<String, Long> acknowledged() {
    return Map.copyOf(acknowledged);
  }

  /** What node {@code id} moved to its rollback collection, oldest first. */
  public List<LogEntry> rolledBack(int id) {
    return List.copyOf(nodes[id].rolledBack);
  }

  /** Starts a client that writes through the current coordinator every {@code intervalMs}, until the end. */
  public void writeEvery(long intervalMs) {
    schedule(now + intervalMs, () -> {
      if (!clientStopped) {
        write();
        writeEvery(intervalMs);
      }
    });
  }

  public void stopWriting() {
    clientStopped = true;
  }

  /** The committed entries of node {@code id}, in order. */
  public List<LogEntry> committedLog(int id) {
    return nodes[id].election.committed(1, Integer.MAX_VALUE);
  }

  private void start(int id) {
    SimNode node = nodes[id];
    node.up = true;
    node.paused = false;
    node.incarnation++;
    node.election = new Election(settings[id], node.durable, new ReplicatedLog(node.log, 0),
        new SplittableRandom(random.nextLong()), now);
    node.checkedCommit = 0;
    int incarnation = node.incarnation;
    // Nodes tick out of phase with each other, as separate processes do.
    schedule(now + 1 + random.nextLong(TICK_MS), () -> tickLoop(node, incarnation));
  }

  private void tickLoop(SimNode node, int incarnation) {
    if (node.incarnation != incarnation || !node.up) {
      return;
    }
    if (!node.paused) {
      apply(node, node.election.tick(now));
    }
    schedule(now + TICK_MS, () -> tickLoop(node, incarnation));
  }

  // ---------------------------------------------------------------- network

  /** Cuts the link from {@code from} to {@code to}; the other direction is untouched. */
  public void cut(int from, int to) {
    blockedLinks.add(link(from, to));
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
    blockedLinks.clear();
    note("-- network healed");
  }

  public void calm() {
    lossRate = 0;
    duplicateRate = 0;
    slowRate = 0;
    delayMinMs = 0;
    delayMaxMs = 2;
  }

  private static long link(int from, int to) {
    return ((long) from << 32) | to;
  }

  private void send(int from, Envelope envelope) {
    Message message = envelope.message();
    if (blockedLinks.contains(link(from, envelope.to())) || random.nextDouble() < lossRate) {
      return;
    }
    deliverLater(envelope.to(), message);
    if (random.nextDouble() < duplicateRate) {
      deliverLater(envelope.to(), message);
    }
  }

  private void deliverLater(int to, Message message) {
    long delay = delayMinMs + random.nextLong(delayMaxMs - delayMinMs + 1);
    if (random.nextDouble() < slowRate) {
      delay += random.nextLong(slowDelayMaxMs + 1);
    }
    SimNode target = nodes[to];
    int incarnation = target.incarnation;
    schedule(now + delay, () -> deliver(target, incarnation, message));
  }

  private void deliver(SimNode node, int incarnation, Message message) {
    if (!node.up || node.incarnation != incarnation) {
      return; // a crashed process's socket is gone, and with it what was in flight
    }
    if (node.paused) {
      node.inbox.add(message);
      return;
    }
    apply(node, node.election.step(message, now));
  }

  // ---------------------------------------------------------------- effects and invariants

  /** Persist, then send, then record, then report the log write back: the order the real driver follows. */
  private void apply(SimNode node, Output output) {
    if (output.logWrite() != null) {
      writeLog(node, output.logWrite());
    }
    if (output.persist() != null) {
      node.durable = output.persist();
    }
    for (ProtocolEvent event : output.events()) {
      transcript.add(String.format("%7d ms  %s", now, event.text()));
      eventHook.accept(event);
    }
    for (Envelope envelope : output.messages()) {
      send(node.id, envelope);
    }
    checkInvariants(node);
    if (output.logWrite() != null && node.up) {
      apply(node, node.election.localPersisted(output.logWrite().lastIndex(), now));
    }
  }

  private void writeLog(SimNode node, LogWrite write) {
    if (!write.removed().isEmpty()) {
      int from = (int) write.removed().get(0).index();
      List<LogEntry> tail = node.log.subList(from - 1, node.log.size());
      if (!tail.equals(write.removed())) {
        throw violation("node " + node.id + " rolls back " + write.removed() + " but its store holds " + tail);
      }
      node.rolledBack.addAll(tail);
      tail.clear();
    }
    for (LogEntry entry : write.appended()) {
      if (entry.index() != node.log.size() + 1) {
        throw violation("node " + node.id + " appends entry " + entry.index() + " after " + node.log.size());
      }
      node.log.add(entry);
    }
  }

  private void checkInvariants(SimNode node) {
    Status status = node.election.status();
    if (status.term() < node.highestTerm) {
      throw violation("node " + node.id + "'s term went down from " + node.highestTerm + " to " + status.term());
    }
    node.highestTerm = status.term();
    if (node.durable.term() != status.term()) {
      throw violation("node " + node.id + " acts in term " + status.term() + " but persisted " + node.durable.term());
    }
    if (status.role() == Role.COORDINATOR) {
      Integer previous = coordinatorOfTerm.putIfAbsent(status.term(), node.id);
      if (previous != null && previous != node.id) {
        throw violation("two coordinators in term " + status.term() + ": nodes " + previous + " and " + node.id);
      }
      if (previous == null) {
        checkLeaderCompleteness(node, status.term());
      }
    }
    if (status.log().index() != node.log.size()
        || (!node.log.isEmpty() && !node.log.get(node.log.size() - 1).position().equals(status.log()))) {
      throw violation("node " + node.id + " acts on log " + status.log() + " but its store ends at " + node.log.size());
    }
    if (status.commitIndex() > node.checkedCommit) {
      for (LogEntry entry : node.election.committed(node.checkedCommit + 1, (int) (status.commitIndex() - node.checkedCommit))) {
        LogEntry earlier = committed.putIfAbsent(entry.index(), entry);
        if (earlier != null && !earlier.equals(entry)) {
          throw violation("node " + node.id + " committed " + entry + " where " + earlier + " was committed");
        }
        if (entry.requestId() != null && Integer.valueOf(node.id).equals(proposedTo.get(entry.requestId()))) {
          acknowledged.putIfAbsent(entry.requestId(), entry.index());
        }
      }
      node.checkedCommit = status.commitIndex();
    }
  }

  /** A node that just won must hold every entry committed so far, or a committed entry could be lost. */
  private void checkLeaderCompleteness(SimNode node, long term) {
    for (LogEntry entry : committed.values()) {
      if (entry.index() > node.log.size() || !node.log.get((int) entry.index() - 1).equals(entry)) {
        throw violation("node " + node.id + " won term " + term + " without committed " + entry);
      }
    }
  }

  private AssertionError violation(String what) {
    return new AssertionError("Invariant violated at " + now + " ms: " + what + "\n" + transcriptTail(60));
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
    long deadline = now + withinMs;
    while (now < deadline) {
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
    long deadline = now + withinMs;
    while (agreedCoordinator() != expected && now < deadline) {
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
    return Map.copyOf(coordinatorOfTerm);
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
    transcript.add(String.format("%7d ms  %s", now, line));
  }

  private static final class SimNode {
    final int id;
    Election election;
    DurableState durable = DurableState.INITIAL;
    final List<LogEntry> log = new ArrayList<>();
    final List<LogEntry> rolledBack = new ArrayList<>();
    long checkedCommit;
    boolean up;
    boolean paused;
    int incarnation;
    long highestTerm;
    final List<Message> inbox = new ArrayList<>();

    SimNode(int id) {
      this.id = id;
    }
  }

  private record Event(long atMs, long sequence, Runnable action) implements Comparable<Event> {
    @Override
    public int compareTo(Event other) {
      int byTime = Long.compare(atMs, other.atMs);
      return byTime != 0 ? byTime : Long.compare(sequence, other.sequence);
    }
  }
}
