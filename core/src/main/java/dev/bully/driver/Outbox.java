package dev.bully.driver;

import dev.bully.core.Envelope;
import dev.bully.core.LogEntry;
import dev.bully.core.Message;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * Messages on their way out, in the order the replica made them for each peer.
 *
 * <p>An APPEND of entries that have left the coordinator's memory ({@link Envelope#entriesFromStore()})
 * is filled from the store before it leaves, with at most {@code batchChars} of entry text.
 * Meanwhile the APPENDs and TAKEOVERs made after it for the same follower wait behind it, so the
 * follower receives batches in log order (a TAKEOVER names the last entry the APPENDs before it
 * carry). Other messages, such as heartbeats and votes, do not depend on that order and leave at
 * once.
 *
 * <p>A failed read is a lost APPEND to the protocol: the coordinator sends the follower's entries
 * again once it has seen no progress for a failure timeout.
 */
final class Outbox {
  private final Storage storage;
  private final Transport transport;
  private final Host host;
  private final long batchChars;
  /** Per follower with a read in flight: the ordered messages waiting behind it. */
  private final Map<Integer, ArrayDeque<Envelope>> held = new HashMap<>();
  /** Per follower, the first entry of the store read in flight. */
  private final Map<Integer, Long> reading = new HashMap<>();

  Outbox(Storage storage, Transport transport, Host host, long batchChars) {
    this.storage = storage;
    this.transport = transport;
    this.host = host;
    this.batchChars = batchChars;
  }

  void send(Envelope envelope) {
    ArrayDeque<Envelope> waiting = held.get(envelope.to());
    if (waiting != null && keepsOrder(envelope.message())) {
      waiting.add(envelope);
    } else if (envelope.entriesFromStore() > 0 && !transport.reaches(envelope.to())) {
      // The follower is gone: the APPEND would be dropped anyway, so the store is spared the read.
    } else if (envelope.entriesFromStore() > 0) {
      held.put(envelope.to(), new ArrayDeque<>());
      fill(envelope);
    } else if (envelope.chunkFromStore()) {
      fillChunk(envelope);
    } else {
      transport.send(envelope);
    }
  }

  private static boolean keepsOrder(Message message) {
    return message instanceof Message.Append || message instanceof Message.TakeOver;
  }

  /**
   * The first entry that a store read in flight or waiting here will read, or {@code Long.MAX_VALUE}:
   * the log must not be compacted past it, or the read would find nothing.
   */
  long firstEntryToRead() {
    long first = Long.MAX_VALUE;
    for (long index : reading.values()) {
      first = Math.min(first, index);
    }
    for (ArrayDeque<Envelope> waiting : held.values()) {
      for (Envelope envelope : waiting) {
        if (envelope.entriesFromStore() > 0) {
          first = Math.min(first, ((Message.Append) envelope.message()).prevIndex() + 1);
        }
      }
    }
    return first;
  }

  private void fill(Envelope envelope) {
    Message.Append skeleton = (Message.Append) envelope.message();
    long first = skeleton.prevIndex() + 1;
    int count = envelope.entriesFromStore();
    reading.put(envelope.to(), first);
    storage.readEntries(first, count, batchChars, (entries, failure) -> {
      reading.remove(envelope.to());
      // Fewer entries than asked for when they are large: the follower's answer tells the coordinator how far it got.
      if (failure == null && !entries.isEmpty() && entries.get(0).index() == first) {
        transport.send(new Envelope(envelope.to(), new Message.Append(skeleton.from(), skeleton.term(),
            skeleton.prevIndex(), skeleton.prevTerm(), entries, skeleton.commitIndex())));
      } else {
        host.warn("could not read entries " + first + ".." + (first + count - 1) + " for node " + envelope.to()
            + " from its store (" + (failure == null ? "found " + entries.size() : failure.toString())
            + "); they are sent again later");
      }
      drain(envelope.to());
    });
  }

  /**
   * A snapshot chunk, read from the store and sent. A failed read is a lost chunk: the follower
   * asks for nothing more, and the coordinator offers the snapshot anew once it has heard nothing
   * for a while.
   */
  private void fillChunk(Envelope envelope) {
    Message.SnapshotChunk skeleton = (Message.SnapshotChunk) envelope.message();
    storage.readSnapshot(envelope.to(), skeleton.index(), skeleton.seq(), batchChars, (read, failure) -> {
      if (failure != null) {
        host.warn("could not read chunk " + skeleton.seq() + " of the snapshot up to entry " + skeleton.index() + " for node "
            + envelope.to() + " (" + failure + "); it is offered again later");
        return;
      }
      transport.send(new Envelope(envelope.to(), new Message.SnapshotChunk(skeleton.from(), skeleton.term(), skeleton.index(),
          skeleton.seq(), read.items(), read.last(), read.consistentAt())));
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
      transport.send(next);
    }
    held.remove(follower);
  }
}
