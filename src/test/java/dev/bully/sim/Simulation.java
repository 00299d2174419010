package dev.bully.sim;

import dev.bully.core.DurableState;
import dev.bully.core.Election;
import dev.bully.core.ElectionSettings;
import dev.bully.core.Envelope;
import dev.bully.core.IdempotencyKey;
import dev.bully.core.LogLimits;
import dev.bully.core.WriteLimits;
import dev.bully.core.TermRun;
import dev.bully.core.LogEntry;
import dev.bully.core.LogWrite;
import dev.bully.core.Message;
import dev.bully.core.ReplicatedLog;
import dev.bully.core.Write;
import dev.bully.core.Output;
import dev.bully.core.ProtocolEvent;
import dev.bully.core.Role;
import dev.bully.core.Status;
import java.util.ArrayDeque;
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
  private long eventsRun;
  private long appendsFromStore;
  private long cutBySize;
  private long restartsFromStoredTail;
  private final Map<String, Long> sentByType = new java.util.TreeMap<>();
  /** Far more than any history here needs (a few hundred thousand at most). */
  private static final long MAX_EVENTS = 5_000_000;
  /** Small pages, so that histories page often. */
  private static final int PAGE_ENTRIES = 3;

  // Network faults, changed by the histories.
  double lossRate;
  double duplicateRate;
  long delayMinMs = 0;
  long delayMaxMs = 2;
  double slowRate;
  long slowDelayMaxMs = 100;
  /** How long a store write takes, at most (each takes a random while up to this). */
  long persistMaxMs = 3;

  private Consumer<ProtocolEvent> eventHook = e -> { };
  /**
   * Few entries stay in memory, so that catch-up from the store, eviction and restarts from a
   * store's tail happen in every history. Drawn from its own generator, so a seed's history is
   * otherwise the same as before these limits existed.
   */
  private final LogLimits logLimits;
  /** The padding of each write: from none to about a batch's or a page's worth. */
  private final SplittableRandom writeSizes;

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
    this.random = new SplittableRandom(seed);
    SplittableRandom limits = new SplittableRandom(seed ^ 0x9E3779B97F4A7C15L);
    this.logLimits = smallBudgets
        ? new LogLimits(1 + limits.nextInt(8), 4 + limits.nextInt(64), 8_000 + limits.nextInt(24_000),
            4_000 + limits.nextInt(12_000), 4_000 + limits.nextInt(12_000))
        : new LogLimits(1 + limits.nextInt(8), 4 + limits.nextInt(64));
    this.writeSizes = new SplittableRandom(limits.nextLong());
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
      if (++eventsRun > MAX_EVENTS) {
        // Messages that beget more messages without end: a liveness bug, found here rather than as a hung build.
        throw violation("more than " + MAX_EVENTS + " events: the nodes flood each other with messages " + sentByType);
      }
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
    node.pending.clear();
    node.headInFlight = false;
    node.alongside = null;
    node.writeWaitsForResume = false;
    node.alongsideWaitsForResume = false;
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
    if (node.writeWaitsForResume) {
      node.writeWaitsForResume = false;
      completeHead(node, node.incarnation);
    }
    if (node.alongsideWaitsForResume) {
      node.alongsideWaitsForResume = false;
      completeAlongside(node, node.incarnation);
    }
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

  /** Asks node {@code id} to hand its leadership over, as SIGTERM or POST /admin/stepdown do. */
  public void stepDown(int id) {
    if (isUp(id)) {
      apply(nodes[id], nodes[id].election.stepDown(now, false));
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
      String data = "{\"n\":" + writeSequence + ",\"pad\":\"" + "p".repeat(writeSizes.nextInt(1_200)) + "\"}";
      apply(nodes[target], nodes[target].election.propose(List.of(new Write(key, data, now)), now));
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

  /** Every entry of node {@code id}'s log, committed or not, in order (the log it acts on: what its store will hold). */
  public List<LogEntry> entries(int id) {
    return List.copyOf(nodes[id].intendedLog);
  }

  /** The committed entries of node {@code id}, in order. */
  public List<LogEntry> committedLog(int id) {
    SimNode node = nodes[id];
    return List.copyOf(node.intendedLog.subList(0, (int) node.election.status().commitIndex()));
  }

  /** How many APPENDs were filled from a coordinator's store, and how many restarts read only their log's tail. */
  public long appendsFromStore() {
    return appendsFromStore;
  }

  /** How many batches were cut by their budget of text, not their count: APPENDs, store-filled APPENDs, pages. */
  public long cutBySize() {
    return cutBySize;
  }

  public long restartsFromStoredTail() {
    return restartsFromStoredTail;
  }

  /** The limits every node's log runs with in this history. */
  public LogLimits logLimits() {
    return logLimits;
  }

  private void start(int id) {
    SimNode node = nodes[id];
    node.up = true;
    node.paused = false;
    node.incarnation++;
    node.intendedLog.clear();
    node.intendedLog.addAll(node.log);
    node.intendedDurable = node.durable;
    node.election = new Election(settings[id], node.durable, restoreLog(node),
        new SplittableRandom(random.nextLong()), now);
    node.checkedCommit = 0;
    int incarnation = node.incarnation;
    // Nodes tick out of phase with each other, as separate processes do.
    schedule(now + 1 + random.nextLong(TICK_MS), () -> tickLoop(node, incarnation));
  }

  /**
   * The log as a restarted node reads it from its store (as {@code NodeStore.loadLog} does): the
   * terms of all entries, the newest entries (all those not known to be committed) and the newest
   * idempotency keys.
   */
  private ReplicatedLog restoreLog(SimNode node) {
    List<LogEntry> stored = node.log;
    long last = stored.size();
    long paged = node.storedPaged;
    long commit = Math.min(Math.max(node.storedCommit, paged), last);
    long tailFrom = logLimits.restoreFrom(last, paged);
    long keysFrom = logLimits.keysFrom(last, tailFrom);
    List<TermRun> runs = TermRun.of(stored);
    List<IdempotencyKey> keys = new ArrayList<>();
    for (long index = keysFrom; index < tailFrom; index++) {
      LogEntry entry = stored.get((int) index - 1);
      if (entry.requestId() != null) {
        keys.add(new IdempotencyKey(index, entry.requestId()));
      }
    }
    List<LogEntry> tail = last == 0 ? List.of() : stored.subList((int) tailFrom - 1, (int) last);
    restartsFromStoredTail += tailFrom > 1 ? 1 : 0;
    return ReplicatedLog.restore(runs, keys, tail, commit, paged, logLimits);
  }

  /**
   * Writes the entries the core asks to page into the store's pages, as the driver does on its
   * ticks: they must be committed and in the store as they are, since pages never change and the
   * core lets paged entries leave memory.
   */
  private void pageIfDue(SimNode node) {
    List<LogEntry> page = node.election.logView().entriesToPage(PAGE_ENTRIES);
    if (page.isEmpty()) {
      return;
    }
    if (page.size() < PAGE_ENTRIES && page.stream().mapToLong(WriteLimits::entryChars).sum() > logLimits.pageChars() / 2) {
      cutBySize++;
    }
    long first = page.get(0).index();
    long last = page.get(page.size() - 1).index();
    if (first != node.storedPaged + 1 || last > node.log.size() || !node.log.subList((int) first - 1, (int) last).equals(page)) {
      throw violation("node " + node.id + " pages entries " + first + ".." + last + " that its store does not hold as they are"
          + " (paged up to " + node.storedPaged + ", store ends at " + node.log.size() + ")");
    }
    for (LogEntry entry : page) {
      if (!entry.equals(committed.get(entry.index()))) {
        throw violation("node " + node.id + " pages " + entry + ", which is not the committed entry " + committed.get(entry.index()));
      }
    }
    node.storedPaged = last;
    node.election.logView().paged(last);
  }

  private void tickLoop(SimNode node, int incarnation) {
    if (node.incarnation != incarnation || !node.up) {
      return;
    }
    if (!node.paused) {
      apply(node, node.election.tick(now));
      pageIfDue(node);
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
    Message message = envelope.entriesFromStore() > 0 ? fillFromStore(nodes[from], envelope) : envelope.message();
    sentByType.merge(message.type() + " " + from + "->" + envelope.to() + (envelope.entriesFromStore() > 0 ? " (from store)" : ""), 1L, Long::sum);
    if (blockedLinks.contains(link(from, envelope.to())) || random.nextDouble() < lossRate) {
      return;
    }
    deliverLater(envelope.to(), message);
    if (random.nextDouble() < duplicateRate) {
      deliverLater(envelope.to(), message);
    }
  }

  /**
   * An APPEND of entries that left the coordinator's memory, filled from its store as the driver
   * does. The core lets only committed, durable entries leave memory, so the store must hold them.
   */
  private Message fillFromStore(SimNode node, Envelope envelope) {
    Message.Append skeleton = (Message.Append) envelope.message();
    long first = skeleton.prevIndex() + 1;
    long last = first + envelope.entriesFromStore() - 1;
    if (last > node.log.size()) {
      throw violation("node " + node.id + " reads entries " + first + ".." + last + " from its store, which ends at " + node.log.size());
    }
    if (skeleton.prevIndex() > 0 && node.log.get((int) skeleton.prevIndex() - 1).term() != skeleton.prevTerm()) {
      throw violation("node " + node.id + " sends prevTerm " + skeleton.prevTerm() + " for entry " + skeleton.prevIndex()
          + ", which its store holds with term " + node.log.get((int) skeleton.prevIndex() - 1).term());
    }
    // As the driver reads them: within the batch's budget of text, one entry at least (the follower's answer says how far it got).
    List<LogEntry> entries = new ArrayList<>();
    long chars = 0;
    for (LogEntry entry : node.log.subList((int) first - 1, (int) last)) {
      chars += WriteLimits.entryChars(entry);
      if (chars > logLimits.batchChars() && !entries.isEmpty()) {
        cutBySize++;
        break;
      }
      entries.add(entry);
    }
    appendsFromStore++;
    return new Message.Append(skeleton.from(), skeleton.term(), skeleton.prevIndex(), skeleton.prevTerm(), entries,
        skeleton.commitIndex());
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

  /**
   * What the real driver does with an output: one store write at a time, in order, each taking a
   * random while ({@link #persistMaxMs}), except that a term or promise alone is written alongside a
   * log write in flight; an output's messages leave once its write is durable, or at
   * once when it {@link Output#sendsFirst() sends first}; then its events, then the log write is
   * reported back. An output with nothing to persist waits only behind earlier term or promise writes. A crash loses the
   * writes still queued; a paused node's writes wait until it resumes.
   */
  private void apply(SimNode node, Output output) {
    boolean statePending = node.alongside != null || node.pending.stream().anyMatch(p -> p.output().persist() != null);
    if (!output.needsPersisting() && !statePending) {
      record(node, output);
      sendAll(node, output, false);
      checkInvariants(node);
      return;
    }
    boolean early = output.sendsFirst() && !statePending;
    if (early) {
      sendAll(node, output, false);
    }
    if (output.logWrite() != null) {
      writeLog(node, node.intendedLog, output.logWrite(), null);
    }
    if (output.persist() != null) {
      node.intendedDurable = output.persist();
    }
    if (node.headInFlight && node.pending.size() == 1 && node.pending.peek().output().persist() == null
        && node.alongside == null && output.persist() != null && output.logWrite() == null) {
      node.alongside = new Pending(output, early);
      int incarnation = node.incarnation;
      schedule(now + random.nextLong(persistMaxMs + 1), () -> completeAlongside(node, incarnation));
      checkInvariants(node);
      return;
    }
    node.pending.add(new Pending(output, early));
    checkInvariants(node);
    if (node.pending.size() == 1 && node.alongside == null) {
      persistHead(node);
    }
  }

  /** As the driver: once no term or promise is pending, queued outputs that may send first send now. */
  private void releaseSendsFirst(SimNode node) {
    if (node.alongside != null || node.pending.stream().anyMatch(p -> p.output().persist() != null)) {
      return;
    }
    for (Pending pending : node.pending) {
      if (pending.output().sendsFirst() && !pending.sentEarly) {
        pending.sentEarly = true;
        sendAll(node, pending.output(), false);
      }
    }
  }

  private void completeAlongside(SimNode node, int incarnation) {
    if (node.incarnation != incarnation || !node.up || node.alongside == null) {
      return;
    }
    if (node.paused) {
      node.alongsideWaitsForResume = true;
      return;
    }
    Pending done = node.alongside;
    node.alongside = null;
    node.durable = done.output().persist();
    record(node, done.output());
    if (!done.sentEarly()) {
      sendAll(node, done.output(), true);
    }
    releaseSendsFirst(node);
    if (!node.headInFlight && !node.pending.isEmpty() && node.up) {
      persistHead(node);
    }
  }

  private void persistHead(SimNode node) {
    Pending head = node.pending.peek();
    node.headInFlight = true;
    if (!head.output().needsPersisting()) {
      completeHead(node, node.incarnation);
      return;
    }
    int incarnation = node.incarnation;
    schedule(now + random.nextLong(persistMaxMs + 1), () -> completeHead(node, incarnation));
  }

  private void completeHead(SimNode node, int incarnation) {
    if (node.incarnation != incarnation || !node.up) {
      return; // the process died with the write in flight: it never reached the store
    }
    if (node.paused) {
      node.writeWaitsForResume = true;
      return;
    }
    Output output = node.pending.peek().output();
    boolean sent = node.pending.peek().sentEarly();
    node.headInFlight = false;
    if (output.logWrite() != null) {
      writeLog(node, node.log, output.logWrite(), node.rolledBack);
      node.storedCommit = Math.max(node.storedCommit, output.logWrite().commitIndex());
    }
    if (output.persist() != null) {
      node.durable = output.persist();
    }
    record(node, output);
    if (!sent) {
      sendAll(node, output, true);
    }
    node.pending.poll();
    if (output.persist() != null) {
      releaseSendsFirst(node);
    }
    if (output.logWrite() != null) {
      apply(node, node.election.localPersisted(output.logWrite().lastIndex(), now));
    }
    if (!node.pending.isEmpty() && node.up && node.alongside == null && !node.headInFlight) {
      persistHead(node);
    }
  }

  private void record(SimNode node, Output output) {
    for (ProtocolEvent event : output.events()) {
      transcript.add(String.format("%7d ms  %s", now, event.text()));
      eventHook.accept(event);
    }
  }

  /** Sends an output's messages; unless its own write just completed, no term or promise may be pending then. */
  private void sendAll(SimNode node, Output output, boolean afterItsWrite) {
    if (!afterItsWrite && !node.durable.equals(node.intendedDurable) && !output.messages().isEmpty()) {
      throw violation("node " + node.id + " sends " + output.messages().get(0).message().type()
          + " while its term and promise " + node.intendedDurable + " are not durable yet (" + node.durable + ")");
    }
    for (Envelope envelope : output.messages()) {
      send(node.id, envelope);
    }
  }

  /** Applies a log write to {@code log} (the store, or the log the node means to have), checking it fits. */
  private void writeLog(SimNode node, List<LogEntry> log, LogWrite write, List<LogEntry> rolledBack) {
    if (!write.removed().isEmpty()) {
      int from = (int) write.removed().get(0).index();
      List<LogEntry> tail = log.subList(from - 1, log.size());
      if (!tail.equals(write.removed())) {
        throw violation("node " + node.id + " rolls back " + write.removed() + " but its log holds " + tail);
      }
      if (rolledBack != null) {
        rolledBack.addAll(tail);
      }
      tail.clear();
    }
    for (LogEntry entry : write.appended()) {
      if (entry.index() != log.size() + 1) {
        throw violation("node " + node.id + " appends entry " + entry.index() + " after " + log.size());
      }
      log.add(entry);
    }
  }

  private void checkInvariants(SimNode node) {
    Status status = node.election.status();
    // A term the node acted on but never stored may be forgotten by a crash (nothing was sent for it); a stored one never.
    if (status.term() < node.highestTerm) {
      throw violation("node " + node.id + "'s term went down from " + node.highestTerm + " to " + status.term());
    }
    node.highestTerm = Math.max(node.highestTerm, node.durable.term());
    if (node.intendedDurable.term() != status.term()) {
      throw violation("node " + node.id + " acts in term " + status.term() + " but is persisting " + node.intendedDurable.term());
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
    List<LogEntry> log = node.intendedLog;
    if (status.log().index() != log.size() || (!log.isEmpty() && !log.get(log.size() - 1).position().equals(status.log()))) {
      throw violation("node " + node.id + " acts on log " + status.log() + " but its writes end at " + log.size());
    }
    long firstInMemory = node.election.logView().firstInMemory();
    if (!node.election.logView().entries(firstInMemory, Integer.MAX_VALUE).equals(log.subList((int) firstInMemory - 1, log.size()))) {
      throw violation("node " + node.id + "'s entries in memory from " + firstInMemory + " differ from its log");
    }
    if (firstInMemory - 1 > node.storedPaged) {
      throw violation("node " + node.id + " let entries up to " + (firstInMemory - 1) + " leave memory, but its store's pages"
          + " reach only " + node.storedPaged);
    }
    if (status.role() == Role.COORDINATOR && node.election.logView().durableIndex() > node.log.size()) {
      throw violation("node " + node.id + " counts itself up to " + node.election.logView().durableIndex() + " but its store ends at " + node.log.size());
    }
    if (status.commitIndex() > node.checkedCommit) {
      // The node's log is its intended log (checked above); older entries may have left its memory.
      for (LogEntry entry : log.subList((int) node.checkedCommit, (int) status.commitIndex())) {
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
    List<LogEntry> log = node.intendedLog;
    for (LogEntry entry : committed.values()) {
      if (entry.index() > log.size() || !log.get((int) entry.index() - 1).equals(entry)) {
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
    /** What the store holds. */
    DurableState durable = DurableState.INITIAL;
    final List<LogEntry> log = new ArrayList<>();
    /** What the store will hold once the queued writes are done: what the node acts on. */
    DurableState intendedDurable = DurableState.INITIAL;
    final List<LogEntry> intendedLog = new ArrayList<>();
    final ArrayDeque<Pending> pending = new ArrayDeque<>();
    boolean headInFlight;
    /** A term or promise written alongside the log write in flight, as the driver's store queue does. */
    Pending alongside;
    boolean writeWaitsForResume;
    boolean alongsideWaitsForResume;
    final List<LogEntry> rolledBack = new ArrayList<>();
    /** The highest commit index the store's log writes carried: what a restart knows is committed. */
    long storedCommit;
    /** How far the store's pages reach. */
    long storedPaged;
    long checkedCommit;
    boolean up;
    boolean paused;
    int incarnation;
    /** The highest term this node's store has held. */
    long highestTerm;
    final List<Message> inbox = new ArrayList<>();

    SimNode(int id) {
      this.id = id;
    }
  }

  /** An output waiting for the store, and whether its messages already left. */
  private static final class Pending {
    private final Output output;
    private boolean sentEarly;

    Pending(Output output, boolean sentEarly) {
      this.output = output;
      this.sentEarly = sentEarly;
    }

    Output output() {
      return output;
    }

    boolean sentEarly() {
      return sentEarly;
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
