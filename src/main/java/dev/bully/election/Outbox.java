package dev.bully.election;

import dev.bully.core.Envelope;
import dev.bully.core.LogEntry;
import dev.bully.core.Message;
import dev.bully.core.WriteLimits;
import dev.bully.store.NodeStore;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.IntPredicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The election verticle's messages on their way out, in the order the core made them for each peer.
 *
 * <p>An APPEND of entries that have left the coordinator's memory ({@link Envelope#entriesFromStore()})
 * is filled from the store before it leaves, with at most {@link WriteLimits#BATCH_CHARS} of text. Meanwhile the APPENDs and TAKEOVERs made after it for
 * the same follower wait behind it, so the follower receives batches in log order (a TAKEOVER
 * names the last entry the APPENDs before it carry). Other messages, such as heartbeats and votes,
 * do not depend on that order and leave at once.
 *
 * <p>A failed read is a lost APPEND to the protocol: the coordinator sends the follower's entries
 * again once it has seen no progress for a failure timeout.
 */
final class Outbox {
  private static final Logger log = LoggerFactory.getLogger(Outbox.class);

  private final int nodeId;
  private final NodeStore store;
  private final IntPredicate reachable;
  private final Consumer<Envelope> transmit;
  private final long batchChars = WriteLimits.BATCH_CHARS;
  /** Per follower with a read in flight: the ordered messages waiting behind it. */
  private final Map<Integer, ArrayDeque<Envelope>> held = new HashMap<>();

  Outbox(int nodeId, NodeStore store, IntPredicate reachable, Consumer<Envelope> transmit) {
    this.nodeId = nodeId;
    this.store = store;
    this.reachable = reachable;
    this.transmit = transmit;
  }

  void send(Envelope envelope) {
    ArrayDeque<Envelope> waiting = held.get(envelope.to());
    if (waiting != null && keepsOrder(envelope.message())) {
      waiting.add(envelope);
    } else if (envelope.entriesFromStore() > 0 && !reachable.test(envelope.to())) {
      // The follower is gone from the cluster: the APPEND would be dropped anyway, so the store is spared the read.
    } else if (envelope.entriesFromStore() > 0) {
      held.put(envelope.to(), new ArrayDeque<>());
      fill(envelope);
    } else {
      transmit.accept(envelope);
    }
  }

  private static boolean keepsOrder(Message message) {
    return message instanceof Message.Append || message instanceof Message.TakeOver;
  }

  private void fill(Envelope envelope) {
    Message.Append skeleton = (Message.Append) envelope.message();
    long first = skeleton.prevIndex() + 1;
    int count = envelope.entriesFromStore();
    store.entries(first, count, batchChars).onComplete(read -> {
      List<LogEntry> entries = read.succeeded() ? read.result() : List.of();
      // Fewer entries than asked for when they are large: the follower's answer tells the coordinator how far it got.
      if (!entries.isEmpty() && entries.get(0).index() == first) {
        transmit.accept(new Envelope(envelope.to(), new Message.Append(skeleton.from(), skeleton.term(),
            skeleton.prevIndex(), skeleton.prevTerm(), entries, skeleton.commitIndex())));
      } else {
        log.warn("Node {} could not read entries {}..{} for node {} from its store ({}); they are sent again later",
            nodeId, first, first + count - 1, envelope.to(),
            read.succeeded() ? "found " + entries.size() : read.cause().toString());
      }
      drain(envelope.to());
    });
  }

  private void drain(int follower) {
    ArrayDeque<Envelope> waiting = held.get(follower);
    while (!waiting.isEmpty()) {
      Envelope next = waiting.poll();
      if (next.entriesFromStore() > 0) {
        fill(next);
        return;
      }
      transmit.accept(next);
    }
    held.remove(follower);
  }
}
