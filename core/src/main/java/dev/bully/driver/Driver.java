package dev.bully.driver;

import dev.bully.core.Election;
import dev.bully.core.LogLimits;
import dev.bully.core.Message;
import dev.bully.core.Output;
import dev.bully.core.Write;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Runs one replica ({@link Election}, the pure protocol core) against a {@link Storage} and a
 * {@link Transport}: every input goes to the replica with the time read from the clock, and every
 * output it makes is carried out by the {@link OutputPipeline} (persist, then send, then record),
 * its APPENDs filled from the store by the {@link Outbox}, committed entries paged by the
 * {@link Pager} and compacted by the {@link Compactor}, client writes batched and answered by {@link ClientWrites}, and linearizable
 * reads confirmed by {@link ClientReads}.
 *
 * <p>The node's election verticle and the simulator both run this class; only the IO under it
 * differs. All calls, and all callbacks of the storage, must come on one thread.
 */
public final class Driver {
  private final int nodeId;
  private final Election replica;
  private final LongSupplier clock;
  private final OutputPipeline pipeline;
  private final Pager pager;
  private final Compactor compactor;
  private final ClientWrites writes;
  private final ClientReads reads;

  /**
   * @param clock       monotonic milliseconds: the replica only ever compares durations
   * @param limits      the log's limits: an APPEND filled from the store carries at most
   *                    {@link LogLimits#batchChars()} of entry text
   * @param pageEntries how many entries one page of the store holds at most
   */
  public Driver(Election replica, Storage storage, Transport transport, Host host, LongSupplier clock,
                LogLimits limits, int pageEntries) {
    this.nodeId = replica.status().nodeId();
    this.replica = replica;
    this.clock = clock;
    Outbox outbox = new Outbox(storage, transport, host, limits.batchChars());
    this.writes = new ClientWrites(nodeId, replica, clock, this::handle);
    this.reads = new ClientReads(nodeId, replica, clock, this::handle);
    this.pager = new Pager(replica::logView, storage, pageEntries, host, writes::proposeQueued);
    this.compactor = new Compactor(replica, storage, host, outbox::firstEntryToRead);
    this.pipeline = new OutputPipeline(storage, outbox, host, writes::settle, this::durable);
  }

  /** The replica this driver runs, to read its state (every change goes through the driver). */
  public Election replica() {
    return replica;
  }

  public long nowMs() {
    return clock.getAsLong();
  }

  public void tick() {
    handle(replica.tick(nowMs()));
    pager.pageIfDue();
    compactor.compactIfDue();
  }

  /** The runtime stopped this process for {@code pauseMs} (a collection): failure detection learns it. */
  public void paused(long pauseMs) {
    replica.paused(pauseMs, nowMs());
  }

  public void step(Message message) {
    handle(replica.step(message, nowMs()));
  }

  public void membershipChanged(Set<Integer> members) {
    handle(replica.membershipChanged(members, nowMs()));
  }

  public void startElectionNow() {
    handle(replica.startElectionNow(nowMs()));
  }

  /** Hands leadership over if this node leads ({@code leaving}: because it stops). */
  public void stepDown(boolean leaving) {
    handle(replica.stepDown(nowMs(), leaving));
  }

  /**
   * A client's write: taken if this node leads, else redirected to the node that does, or
   * unavailable; {@code answer} is told once, when the write's concern is met or cannot be.
   */
  public void write(Write write, WriteConcern concern, Consumer<WriteOutcome> answer) {
    if (!replica.acceptsWrites()) {
      int coordinator = replica.status().coordinatorId();
      answer.accept(coordinator != 0 && coordinator != nodeId ? new WriteOutcome.Redirect(coordinator)
          : WriteOutcome.Unavailable.because(coordinator == nodeId ? "this node is handing over" : "there is no coordinator"));
      return;
    }
    writes.submit(write, concern, answer);
  }

  /**
   * A linearizable read: {@code answer} is told once, with the index the state must be applied up
   * to when this node confirmed it leads, or where to go instead.
   */
  public void read(Consumer<ReadOutcome> answer) {
    reads.submit(answer);
  }

  /** The node is stopping: no more pages (its store is about to close). */
  public void stop() {
    pager.stop();
    compactor.stop();
  }

  private void handle(Output output) {
    handle(output, () -> { });
  }

  private void handle(Output output, Runnable done) {
    pipeline.handle(output, done);
    reads.settle(output);
  }

  /** A store write is durable and its outputs sent: writes may be answered, the replica learns how far its log is. */
  private void durable(long lastIndex) {
    writes.settle();
    if (lastIndex >= 0) {
      handle(replica.localPersisted(lastIndex, nowMs()));
    }
    pager.pageIfDue();
  }
}
