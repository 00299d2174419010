package dev.bully.core;

import static dev.bully.core.Nodes.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bully.core.Message.Ack;
import dev.bully.core.Message.Heartbeat;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Linearizable reads (the read index, {@link ReadRounds}): a coordinator answers a read only once a
 * majority echoed a heartbeat round that left after the read arrived, and only from an index its
 * own term committed. Five nodes: a majority is the coordinator and two followers.
 */
class ReadRulesTest {
  private static final LogPosition NO_OP = new LogPosition(1, 1);

  /** Node 5 leads term 1 with an empty log; its no-op (index 1) is committed when {@code committed}. */
  private static Election coordinator(boolean committed) {
    Election node = node(5, 0, 0, LogPosition.EMPTY);
    node.tick(200);
    node.step(new Ack(1, 0, LogPosition.EMPTY, 1), 201);
    node.step(new Ack(2, 0, LogPosition.EMPTY, 1), 201);
    node.step(new Ack(1, 1, LogPosition.EMPTY, 0), 202);
    node.step(new Ack(2, 1, LogPosition.EMPTY, 0), 202);
    assertEquals(Role.COORDINATOR, node.status().role());
    if (committed) {
      node.step(new Message.Appended(1, 1, 1, 0), 203);
      node.step(new Message.Appended(2, 1, 1, 0), 203);
      assertEquals(1, node.localPersisted(1, 204).commitIndex());
    }
    return node;
  }

  private static Ack echo(int from, long round) {
    return new Ack(from, 1, NO_OP, 0, round);
  }

  private static List<Long> rounds(Output output) {
    return sent(output, Heartbeat.class).stream().map(Heartbeat::round).distinct().toList();
  }

  @Test
  void aReadIsConfirmedOnlyOnceAMajorityEchoedARoundThatLeftAfterIt() {
    Election node = coordinator(true);
    Election.Read first = node.read(210);
    assertEquals(1, first.round());
    Output asked = first.output();
    assertEquals(List.of(1L), rounds(asked), "a heartbeat of round 1 leaves at once");
    assertEquals(4, sent(asked, Heartbeat.class).size());
    assertNull(asked.reads());
    assertNull(node.step(echo(1, 1), 211).reads(), "two of five: this node and node 1");

    Election.Read second = node.read(212);
    assertEquals(2, second.round(), "a read arriving while round 1 is on its way waits for round 2");
    assertEquals(List.of(), rounds(second.output()), "round 2 leaves once round 1 is confirmed, not before");
    Output confirmed = node.step(echo(2, 1), 213);
    assertEquals(new Output.Reads(1, 1), confirmed.reads(), "rounds up to 1 confirmed; read from index 1");
    assertEquals(List.of(2L), rounds(confirmed), "round 2 leaves for the read that waits for it");

    assertNull(node.step(echo(3, 1), 214).reads(), "a later echo of round 1 confirms nothing new");
    assertNull(node.step(echo(1, 2), 215).reads());
    assertEquals(new Output.Reads(2, 1), node.step(echo(3, 2), 216).reads());
  }

  @Test
  void aPeriodicHeartbeatCarriesANewRoundSoALostRoundDelaysReadsByOneInterval() {
    Election node = coordinator(true);
    node.read(210); // round 1 leaves, and is lost
    assertEquals(List.of(2L), rounds(ticksThrough(node, 220, 300)), "the next heartbeat is round 2");
    node.step(echo(1, 2), 301);
    assertEquals(new Output.Reads(2, 1), node.step(echo(2, 2), 302).reads(), "round 2 confirms the read of round 1");
  }

  @Test
  void noReadIsAnsweredBeforeTheCoordinatorsTermCommittedAnEntry() {
    Election node = coordinator(false);
    node.read(210);
    node.step(echo(1, 1), 211);
    assertNull(node.step(echo(2, 1), 212).reads(),
        "a majority confirmed the round, but entries of earlier terms may be committed above the commit index");
    node.step(new Message.Appended(1, 1, 1, 0), 213);
    node.step(new Message.Appended(2, 1, 1, 0), 213);
    assertEquals(new Output.Reads(1, 1), node.localPersisted(1, 214).reads(), "the no-op is committed: index 1");
  }

  @Test
  void anEchoOfARoundNeverSentIsAViolationAndConfirmsNothing() {
    Election node = coordinator(true);
    node.read(210);
    Output forged = node.step(echo(1, 99), 211);
    assertTrue(forged.events().stream().anyMatch(e -> e.kind() == ProtocolEvent.Kind.VIOLATION), forged.events().toString());
    assertNull(forged.reads());
    assertNull(node.step(echo(2, 1), 212).reads(), "node 1's forged echo was not counted");
    assertEquals(new Output.Reads(1, 1), node.step(echo(3, 1), 213).reads());
  }

  @Test
  void echoesOfAnOlderTermConfirmNothing() {
    Election node = coordinator(true);
    node.read(210);
    node.step(new Message.Reject(3, 2, "term 2 leads", 0), 211); // node 3 moved on: this node steps down
    assertEquals(Role.FOLLOWER, node.status().role());
    assertNull(node.step(echo(1, 1), 212).reads());
    assertNull(node.step(echo(2, 1), 213).reads(), "echoes of term 1 are stale in term 2");
    assertEquals(new Election.Read(0, Output.NONE), node.read(214), "a follower takes no read: its driver redirects");
  }

  @Test
  void aFollowerEchoesTheRoundOfTheHeartbeatItAnswers() {
    Election node = following(2, 5, 3);
    Output output = node.step(new Heartbeat(5, 3, 0, LOG, 7), 10);
    assertEquals(7, sent(output, Ack.class).get(0).round());
  }

  @Test
  void aClusterOfOneConfirmsItsReadsItself() {
    Election node = new Election(new ElectionSettings(1, List.of(1), 50, 200, 1000), new DurableState(0, 0),
        logAt(LogPosition.EMPTY), new java.util.SplittableRandom(1), 0);
    tickAll(node, 0, 1000);
    node.localPersisted(1, 1001);
    assertEquals(Role.COORDINATOR, node.status().role());
    assertEquals(1, node.status().commitIndex());
    Election.Read read = node.read(1002); // heartbeats have carried rounds all along
    assertEquals(new Output.Reads(read.round(), 1), read.output().reads(), "confirmed in the same input");
  }
}
