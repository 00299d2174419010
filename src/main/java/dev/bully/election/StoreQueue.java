package dev.bully.election;

import dev.bully.core.DurableState;
import dev.bully.core.LogEntry;
import dev.bully.core.LogWrite;
import dev.bully.core.Output;
import dev.bully.store.NodeStore;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * The election verticle's store writes, in the order the core asked for them, one at a time.
 * Outputs that only append to the log, queued behind a running write, are merged into the next
 * write: a follower that receives batches faster than its store commits them pays one insert and
 * one commit for all of them. Once a write is durable, its outputs are handed back in order.
 *
 * <p>An output that saves a term or promise is written on its own (its log write first, then the
 * state), so no entry of a later output ever reaches the store before the state it followed. A
 * term or promise with no log write of its own does not wait for a log write already running: it
 * is written alongside (earlier entries are of older terms, so nothing is stored ahead of a state
 * it depends on), and later outputs wait for both. A claim's acknowledgement then costs one store
 * write even on a follower that is busy appending.
 *
 * <p>A write that fails is tried again while the failure may pass ({@link dev.bully.store.StoreRetry});
 * the queue waits meanwhile, so nothing that depends on it is sent. A failure that cannot pass
 * stops the node ({@code onFailure}).
 */
final class StoreQueue {
  /** An output waiting for the store; {@code sentEarly} once its messages left before its write was durable. */
  static final class Queued {
    private final Output output;
    private final Promise<Void> done;
    private boolean sentEarly;

    Queued(Output output, boolean sentEarly, Promise<Void> done) {
      this.output = output;
      this.sentEarly = sentEarly;
      this.done = done;
    }

    Output output() {
      return output;
    }

    boolean sentEarly() {
      return sentEarly;
    }

    Promise<Void> done() {
      return done;
    }
  }

  /** What the verticle does once a write is durable: the outputs it covered, and the log's last index (-1 if untouched). */
  interface Durable {
    void written(List<Queued> outputs, long lastIndex);

    /**
     * A term or promise became durable and no other is pending: a queued output that may send
     * first (see {@link Output#sendsFirst()}) sends now, rather than once its own log write is done.
     */
    void sendNow(Queued queued);
  }

  private final NodeStore store;
  private final Durable onDurable;
  private final Consumer<Throwable> onFailure;
  private final ArrayDeque<Queued> queue = new ArrayDeque<>();
  private boolean writing;
  /** The running write saves a term or promise: nothing may overtake it. */
  private boolean writingState;
  /** A term or promise being written alongside the running log write. */
  private boolean stateAlongside;
  private int statesPending;

  StoreQueue(NodeStore store, Durable onDurable, Consumer<Throwable> onFailure) {
    this.store = store;
    this.onDurable = onDurable;
    this.onFailure = onFailure;
  }

  /** Whether a term or promise is queued or being written: nothing may be sent before it is durable. */
  boolean statePending() {
    return statesPending > 0;
  }

  /** Queues an output; the future completes once it is durable and handed back. */
  Future<Void> add(Output output, boolean sentEarly) {
    Promise<Void> done = Promise.promise();
    Queued queued = new Queued(output, sentEarly, done);
    statesPending += output.persist() != null ? 1 : 0;
    if (writing && !writingState && !stateAlongside && queue.isEmpty() && output.persist() != null
        && output.logWrite() == null) {
      writeStateAlongside(queued);
      return done.future();
    }
    queue.add(queued);
    if (!writing && !stateAlongside) {
      writeNext();
    }
    return done.future();
  }

  private void writeStateAlongside(Queued queued) {
    stateAlongside = true;
    store.retry().run("saving the term and promise", tries -> store.saveState(queued.output().persist()))
        .onSuccess(v -> {
          statesPending--;
          stateAlongside = false;
          onDurable.written(List.of(queued), -1);
          queued.done().complete();
          releaseSendsFirst();
          if (!writing) {
            writeNext();
          }
        })
        .onFailure(onFailure::accept);
  }

  private void writeNext() {
    if (queue.isEmpty()) {
      writing = false;
      return;
    }
    writing = true;
    List<Queued> group = takeGroup();
    LogWrite logWrite = merge(group);
    DurableState state = group.get(0).output().persist();
    writingState = state != null;
    Future<Void> logWritten = logWrite == null ? Future.succeededFuture()
        : store.retry().run("writing the log up to entry " + logWrite.lastIndex(),
            tries -> store.write(logWrite, tries > 0));
    logWritten
        .compose(v -> state == null ? Future.<Void>succeededFuture()
            : store.retry().run("saving the term and promise", tries -> store.saveState(state)))
        .onSuccess(v -> {
          statesPending -= state != null ? 1 : 0;
          onDurable.written(group, logWrite == null ? -1 : logWrite.lastIndex());
          group.forEach(q -> q.done().complete());
          if (state != null) {
            releaseSendsFirst();
          }
          if (stateAlongside) {
            writing = false; // what follows waits for the state too; its write resumes the queue
          } else {
            writeNext();
          }
        })
        .onFailure(onFailure::accept);
  }

  /** With no term or promise pending any more, queued outputs that may send first do so now. */
  private void releaseSendsFirst() {
    if (statesPending > 0) {
      return;
    }
    for (Queued queued : queue) {
      if (queued.output.sendsFirst() && !queued.sentEarly) {
        queued.sentEarly = true;
        onDurable.sendNow(queued);
      }
    }
  }

  /** The head; unless it saves state, also every output after it that only appends, or stores nothing. */
  private List<Queued> takeGroup() {
    List<Queued> group = new ArrayList<>();
    group.add(queue.poll());
    if (group.get(0).output().persist() != null) {
      return group;
    }
    while (!queue.isEmpty()) {
      Output next = queue.peek().output();
      boolean onlyAppends = next.persist() == null && (next.logWrite() == null || next.logWrite().removed().isEmpty());
      if (!onlyAppends) {
        break;
      }
      group.add(queue.poll());
    }
    return group;
  }

  private static LogWrite merge(List<Queued> group) {
    List<LogWrite> writes = group.stream().map(q -> q.output().logWrite()).filter(Objects::nonNull).toList();
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
