package dev.bully.driver;

import dev.bully.core.Election;
import dev.bully.core.LogEntry;
import dev.bully.core.Output;
import dev.bully.core.Write;
import dev.bully.core.WriteLimits;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Client writes on the coordinator: batching them into proposals, and answering each once its
 * write concern is met.
 *
 * <p>Group commit: one proposal is being made durable at a time; writes that arrive meanwhile wait
 * and become the next proposal, one log write and one store commit for all of them. A write is
 * answered when its entry is durable here ({@link WriteConcern#ONE}), committed
 * ({@link WriteConcern#MAJORITY}, the default) or durable on every node ({@link WriteConcern#ALL}).
 * If the entry is replaced, or this node stops leading before the entry commits, the client is
 * told {@link WriteOutcome.Unavailable} and may retry with the same idempotency key.
 */
final class ClientWrites {
  private record Waiter(long index, long term, WriteConcern concern, Consumer<WriteOutcome> answer) {
  }

  private record Queued(Write write, WriteConcern concern, Consumer<WriteOutcome> answer) {
  }

  /**
   * The text of the writes waiting here (queued, or appended and not yet answered) at most; one more
   * is answered unavailable until some are answered. The HTTP door admits no more than this in the
   * first place; the check here keeps the replica's memory bounded whoever submits.
   */
  static final long MAX_PENDING_CHARS = WriteLimits.IN_FLIGHT_BYTES;

  private final int nodeId;
  private final Election election;
  private final LongSupplier clock;
  /** Carries out an output and runs the callback once it is durable and sent. */
  private final BiConsumer<Output, Runnable> handle;
  private final List<Waiter> waiting = new ArrayList<>();
  private List<Queued> queued = new ArrayList<>();
  private long pendingChars;
  private boolean proposing;

  ClientWrites(int nodeId, Election election, LongSupplier clock, BiConsumer<Output, Runnable> handle) {
    this.nodeId = nodeId;
    this.election = election;
    this.clock = clock;
    this.handle = handle;
  }

  void submit(Write write, WriteConcern concern, Consumer<WriteOutcome> reply) {
    long chars = write.data() == null ? 0 : write.data().length();
    if (pendingChars > 0 && pendingChars + chars > MAX_PENDING_CHARS) {
      // Admission control: the writes waiting here, and so the entries in flight, stay within a bounded heap.
      reply.accept(new WriteOutcome.Unavailable("overloaded", "the coordinator has " + pendingChars
          + " bytes of writes waiting, its limit is " + MAX_PENDING_CHARS + "; retry"));
      return;
    }
    pendingChars += chars;
    Consumer<WriteOutcome> answer = outcome -> {
      pendingChars -= chars;
      reply.accept(outcome);
    };
    Long existing = election.logView().indexOf(write.requestId());
    if (existing != null) {
      if (!sameRequest(existing, write)) {
        answer.accept(new WriteOutcome.KeyReused(write.requestId(), existing));
        return;
      }
      // A retry of a write this log already holds: answer with the original, never append twice.
      waiting.add(new Waiter(existing, election.logView().termAt(existing), concern, answer));
      settle();
      return;
    }
    queued.add(new Queued(write, concern, answer));
    proposeQueued();
  }

  /**
   * Whether {@code write} asks what the entry at {@code index} (written with the same idempotency
   * key) holds. An entry no longer in memory is taken to: only the newest entries are compared.
   */
  private boolean sameRequest(long index, Write write) {
    if (index < election.logView().firstInMemory()) {
      return true;
    }
    List<LogEntry> entry = election.logView().entries(index, 1);
    return entry.isEmpty() || Objects.equals(entry.get(0).data(), write.data());
  }

  /** Proposes the writes that wait, unless a proposal is being made durable or paging is behind (the log's memory is full). */
  void proposeQueued() {
    if (proposing || queued.isEmpty() || (election.logView().memoryFull() && election.acceptsWrites())) {
      return; // proposed once the proposal is durable, or once a page was written
    }
    List<Queued> batch = queued;
    queued = new ArrayList<>();
    if (!election.acceptsWrites()) {
      batch.forEach(q -> q.answer().accept(WriteOutcome.Unavailable.because("this node stopped leading before the write was appended")));
      return;
    }
    Map<String, Write> keysInBatch = new HashMap<>();
    List<Write> writes = new ArrayList<>();
    List<Queued> appended = new ArrayList<>();
    List<Queued> duplicates = new ArrayList<>();
    for (Queued q : batch) {
      String key = q.write().requestId();
      Long inLog = key == null ? null : election.logView().indexOf(key);
      Write first = key == null ? null : keysInBatch.get(key);
      if ((first != null && !Objects.equals(first.data(), q.write().data())) || (inLog != null && !sameRequest(inLog, q.write()))) {
        q.answer().accept(new WriteOutcome.KeyReused(key, inLog == null ? 0 : inLog));
      } else if (first != null || inLog != null) {
        duplicates.add(q); // answered below, from the first one's entry
      } else {
        if (key != null) {
          keysInBatch.put(key, q.write());
        }
        writes.add(q.write());
        appended.add(q);
      }
    }
    Output output = election.propose(writes, clock.getAsLong());
    if (output.logWrite() == null) {
      appended.forEach(q -> q.answer().accept(WriteOutcome.Unavailable.because("this node is not taking writes")));
      duplicates.forEach(q -> q.answer().accept(WriteOutcome.Unavailable.because("this node is not taking writes")));
      return;
    }
    List<LogEntry> entries = output.logWrite().appended();
    for (int i = 0; i < appended.size(); i++) {
      Queued q = appended.get(i);
      waiting.add(new Waiter(entries.get(i).index(), entries.get(i).term(), q.concern(), q.answer()));
    }
    for (Queued q : duplicates) {
      long index = election.logView().indexOf(q.write().requestId());
      waiting.add(new Waiter(index, election.logView().termAt(index), q.concern(), q.answer()));
    }
    proposing = true;
    handle.accept(output, () -> {
      proposing = false;
      settle();
      proposeQueued();
    });
  }

  /** Answers every waiting write whose concern is now met, or that can no longer be met here. */
  void settle() {
    long commitIndex = election.logView().commitIndex(); // on every output: not a whole status
    for (Iterator<Waiter> it = waiting.iterator(); it.hasNext(); ) {
      Waiter waiter = it.next();
      if (election.logView().termAt(waiter.index()) != waiter.term()) {
        it.remove();
        waiter.answer().accept(WriteOutcome.Unavailable.because("the write was replaced by a newer coordinator's log"));
      } else if (met(waiter, commitIndex)) {
        it.remove();
        waiter.answer().accept(new WriteOutcome.Committed(waiter.index(), waiter.term(), nodeId));
      } else if (!election.isCoordinator()) {
        // (A coordinator that is handing over answers what commits before its successor takes over.)
        it.remove();
        waiter.answer().accept(WriteOutcome.Unavailable.because("this node stopped leading before the write was committed"));
      }
    }
    if (!election.acceptsWrites() && !queued.isEmpty()) {
      List<Queued> stranded = queued;
      queued = new ArrayList<>();
      stranded.forEach(q -> q.answer().accept(WriteOutcome.Unavailable.because("this node stopped leading")));
    }
  }

  private boolean met(Waiter waiter, long commitIndex) {
    return switch (waiter.concern()) {
      case ONE -> election.logView().durableIndex() >= waiter.index();
      case MAJORITY -> commitIndex >= waiter.index();
      case ALL -> commitIndex >= waiter.index() && election.onAllNodes(waiter.index());
    };
  }
}
