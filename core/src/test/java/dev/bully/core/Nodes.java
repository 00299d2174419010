package dev.bully.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.bully.core.Message.Ack;
import dev.bully.core.Message.Heartbeat;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/** Single nodes of a five-node cluster, fed messages and ticks by hand, for the rule tests. */
final class Nodes {
  static final List<Integer> FIVE = IntStream.rangeClosed(1, 5).boxed().toList();
  static final LogPosition LOG = new LogPosition(1, 10);

  private Nodes() {
  }

  static Election node(int id, long term, int promisedTo, LogPosition log) {
    return new Election(new ElectionSettings(id, FIVE, 50, 200, 1000), new DurableState(term, promisedTo), logAt(log),
        new SplittableRandom(id), 0);
  }

  /** A log whose last entry is at {@code position}, every entry of that term. */
  static ReplicatedLog logAt(LogPosition position) {
    List<LogEntry> entries = new ArrayList<>();
    for (long index = 1; index <= position.index(); index++) {
      entries.add(new LogEntry(index, position.term(), null, "{}", 0));
    }
    return ReplicatedLog.restore(0, TermRun.of(entries), List.of(), entries, 0, 0, LogLimits.DEFAULT);
  }

  static <T extends Message> List<T> sent(Output output, Class<T> type) {
    return output.messages().stream().map(Envelope::message).filter(type::isInstance).map(type::cast).toList();
  }

  /** Node 4 suspects nobody answers above it, passes its pre-vote and wins term 1 with nodes 1 and 2, by 502 ms. */
  static Election node4LeadsTerm1WithNode5Silent() {
    Election node = node(4, 0, 0, LOG);
    node.tick(300); // node 5 ranks above it: it waits one stagger longer, then asks node 5
    node.tick(500); // node 5 did not answer within the answer timeout (the failure timeout): pre-vote
    node.step(new Ack(1, 0, LOG, 1), 501);
    node.step(new Ack(2, 0, LOG, 1), 501);
    node.step(new Ack(1, 1, LOG, 0), 502);
    node.step(new Ack(2, 1, LOG, 0), 502);
    assertEquals(Role.COORDINATOR, node.status().role());
    return node;
  }

  /** Node 5, with no coordinator, passes its pre-vote and wins term 1 with nodes 1 and 2, by 202 ms. */
  static void winsTerm1WithNodes1And2(Election node) {
    node.tick(200);
    node.step(new Ack(1, 0, LOG, 1), 201);
    node.step(new Ack(2, 0, LOG, 1), 201);
    node.step(new Ack(1, 1, LOG, 0), 202);
    node.step(new Ack(2, 1, LOG, 0), 202);
    assertEquals(Role.COORDINATOR, node.status().role());
  }

  /**
   * Ticks every 10 ms from {@code fromMs} through {@code toMs}, as the driver does: the output of
   * the first tick that does anything, else {@link Output#NONE}.
   */
  static Output ticksThrough(Election node, long fromMs, long toMs) {
    for (long now = fromMs; now <= toMs; now += 10) {
      Output output = node.tick(now);
      if (!output.equals(Output.NONE)) {
        return output;
      }
    }
    return Output.NONE;
  }

  /** Ticks every 10 ms from {@code fromMs} through {@code toMs}, whatever the ticks do. */
  static void tickAll(Election node, long fromMs, long toMs) {
    for (long now = fromMs; now <= toMs; now += 10) {
      node.tick(now);
    }
  }

  static Election following(int id, int coordinator, long term) {
    Election node = node(id, term, 0, LOG);
    node.step(new Heartbeat(coordinator, term, 0, LOG), 1);
    assertEquals(coordinator, node.status().coordinatorId());
    return node;
  }

  static List<Envelope> toNode(Output output, int id) {
    return output.messages().stream().filter(e -> e.to() == id && e.message() instanceof Message.Append).toList();
  }

}
