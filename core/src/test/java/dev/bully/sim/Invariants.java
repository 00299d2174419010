package dev.bully.sim;

import dev.bully.apply.Outcome;
import dev.bully.core.DurableState;
import dev.bully.core.Envelope;
import dev.bully.core.LogEntry;
import dev.bully.core.Message;
import dev.bully.core.Role;
import dev.bully.core.Status;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The safety properties, checked after every output and every event of a simulation: at most one
 * coordinator per term; no term ever goes down; what a node acts on is what it persists (term,
 * promise and log); nothing is sent that depends on a term not yet durable; a store never holds
 * two promises in one term; an index
 * once committed anywhere always holds the same entry; a new coordinator's log holds every entry
 * committed before it won; a write acknowledged to a client is the committed entry at its index; and
 * every node's documents are the image of a prefix of the committed operations (its applied index),
 * or between two such images while a batch is written, and every condition is decided as applying
 * the operations once, in order, decides it.
 */
final class Invariants {
  private final Simulation sim;
  private final Map<Long, Integer> coordinatorOfTerm = new HashMap<>();
  private final Map<Long, LogEntry> committed = new HashMap<>();
  private final Map<String, Long> acknowledged = new HashMap<>();
  /** The highest index whose client was told it committed, at once: a read made after that must see it. */
  private long highestAcknowledged;
  /** Acknowledged in the event running now: checked once the event's commits are checked. */
  private final List<Map.Entry<String, Long>> unchecked = new ArrayList<>();
  private final DocumentImages images = new DocumentImages();

  Invariants(Simulation sim) {
    this.sim = sim;
  }

  Map<Long, Integer> coordinatorsByTerm() {
    return Map.copyOf(coordinatorOfTerm);
  }

  Map<String, Long> acknowledged() {
    return Map.copyOf(acknowledged);
  }

  /** A client was told that its write {@code key} is committed at {@code index}. */
  void acknowledged(String key, long index) {
    unchecked.add(Map.entry(key, index));
    highestAcknowledged = Math.max(highestAcknowledged, index);
  }

  long highestAcknowledged() {
    return highestAcknowledged;
  }

  void check(SimNode node) {
    if (!node.up) {
      return;
    }
    Status status = node.replica().status();
    // A term the node acted on but never stored may be forgotten by a crash (nothing was sent for it); a stored one never.
    if (status.term() < node.highestTerm) {
      throw sim.violation("node " + node.id + "'s term went down from " + node.highestTerm + " to " + status.term());
    }
    if (node.intendedDurable.term() != status.term()) {
      throw sim.violation("node " + node.id + " acts in term " + status.term() + " but is persisting " + node.intendedDurable.term());
    }
    if (status.role() == Role.COORDINATOR) {
      Integer previous = coordinatorOfTerm.putIfAbsent(status.term(), node.id);
      if (previous != null && previous != node.id) {
        throw sim.violation("two coordinators in term " + status.term() + ": nodes " + previous + " and " + node.id);
      }
      if (previous == null) {
        checkLeaderCompleteness(node, status.term());
      }
    }
    List<LogEntry> log = node.intendedLog;
    if (status.log().index() != log.size() || (!log.isEmpty() && !log.get(log.size() - 1).position().equals(status.log()))) {
      throw sim.violation("node " + node.id + " acts on log " + status.log() + " but its writes end at " + log.size());
    }
    long firstInMemory = node.replica().logView().firstInMemory();
    if (!node.replica().logView().entries(firstInMemory, Integer.MAX_VALUE).equals(log.subList((int) firstInMemory - 1, log.size()))) {
      throw sim.violation("node " + node.id + "'s entries in memory from " + firstInMemory + " differ from its log");
    }
    if (firstInMemory - 1 > Math.max(node.storedPaged, node.intendedBase)) {
      throw sim.violation("node " + node.id + " let entries up to " + (firstInMemory - 1) + " leave memory, but its store's pages"
          + " reach only " + node.storedPaged);
    }
    if (status.role() == Role.COORDINATOR && node.replica().logView().durableIndex() > node.log.size()) {
      throw sim.violation("node " + node.id + " counts itself up to " + node.replica().logView().durableIndex()
          + " but its store ends at " + node.log.size());
    }
    if (status.commitIndex() > node.checkedCommit) {
      // The node's log is its intended log (checked above); older entries may have left its memory.
      for (LogEntry entry : log.subList((int) node.checkedCommit, (int) status.commitIndex())) {
        LogEntry earlier = committed.putIfAbsent(entry.index(), entry);
        if (earlier != null && !earlier.equals(entry)) {
          throw sim.violation("node " + node.id + " committed " + entry + " where " + earlier + " was committed");
        }
      }
      node.checkedCommit = status.commitIndex();
    }
    checkAcknowledged();
    checkDocuments(node);
  }

  /**
   * Node {@code node}'s documents (what a MongoDB client of its store reads) are those applying the
   * committed operations up to its applied index makes; while a batch is written, or after a crash
   * cut one short, each document is as some prefix up to the batch's end leaves it.
   */
  void checkDocuments(SimNode node) {
    SimDocuments store = node.documents;
    if (store.swapping()) {
      return; // a snapshot's swap is under way: a restart finishes it before anything reads the documents
    }
    long from = store.applied;
    // A snapshot is read while its coordinator applies: each document is as some prefix up to consistentAt leaves it.
    long to = Math.max(Math.max(store.applied, store.attempted), store.consistentAt);
    images.extendTo(to, committed::get);
    Set<Object> ids = new HashSet<>(images.ids());
    ids.addAll(store.copies.keySet());
    for (Object id : ids) {
      Optional<SimDocuments.Copy> copy = Optional.ofNullable(store.copies.get(id));
      boolean image = from == to ? images.at(id, from).equals(copy) : images.someImageHas(id, copy, from, to);
      if (!image) {
        throw sim.violation("node " + node.id + "'s document " + id + " is " + copy.map(Object::toString).orElse("absent")
            + " with entries up to " + from + " applied" + (to > from ? " (a batch up to " + to + " begun)" : "")
            + ", where applying them once leaves it " + images.at(id, from).map(Object::toString).orElse("absent"));
      }
    }
  }

  /** The entry committed at {@code index}, or null if none is known to be. */
  LogEntry committedAt(long index) {
    return committed.get(index);
  }

  /** What node {@code node} decided, afresh, for a batch: each outcome applying the operations once, in order, decides. */
  void checkOutcomes(SimNode node, List<Outcome> outcomes) {
    images.extendTo(outcomes.get(outcomes.size() - 1).index(), committed::get);
    for (Outcome outcome : outcomes) {
      Outcome once = images.outcome(outcome.index());
      if (!outcome.equals(once)) {
        throw sim.violation("node " + node.id + " decided " + outcome + " where applying once decides " + once);
      }
    }
  }

  /** Every write acknowledged so far is the committed entry at the index its client was told. */
  private void checkAcknowledged() {
    for (Map.Entry<String, Long> ack : unchecked) {
      LogEntry entry = committed.get(ack.getValue());
      if (entry == null || !ack.getKey().equals(entry.requestId())) {
        throw sim.violation("write " + ack.getKey() + " was acknowledged at index " + ack.getValue() + ", where "
            + (entry == null ? "nothing is committed" : entry + " is committed"));
      }
      acknowledged.putIfAbsent(ack.getKey(), ack.getValue());
    }
    unchecked.clear();
  }

  /** Entries a node writes into its pages, which never change: they must be the committed ones. */
  void checkCommitted(SimNode node, List<LogEntry> entries) {
    for (LogEntry entry : entries) {
      if (!entry.equals(committed.get(entry.index()))) {
        throw sim.violation("node " + node.id + " pages " + entry + ", which is not the committed entry " + committed.get(entry.index()));
      }
    }
  }

  /**
   * Persist, then send: a message of term T leaves only once T is durable (a claim excepted: see
   * {@code Output}); and an APPEND's previous entry, where the store's pages hold it, has the term
   * it names.
   */
  void checkSend(SimNode node, Envelope envelope) {
    Message message = envelope.message();
    if (!(message instanceof Message.Claim) && message.term() > node.durable.term()) {
      throw sim.violation("node " + node.id + " sends " + message.type() + " of term " + message.term() + " to node "
          + envelope.to() + " while its store holds term " + node.durable.term());
    }
    if (message instanceof Message.Append append && append.prevIndex() > 0 && append.prevIndex() <= node.storedPaged
        && node.log.get((int) append.prevIndex() - 1).term() != append.prevTerm()) {
      throw sim.violation("node " + node.id + " sends prevTerm " + append.prevTerm() + " for entry " + append.prevIndex()
          + ", which its store holds with term " + node.log.get((int) append.prevIndex() - 1).term());
    }
  }

  /** One promise per term: a store that holds a promise in a term never comes to hold another in it. */
  void checkPromise(SimNode node, DurableState saved) {
    if (saved.term() == node.durable.term() && node.durable.promisedTo() != 0 && saved.promisedTo() != node.durable.promisedTo()) {
      throw sim.violation("node " + node.id + " saves a promise to node " + saved.promisedTo() + " in term " + saved.term()
          + ", where its store holds a promise to node " + node.durable.promisedTo());
    }
  }

  /** A node that just won must hold every entry committed so far, or a committed entry could be lost. */
  private void checkLeaderCompleteness(SimNode node, long term) {
    List<LogEntry> log = node.intendedLog;
    for (LogEntry entry : committed.values()) {
      if (entry.index() > log.size() || !log.get((int) entry.index() - 1).equals(entry)) {
        throw sim.violation("node " + node.id + " won term " + term + " without committed " + entry);
      }
    }
  }
}
