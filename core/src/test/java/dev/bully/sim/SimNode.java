package dev.bully.sim;

import dev.bully.core.DurableState;
import dev.bully.core.Election;
import dev.bully.core.ElectionSettings;
import dev.bully.core.Envelope;
import dev.bully.core.LogEntry;
import dev.bully.core.LogLimits;
import dev.bully.core.LogWrite;
import dev.bully.core.Message;
import dev.bully.core.Output;
import dev.bully.core.TermRun;
import dev.bully.driver.Driver;
import dev.bully.driver.Host;
import dev.bully.driver.LogRestore;
import dev.bully.driver.Transport;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * One simulated node: the production {@link Driver} running the production {@link Election}
 * replica, over a simulated store (each write durable after a random while; what it holds
 * survives a crash, what was in flight does not) and the simulated network. A paused node runs
 * nothing: its store's answers and its messages wait until it resumes.
 *
 * <p>Besides what the store holds, the node keeps the log and the term and promise it means to
 * have once every queued write is done (taken from each output as the driver accepts it): what its
 * replica acts on, which the invariants compare with the replica's own view.
 */
final class SimNode {
  /** Small pages, so that histories page often. */
  static final int PAGE_ENTRIES = 3;

  final int id;
  private final Simulation sim;
  private final ElectionSettings settings;
  final LogLimits limits;

  // What the store holds: it survives crashes.
  DurableState durable = DurableState.INITIAL;
  final List<LogEntry> log = new ArrayList<>();
  final List<LogEntry> rolledBack = new ArrayList<>();
  /** The highest commit index the store's log writes carried: what a restart knows is committed. */
  long storedCommit;
  /** How far the store's pages reach. */
  long storedPaged;
  /** Entries up to here left the store (compacted, or replaced by a snapshot): they stay in {@link #log} only as placeholders. */
  long storedBase;
  /** The highest term this node's store has held. */
  long highestTerm;

  // What the node acts on: the store once the queued writes are done.
  DurableState intendedDurable = DurableState.INITIAL;
  /** Where a snapshot's log write that the node accepted will have its log begin. */
  long intendedBase;
  final List<LogEntry> intendedLog = new ArrayList<>();

  /** The node's documents, as its store holds them (they survive crashes), and the applier that writes them. */
  final SimDocuments documents;

  Driver driver;
  boolean up;
  boolean paused;
  int incarnation;
  /** How far the invariants have checked this node's committed entries. */
  long checkedCommit;
  /** Messages that reached the node while it was paused, in order. */
  private final List<Message> inbox = new ArrayList<>();
  /** Store answers that came while the node was paused, in order. */
  private final List<Runnable> heldWhilePaused = new ArrayList<>();
  /** Chaos, as the node's chaos faults arm it: die on the first election message, or once an announcement left. */
  boolean diesOnElectionMessage;
  boolean diesDuringAnnouncement;
  /** The highest term this process announced itself in (sent a heartbeat of). */
  private long announcedTerm;

  SimNode(int id, Simulation sim, ElectionSettings settings, LogLimits limits, int applyBatchEntries, SplittableRandom applyDelays) {
    this.id = id;
    this.sim = sim;
    this.settings = settings;
    this.limits = limits;
    this.documents = new SimDocuments(this, sim, applyBatchEntries, applyDelays);
  }

  Simulation sim() {
    return sim;
  }

  Election replica() {
    return driver.replica();
  }

  boolean running() {
    return up && !paused;
  }

  /** Starts the process on what its store holds: the log as a restart reads it back, a fresh replica and driver. */
  void start() {
    up = true;
    paused = false;
    incarnation++;
    intendedLog.clear();
    intendedLog.addAll(log);
    intendedDurable = durable;
    intendedBase = storedBase;
    List<TermRun> runs = TermRun.of(storedBase == 0 ? log : log.subList((int) storedBase - 1, log.size()));
    LogRestore restore = new LogRestore(storedBase, runs, log.size(), storedCommit, storedPaged, limits);
    for (long index = restore.readFrom(); index <= log.size(); index++) {
      restore.take(log.get((int) index - 1));
    }
    if (!restore.tail().isEmpty() && restore.tail().get(0).index() > 1) {
      sim.coverage().restartFromStoredTail();
    }
    Election election = new Election(settings, durable, restore.log(limits), new SplittableRandom(sim.random().nextLong()), sim.now());
    announcedTerm = 0;
    driver = new Driver(election, new SimStorage(this, incarnation), new SimTransport(incarnation), new SimHost(incarnation), sim::now,
        limits, PAGE_ENTRIES);
    checkedCommit = 0;
    documents.start(incarnation);
    int started = incarnation;
    // Nodes tick out of phase with each other, as separate processes do.
    sim.schedule(sim.now() + 1 + sim.random().nextLong(Simulation.TICK_MS), this, () -> tickLoop(started));
  }

  /** The process dies: what is in flight, to its store or in its socket, is lost. */
  void crash() {
    diesOnElectionMessage = false;
    diesDuringAnnouncement = false;
    up = false;
    paused = false;
    inbox.clear();
    heldWhilePaused.clear();
    incarnation++;
  }

  void pause() {
    paused = true;
  }

  /** Its store's late answers first, then its late tick, then the messages that waited for it. */
  void resume() {
    paused = false;
    List<Runnable> answers = new ArrayList<>(heldWhilePaused);
    heldWhilePaused.clear();
    answers.forEach(Runnable::run);
    driver.tick();
    List<Message> waiting = new ArrayList<>(inbox);
    inbox.clear();
    for (Message message : waiting) {
      if (running()) {
        driver.step(message);
      }
    }
  }

  /** A message arrives from the network; {@code incarnation} is the process it was sent to. */
  void deliver(int sentTo, Message message) {
    if (!up || incarnation != sentTo) {
      return; // a crashed process's socket is gone, and with it what was in flight
    }
    if (paused) {
      inbox.add(message);
      return;
    }
    if (diesOnElectionMessage && (message instanceof Message.Election || message instanceof Message.Claim)) {
      diesOnElectionMessage = false;
      sim.crash(id, "dies during the election (chaos), on " + message.type() + " from node " + message.from());
      return;
    }
    driver.step(message);
  }

  private void tickLoop(int started) {
    if (incarnation != started || !up) {
      return;
    }
    if (!paused) {
      driver.tick();
      documents.poll();
    }
    sim.schedule(sim.now() + Simulation.TICK_MS, this, () -> tickLoop(started));
  }

  /**
   * Runs {@code answer}, a store call of process {@code process}, after a random while; not at all
   * if the process died meanwhile (a write in flight never reached the store), and only once it
   * resumes if it is paused then.
   */
  void later(int process, Runnable answer) {
    later(process, sim.random().nextLong(sim.persistMaxMs + 1), answer);
  }

  /** {@link #later(int, Runnable)}, after {@code delayMs}. */
  void later(int process, long delayMs, Runnable answer) {
    sim.schedule(sim.now() + delayMs, this, () -> {
      if (incarnation != process || !up) {
        return;
      }
      if (paused) {
        heldWhilePaused.add(answer);
      } else {
        answer.run();
      }
    });
  }

  /** Applies a log write to {@code target} (the store, or the log the node means to have), checking it fits. */
  void applyLogWrite(List<LogEntry> target, LogWrite write, List<LogEntry> rolledBackTo) {
    if (write.resets()) {
      resetLog(target, write, rolledBackTo);
      return;
    }
    if (!write.removed().isEmpty()) {
      int from = (int) write.removed().get(0).index();
      List<LogEntry> tail = target.subList(Math.min(from - 1, target.size()), target.size());
      if (!tail.equals(write.removed())) {
        throw sim.violation("node " + id + " rolls back " + write.removed() + " but its log holds " + tail);
      }
      if (rolledBackTo != null) {
        rolledBackTo.addAll(tail);
      }
      tail.clear();
    }
    for (LogEntry entry : write.appended()) {
      if (entry.index() != target.size() + 1) {
        throw sim.violation("node " + id + " appends entry " + entry.index() + " after " + target.size());
      }
      target.add(entry);
    }
  }

  /**
   * A snapshot took the log's place: the removed entries go to rollback, and the log is the
   * committed entries up to the snapshot's, placeholders for what no store holds any more (each is
   * the entry committed at its index, which every node's log agrees on).
   */
  private void resetLog(List<LogEntry> target, LogWrite write, List<LogEntry> rolledBackTo) {
    if (!write.removed().isEmpty()) {
      int from = (int) write.removed().get(0).index();
      List<LogEntry> tail = target.subList(Math.min(from - 1, target.size()), target.size());
      if (!tail.equals(write.removed())) {
        throw sim.violation("node " + id + " rolls back " + write.removed() + " but its log holds " + tail);
      }
      if (rolledBackTo != null) {
        rolledBackTo.addAll(tail);
      }
    }
    target.clear();
    for (long index = 1; index <= write.resetIndex(); index++) {
      LogEntry committed = sim.invariants().committedAt(index);
      if (committed == null) {
        throw sim.violation("node " + id + " resets its log to entry " + write.resetIndex() + ", but entry " + index
            + " was never committed");
      }
      target.add(committed);
    }
    if (write.resetIndex() > 0 && target.get(target.size() - 1).term() != write.resetTerm()) {
      throw sim.violation("node " + id + " resets its log to entry " + write.resetIndex() + " of term " + write.resetTerm()
          + ", but the committed entry there is " + target.get(target.size() - 1));
    }
  }

  /** The simulated network, with what a node may send checked against what its store holds. */
  private final class SimTransport implements Transport {
    private final int process;

    SimTransport(int process) {
      this.process = process;
    }

    @Override
    public void send(Envelope envelope) {
      if (incarnation != process || !up) {
        return; // the process died in the middle of what it was doing
      }
      sim.invariants().checkSend(SimNode.this, envelope);
      sim.send(id, envelope);
      if (envelope.message() instanceof Message.Heartbeat heartbeat && heartbeat.term() > announcedTerm) {
        announcedTerm = heartbeat.term();
        if (diesDuringAnnouncement) {
          diesDuringAnnouncement = false;
          sim.crash(id, "dies during its announcement (chaos), after telling node " + envelope.to());
        }
      }
    }

    @Override
    public boolean reaches(int nodeId) {
      return sim.node(nodeId).up; // a member, as far as the cluster manager can tell
    }
  }

  private final class SimHost implements Host {
    private final int process;

    SimHost(int process) {
      this.process = process;
    }

    @Override
    public void accepted(Output output) {
      if (output.logWrite() != null) {
        applyLogWrite(intendedLog, output.logWrite(), null);
        if (output.logWrite().resets()) {
          intendedBase = output.logWrite().resetIndex();
        }
      }
      if (output.persist() != null) {
        intendedDurable = output.persist();
      }
      sim.invariants().check(SimNode.this);
    }

    @Override
    public void record(Output output) {
      if (incarnation == process && up) {
        sim.record(output); // a dead process logs nothing more
      }
    }

    @Override
    public void failStop(String why, Throwable cause) {
      throw sim.violation("node " + id + " stops: " + why + " (" + cause + ")");
    }

    @Override
    public void warn(String message) {
      throw sim.violation("node " + id + " " + message);
    }
  }
}
