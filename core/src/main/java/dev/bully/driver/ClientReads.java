package dev.bully.driver;

import dev.bully.core.Election;
import dev.bully.core.Output;
import java.util.ArrayDeque;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Linearizable reads on the coordinator: each waits for the heartbeat round the replica names when
 * it arrives, and is answered with the read index once an output says a majority confirmed that
 * round ({@link Output#reads()}), or told to go elsewhere once this node no longer leads the term
 * it arrived in. No log write and no store access: a read costs a share of one heartbeat round.
 */
final class ClientReads {
  /**
   * Reads waiting here at most; one more is answered unavailable. Rounds are confirmed every round
   * trip, so only a coordinator that lost its majority (and steps down within two failure timeouts)
   * collects many.
   */
  static final int MAX_WAITING = 100_000;

  private record Waiter(long round, long term, Consumer<ReadOutcome> answer) {
  }

  private final int nodeId;
  private final Election replica;
  private final LongSupplier clock;
  private final Consumer<Output> handle;
  /** In arrival order, so their rounds never go down. */
  private final ArrayDeque<Waiter> waiting = new ArrayDeque<>();

  ClientReads(int nodeId, Election replica, LongSupplier clock, Consumer<Output> handle) {
    this.nodeId = nodeId;
    this.replica = replica;
    this.clock = clock;
    this.handle = handle;
  }

  void submit(Consumer<ReadOutcome> answer) {
    if (!replica.isCoordinator()) {
      answer.accept(elsewhere("this node does not lead"));
      return;
    }
    if (waiting.size() >= MAX_WAITING) {
      answer.accept(new ReadOutcome.Unavailable("overloaded", "the coordinator has " + waiting.size()
          + " reads waiting for a majority to confirm that it leads; retry"));
      return;
    }
    Election.Read read = replica.read(clock.getAsLong());
    waiting.add(new Waiter(read.round(), replica.durableState().term(), answer));
    handle.accept(read.output());
  }

  /** After every output: answers the reads whose round it confirms, or every read if this node stopped leading their term. */
  void settle(Output output) {
    if (waiting.isEmpty()) {
      return;
    }
    if (!replica.isCoordinator() || replica.durableState().term() != waiting.peek().term()) {
      while (!waiting.isEmpty()) {
        waiting.poll().answer().accept(elsewhere("this node stopped leading before it could confirm the read"));
      }
      return;
    }
    Output.Reads reads = output.reads();
    if (reads == null) {
      return;
    }
    while (!waiting.isEmpty() && waiting.peek().round() <= reads.round()) {
      Waiter waiter = waiting.poll();
      waiter.answer().accept(new ReadOutcome.Ready(reads.index(), waiter.term()));
    }
  }

  private ReadOutcome elsewhere(String why) {
    int coordinator = replica.status().coordinatorId();
    return coordinator != 0 && coordinator != nodeId ? new ReadOutcome.Redirect(coordinator)
        : ReadOutcome.Unavailable.because(why);
  }
}
