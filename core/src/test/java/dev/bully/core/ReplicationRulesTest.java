package dev.bully.core;

import static dev.bully.core.Nodes.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bully.core.Message.Ack;
import dev.bully.core.Message.Heartbeat;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * One rule of replication per test: what a follower takes and answers, what a coordinator commits
 * and sends next.
 */
class ReplicationRulesTest {
  @Test
  void aFollowerFarBehindGetsTheEntriesThatLeftMemoryFromTheStoreThenTheRestInOrder() {
    // Node 5 restarted holding entries 9 and 10 in memory; 1 to 8 are committed and only in its store's pages.
    ReplicatedLog log = ReplicatedLog.restore(0, List.of(new TermRun(1, 1)), List.of(),
        List.of(new LogEntry(9, 1, null, "{}", 0), new LogEntry(10, 1, null, "{}", 0)), 10, 8, new LogLimits(2, 10));
    Election node = new Election(new ElectionSettings(5, FIVE, 50, 200, 1000), new DurableState(0, 0), log,
        new SplittableRandom(5), 0);
    winsTerm1WithNodes1And2(node);
    Output output = node.step(new Message.Mismatch(3, 1, 3, 10), 210); // node 3 holds only entries 1 to 3
    List<Envelope> toNode3 = output.messages().stream().filter(e -> e.to() == 3).toList();
    assertEquals(1, toNode3.size(), "after a mismatch, one batch at a time until one fits");
    Message.Append fromStore = (Message.Append) toNode3.get(0).message();
    assertEquals(List.of(3L, 1L, 5), List.of(fromStore.prevIndex(), fromStore.prevTerm(), toNode3.get(0).entriesFromStore()),
        "entries 4 to 8 are read from the store's pages, after entry 3 of term 1");
    assertEquals(List.of(), fromStore.entries());
    Output next = node.step(new Message.Appended(3, 1, 8, 3), 215);
    List<Envelope> thenToNode3 = next.messages().stream().filter(e -> e.to() == 3).toList();
    assertEquals(1, thenToNode3.size());
    Message.Append inMemory = (Message.Append) thenToNode3.get(0).message();
    assertEquals(8, inMemory.prevIndex());
    assertEquals(List.of(9L, 10L, 11L), inMemory.entries().stream().map(LogEntry::index).toList());
    assertEquals(0, thenToNode3.get(0).entriesFromStore());
  }

  @Test
  void anAppendThatWouldReplaceCommittedEntriesIsRefusedAsAViolationAndTheNodeGoesOn() {
    Election node = following(3, 5, 1);
    node.step(new Heartbeat(5, 1, 10, LOG), 2); // entries 1..10 of term 1 verified and committed
    assertEquals(10, node.status().commitIndex());
    // What a forger sends: a later term, claiming index 1 again.
    Message.Append forged = new Message.Append(4, 2, 0, 0, List.of(new LogEntry(1, 2, null, "{}", 0)), 1);
    Output output = node.step(forged, 3);
    assertEquals(List.of(ProtocolEvent.Kind.VIOLATION), output.events().stream().map(ProtocolEvent::kind)
        .filter(k -> k == ProtocolEvent.Kind.VIOLATION).toList());
    assertTrue(output.events().stream().anyMatch(e -> e.text().contains("would replace committed entry 1 of term 1")));
    assertEquals(List.of(), sent(output, Message.Appended.class));
    assertEquals(List.of(), sent(output, Message.Mismatch.class));
    assertTrue(output.logWrite() == null || output.logWrite().appended().isEmpty(), "nothing written");
    assertEquals(LOG, node.status().log(), "the log is as it was");
    assertEquals(10, node.status().commitIndex());
    // And it still takes the real coordinator's next entry, in the later term.
    Output next = node.step(new Message.Append(4, 2, 10, 1, List.of(new LogEntry(11, 2, null, "{}", 0)), 10), 4);
    assertEquals(11, sent(next, Message.Appended.class).get(0).matchIndex());
  }

  @Test
  void anAnswerClaimingMoreThanTheCoordinatorHoldsIsAViolationAndCountsForNothing() {
    Election node = node(5, 0, 0, LOG);
    winsTerm1WithNodes1And2(node);
    long last = node.status().log().index();
    Output output = node.step(new Message.Appended(3, 1, 1_000_000, last), 210);
    assertTrue(output.events().stream().anyMatch(e -> e.kind() == ProtocolEvent.Kind.VIOLATION
        && e.text().contains("it claims entries up to 1000000, beyond this coordinator's last entry " + last)), output.events().toString());
    assertEquals(0, node.status().followerMatch().get(3), "node 3 is not taken to hold anything");
  }

  @Test
  void lateOrReplayedAnswersDoNotHoldBackTheResendOfALostBatch() {
    Election node = node(5, 0, 0, LOG);
    winsTerm1WithNodes1And2(node);
    Output probe = node.step(new Message.Mismatch(3, 1, 5, 10), 210); // node 3 holds entries 1 to 5
    assertEquals(1, toNode(probe, 3).size(), "one batch goes to node 3 after its mismatch; it is lost");
    boolean resent = false;
    for (long now = 220; now <= 1_500 && !resent; now += 10) {
      // Someone replays an old answer of node 3 every 30 ms: it moves nothing.
      if (now % 30 == 0) {
        resent = !toNode(node.step(new Message.Appended(3, 1, 3, 2), now), 3).isEmpty();
      }
      if (now % 50 == 0) { // nodes 1 and 2 answer the heartbeats, so node 5 keeps its majority
        node.step(new Ack(1, 1, node.status().log(), 0), now);
        node.step(new Ack(2, 1, node.status().log(), 0), now);
      }
      resent |= !toNode(node.tick(now), 3).isEmpty();
    }
    assertTrue(resent, "the lost batch is sent again after two failure timeouts without an answer to it");
  }

  @Test
  void aResentBatchIsAnsweredOnlyOnceItsEntriesAreDurable() {
    Election node = following(3, 5, 1);
    Message.Append batch = new Message.Append(5, 1, 10, 1, List.of(new LogEntry(11, 1, null, "{}", 0)), 0);
    Output first = node.step(batch, 10);
    assertEquals(List.of(11L), first.logWrite().appended().stream().map(LogEntry::index).toList());
    assertEquals(11, sent(first, Message.Appended.class).get(0).matchIndex(), "sent once entry 11 is stored");
    Output resent = node.step(batch, 20); // entry 11 is still on its way to the store
    assertTrue(resent.needsPersisting(), "the answer waits behind the write of entry 11, or it could count a copy a crash loses");
    assertEquals(List.of(), resent.logWrite().appended());
    assertEquals(11, sent(resent, Message.Appended.class).get(0).matchIndex());
    node.localPersisted(11, 30);
    Output afterStored = node.step(batch, 40);
    assertFalse(afterStored.needsPersisting(), "once stored, it answers at once");
    assertEquals(11, sent(afterStored, Message.Appended.class).get(0).matchIndex());
  }

  @Test
  void anEntryIsCommittedOnceDurableOnAMajorityAndOfTheCurrentTerm() {
    Election node = node(5, 0, 0, LogPosition.EMPTY);
    node.tick(200);
    node.step(new Ack(1, 0, LogPosition.EMPTY, 1), 201);
    node.step(new Ack(2, 0, LogPosition.EMPTY, 1), 201);
    node.step(new Ack(1, 1, LogPosition.EMPTY, 0), 202);
    node.step(new Ack(2, 1, LogPosition.EMPTY, 0), 202); // coordinator of term 1, no-op at index 1
    node.propose(List.of(new Write("a", "{}", 0)), 203);
    assertEquals(-1, node.step(new Message.Appended(1, 1, 2, 1), 204).commitIndex(), "one follower and no durable copy here");
    assertEquals(-1, node.step(new Message.Appended(2, 1, 2, 1), 205).commitIndex(), "the coordinator's own copy is not durable yet");
    assertEquals(2, node.localPersisted(2, 206).commitIndex(), "three durable copies of five");
  }

  @Test
  void aFollowerRepliesOnlyForEntriesThatContinueItsLog() {
    Election node = following(2, 5, 3);
    Output gap = node.step(new Message.Append(5, 3, 12, 1, List.of(new LogEntry(13, 3, null, "{}", 0)), 0), 10);
    assertEquals(10, sent(gap, Message.Mismatch.class).get(0).backUpTo());
    Output ok = node.step(new Message.Append(5, 3, 10, 1, List.of(new LogEntry(11, 3, null, "{}", 0)), 11), 20);
    assertEquals(11, sent(ok, Message.Appended.class).get(0).matchIndex());
    assertEquals(11, ok.logWrite().lastIndex(), "persisted before the reply is sent");
    assertEquals(11, ok.commitIndex());
  }

  @Test
  void aConflictingSuffixGoesToRollbackMarkedWithTheReplacingTerm() {
    Election node = following(2, 5, 3);
    Output output = node.step(new Message.Append(5, 3, 8, 1, List.of(new LogEntry(9, 3, null, "{}", 0)), 0), 10);
    assertEquals(List.of(9L, 10L), output.logWrite().removed().stream().map(LogEntry::index).toList());
    assertEquals(3, output.logWrite().replacedInTerm());
    assertTrue(output.events().stream().anyMatch(e -> e.text().equals(
        "Node 2 rolled back entries 9..10 (from term 1) to match coordinator 5 in term 3")));
  }

  @Test
  void onlyTheAnswerToABatchInFlightMovesTheFollowersPipeline() {
    Election node = node(5, 0, 0, LOG);
    winsTerm1WithNodes1And2(node); // the no-op, entry 11, goes to node 3 after entry 10
    for (int i = 0; i < 3; i++) {
      assertEquals(1, toNode(node.propose(List.of(new Write(null, "{}", 0)), 203), 3).size(), "batches are pipelined");
    }
    assertEquals(0, toNode(node.propose(List.of(new Write(null, "{}", 0)), 204), 3).size(), "four are in flight");
    assertEquals(1, toNode(node.step(new Message.Appended(3, 1, 11, 10), 205), 3).size(), "an answer makes room for one");
    assertEquals(0, toNode(node.step(new Message.Appended(3, 1, 11, 10), 206), 3).size(), "the same answer again, none");
    assertEquals(0, toNode(node.step(new Message.Mismatch(3, 1, 5, 4), 207), 3).size(), "nor a MISMATCH of no batch in flight");
    List<Envelope> probe = toNode(node.step(new Message.Mismatch(3, 1, 11, 12), 208), 3);
    assertEquals(1, probe.size(), "the MISMATCH of a batch in flight sends one probe");
    assertEquals(11, ((Message.Append) probe.get(0).message()).prevIndex(), "after what the follower holds");
    assertEquals(0, toNode(node.step(new Message.Mismatch(3, 1, 11, 13), 209), 3).size(),
        "the MISMATCHes of the batches sent before the probe are late");
    assertEquals(0, toNode(node.step(new Message.Mismatch(3, 1, 11, 12), 209), 3).size(), "and so is a repeated one");
    assertEquals(0, toNode(node.propose(List.of(new Write(null, "{}", 0)), 209), 3).size(), "one probe at a time");
    node.step(new Message.Appended(3, 1, 15, 11), 210); // the probe fits
    for (int i = 0; i < 3; i++) {
      assertEquals(1, toNode(node.propose(List.of(new Write(null, "{}", 0)), 211), 3).size(), "the pipeline is open again");
    }
  }
}
