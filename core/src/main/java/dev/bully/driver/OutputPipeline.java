package dev.bully.driver;

import dev.bully.core.DurableState;
import dev.bully.core.Envelope;
import dev.bully.core.LogEntry;
import dev.bully.core.LogWrite;
import dev.bully.core.Output;
import dev.bully.core.SnapshotStep;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.LongConsumer;

/**
 * Carries out the replica's outputs in the order it made them, as {@link Output} says: make the
 * log write and the term and promise durable, then send, then record the events. One store write
 * runs at a time; outputs that arrive meanwhile wait in a queue, and their messages with them,
 * since they may depend on it.
 *
 * <p>Refinements, each safe for the reason given:
 * <ul>
 *   <li>An output with nothing to store and no term or promise queued before it sends and records
 *       at once, passing log writes in flight: a heartbeat's ACK must not wait behind a follower's
 *       slow store, or its coordinator would think it gone.
 *   <li>An output that {@link Output#sendsFirst() sends first} sends at once unless a term or
 *       promise is queued or being written; its events still wait for its write (unless it stores
 *       no state: then they are true already).
 *   <li>Outputs that only append, queued behind a running write, are merged into the next write:
 *       a follower that receives batches faster than its store commits them pays one insert and one
 *       commit for all of them.
 *   <li>A step of installing a snapshot is written on its own, before the output's log write and
 *       state: its last step's log write says the log begins after the snapshot's documents.
 *   <li>An output that saves a term or promise is written on its own (its log write first, then
 *       the state), so no entry of a later output reaches the store before the state it followed.
 *       One with no log write of its own does not wait for a log write already running: it is
 *       written alongside (earlier entries are of older terms, so nothing is stored ahead of a
 *       state it depends on), and later outputs wait for both. A claim's acknowledgement then costs
 *       one store write even on a follower that is busy appending.
 * </ul>
 *
 * <p>A store write that fails has failed for good ({@link Storage}): the queue stops, so nothing
 * that depends on it is ever sent, and the host stops the node.
 */
final class OutputPipeline {
  /** An output waiting for the store; {@code sentEarly} once its messages left before its write was durable. */
  private static final class Queued {
    final Output output;
    final Runnable done;
    boolean sentEarly;

    Queued(Output output, boolean sentEarly, Runnable done) {
      this.output = output;
      this.sentEarly = sentEarly;
      this.done = done;
    }
  }

  private final Storage storage;
  private final Outbox outbox;
  private final Host host;
  /** An output was recorded without waiting for the store: client writes may be answered. */
  private final Runnable recorded;
  /** A store write is durable and its outputs are done; the log's last index, or -1 if the log was untouched. */
  private final LongConsumer durable;
  private final ArrayDeque<Queued> queue = new ArrayDeque<>();
  /**
   * The first index each queued or running log write removes. A write that finishes before such a
   * cut made durable the entries the cut replaces, not the ones memory holds now at those indexes:
   * until the cut is durable too, what is reported durable stops before it.
   */
  private final ArrayDeque<Long> cutsPending = new ArrayDeque<>();
  private boolean writing;
  /** The running write saves a term or promise: nothing may overtake it. */
  private boolean writingState;
  /** A term or promise being written alongside the running log write. */
  private boolean stateAlongside;
  private int statesPending;

  OutputPipeline(Storage storage, Outbox outbox, Host host, Runnable recorded, LongConsumer durable) {
    this.storage = storage;
    this.outbox = outbox;
    this.host = host;
    this.recorded = recorded;
    this.durable = durable;
  }

  /** Carries out {@code output}; {@code done} runs once it is durable and sent. */
  void handle(Output output, Runnable done) {
    if (output.isEmpty()) {
      done.run();
      return;
    }
    host.accepted(output);
    if (!output.needsPersisting() && statesPending == 0) {
      send(output);
      host.record(output);
      recorded.run();
      done.run();
      return;
    }
    boolean sentEarly = output.sendsFirst() && statesPending == 0;
    if (sentEarly) {
      sendEarly(output);
    }
    add(new Queued(output, sentEarly, done));
  }

  private void add(Queued queued) {
    Output output = queued.output;
    if (output.logWrite() != null && !output.logWrite().removed().isEmpty()) {
      cutsPending.add(output.logWrite().removed().get(0).index());
    }
    statesPending += output.persist() != null ? 1 : 0;
    if (writing && !writingState && !stateAlongside && queue.isEmpty() && output.persist() != null
        && output.logWrite() == null && output.install() == null) {
      writeStateAlongside(queued);
      return;
    }
    queue.add(queued);
    if (!writing && !stateAlongside) {
      writeNext();
    }
  }

  private void writeStateAlongside(Queued queued) {
    stateAlongside = true;
    storage.saveState(queued.output.persist(), (ignored, failure) -> {
      if (failure != null) {
        host.failStop("its store refused to save the term and promise, and would refuse again", failure);
        return;
      }
      statesPending--;
      stateAlongside = false;
      written(List.of(queued), -1);
      releaseSendsFirst();
      if (!writing) {
        writeNext();
      }
    });
  }

  private void writeNext() {
    if (queue.isEmpty()) {
      writing = false;
      return;
    }
    writing = true;
    List<Queued> group = takeGroup();
    LogWrite logWrite = merge(group);
    DurableState state = group.get(0).output.persist();
    writingState = state != null;
    Runnable afterState = () -> {
      statesPending -= state != null ? 1 : 0;
      written(group, logWrite == null ? -1 : logWrite.lastIndex());
      if (state != null) {
        releaseSendsFirst();
      }
      if (stateAlongside) {
        writing = false; // what follows waits for the state too; its write resumes the queue
      } else {
        writeNext();
      }
    };
    Runnable saveState = state == null ? afterState : () -> storage.saveState(state, (ignored, failure) -> {
      if (failure != null) {
        host.failStop("its store refused to save the term and promise, and would refuse again", failure);
      } else {
        afterState.run();
      }
    });
    Runnable writeLog = logWrite == null ? saveState : () -> storage.writeLog(logWrite, (ignored, failure) -> {
      if (failure != null) {
        host.failStop("its store refused to write the log up to entry " + logWrite.lastIndex()
            + ", and would refuse again", failure);
      } else {
        saveState.run();
      }
    });
    SnapshotStep install = group.get(0).output.install();
    if (install == null) {
      writeLog.run();
    } else {
      // A snapshot's documents first: the log write of its last step says the log begins after it.
      storage.installSnapshot(install, (ignored, failure) -> {
        if (failure != null) {
          host.failStop("its store refused to install a snapshot up to entry " + install.index(), failure);
        } else {
          writeLog.run();
        }
      });
    }
  }

  /** A store write is durable: the outputs it covered send (unless they did), record, and are done. */
  private void written(List<Queued> outputs, long lastIndex) {
    for (Queued queued : outputs) {
      LogWrite write = queued.output.logWrite();
      if (write != null && !write.removed().isEmpty()) {
        cutsPending.removeFirstOccurrence(write.removed().get(0).index());
      }
    }
    long durableTo = lastIndex;
    for (long cut : cutsPending) {
      durableTo = lastIndex < 0 ? lastIndex : Math.min(durableTo, cut - 1);
    }
    for (Queued queued : outputs) {
      if (!queued.sentEarly) {
        send(queued.output);
      }
      if (!recordsEarly(queued.output, queued.sentEarly)) {
        host.record(queued.output);
      }
    }
    durable.accept(durableTo);
    outputs.forEach(queued -> queued.done.run());
  }

  /** With no term or promise pending any more, queued outputs that may send first do so now. */
  private void releaseSendsFirst() {
    if (statesPending > 0) {
      return;
    }
    for (Queued queued : queue) {
      if (queued.output.sendsFirst() && !queued.sentEarly) {
        queued.sentEarly = true;
        sendEarly(queued.output);
      }
    }
  }

  private void sendEarly(Output output) {
    send(output);
    if (recordsEarly(output, true)) {
      host.record(output);
    }
  }

  /**
   * A coordinator shipping entries of its own term before they are durable (a new term's no-op,
   * client writes) has no term or promise in the output: what its events say, such as that it now
   * leads, is already true and durable, so they are told at once rather than after the log write.
   */
  private static boolean recordsEarly(Output output, boolean sentEarly) {
    return sentEarly && output.persist() == null;
  }

  private void send(Output output) {
    for (Envelope envelope : output.messages()) {
      outbox.send(envelope);
    }
  }

  /** The head; unless it saves state, also every output after it that only appends, or stores nothing. */
  private List<Queued> takeGroup() {
    List<Queued> group = new ArrayList<>();
    group.add(queue.poll());
    if (group.get(0).output.persist() != null || group.get(0).output.install() != null) {
      return group;
    }
    while (!queue.isEmpty()) {
      Output next = queue.peek().output;
      boolean onlyAppends = next.persist() == null && next.install() == null
          && (next.logWrite() == null || next.logWrite().removed().isEmpty() && !next.logWrite().resets());
      if (!onlyAppends) {
        break;
      }
      group.add(queue.poll());
    }
    return group;
  }

  private static LogWrite merge(List<Queued> group) {
    List<LogWrite> writes = group.stream().map(q -> q.output.logWrite()).filter(Objects::nonNull).toList();
    if (writes.size() <= 1) {
      return writes.isEmpty() ? null : writes.get(0);
    }
    List<LogEntry> appended = new ArrayList<>();
    writes.forEach(w -> appended.addAll(w.appended()));
    LogWrite first = writes.get(0);
    LogWrite last = writes.get(writes.size() - 1);
    return new LogWrite(first.removed(), first.replacedInTerm(), appended, last.lastIndex(), last.commitIndex());
  }
}
