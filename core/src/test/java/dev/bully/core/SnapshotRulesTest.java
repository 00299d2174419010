package dev.bully.core;

import static dev.bully.core.Nodes.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** One rule of compaction and snapshots per test, on single nodes fed by hand. */
class SnapshotRulesTest {
  private static Message.SnapshotChunk chunk(long index, long seq, boolean last) {
    return new Message.SnapshotChunk(5, 1, index, seq, List.of(new SnapshotItem("c", "d" + seq, index, false, "{}")), last,
        index + 3);
  }

  /** Node 5, coordinator of term 1 with nodes 1 and 2: its log compacted up to entry 8 (of term 1), 9 and 10 kept. */
  private static Election coordinatorCompactedUpTo8() {
    ReplicatedLog log = ReplicatedLog.restore(8, List.of(new TermRun(8, 1)), List.of(),
        List.of(new LogEntry(9, 1, null, "{}", 0), new LogEntry(10, 1, null, "{}", 0)), 10, 8, new LogLimits(2, 10));
    Election node = new Election(new ElectionSettings(5, FIVE, 50, 200, 1000), new DurableState(0, 0), log,
        new SplittableRandom(5), 0);
    winsTerm1WithNodes1And2(node);
    return node;
  }

  @Test
  void aFollowerWhoseLogHoldsTheOfferedEntryNeedsNoSnapshot() {
    Election node = following(3, 5, 1); // entries 1..10 of term 1
    node.step(new Message.Heartbeat(5, 1, 10, LOG), 2); // verified and committed
    Output output = node.step(new Message.Snapshot(5, 1, 8, 1), 3);
    assertNull(output.install(), "no install");
    assertEquals(List.of(new Message.Appended(3, 1, 10, 10)), sent(output, Message.Appended.class),
        "its log matches up to its commit index");
  }

  @Test
  void aFollowerBehindPullsTheSnapshotChunkByChunkAndItsLogThenBeginsAfterIt() {
    Election node = following(3, 5, 1); // entries 1..10 of term 1, none known committed
    Output offered = node.step(new Message.Snapshot(5, 1, 50, 1), 3);
    assertTrue(offered.install().begins());
    assertEquals(List.of(new Message.SnapshotPull(3, 1, 50, 0)), sent(offered, Message.SnapshotPull.class));
    assertTrue(offered.sendsFirst(), "the first pull goes at once: the chunk it brings is stored after the begin, in order");

    Output first = node.step(chunk(50, 0, false), 4);
    assertEquals(0, first.install().chunk().seq());
    assertEquals(List.of(new Message.SnapshotPull(3, 1, 50, 1)), sent(first, Message.SnapshotPull.class));
    assertFalse(first.sendsFirst(), "the next chunk is asked for once this one is stored: a slow store holds one chunk at a time");
    assertEquals(Output.NONE, node.step(chunk(50, 0, false), 5), "a chunk not asked for is passed over");

    Output last = node.step(chunk(50, 1, true), 6);
    assertTrue(last.install().finishes());
    assertTrue(!last.sendsFirst(), "the answer waits for the documents and the log's reset");
    assertEquals(50, last.logWrite().resetIndex());
    assertEquals(10, last.logWrite().removed().size(), "its uncommitted entries go to rollback");
    assertEquals(List.of(new Message.Appended(3, 1, 50, 50)), sent(last, Message.Appended.class));
    assertEquals(new LogPosition(1, 50), node.status().log());
    assertEquals(50, node.status().commitIndex());
    assertEquals(ReplicatedLog.UNKNOWN_TERM, node.logView().termAt(49));
  }

  @Test
  void aFollowerWhoseLogCaughtUpPastTheSnapshotWhileItInstalledKeepsItsLogAndDocuments() {
    Election node = following(3, 5, 1);
    node.step(new Message.Snapshot(5, 1, 20, 1), 3);
    node.step(chunk(20, 0, false), 4);
    // APPENDs sent before the offer arrive, and the coordinator's commit index with them.
    List<LogEntry> more = java.util.stream.LongStream.rangeClosed(11, 25).mapToObj(i -> new LogEntry(i, 1, null, "{}", 0)).toList();
    node.step(new Message.Append(5, 1, 10, 1, more, 25), 5);
    node.localPersisted(25, 6);
    assertEquals(25, node.status().commitIndex());
    Output last = node.step(chunk(20, 1, true), 7);
    assertNull(last.install(), "the snapshot is older than what the log applies: not installed");
    assertTrue(last.logWrite() == null || !last.logWrite().resets());
    assertEquals(List.of(new Message.Appended(3, 1, 25, 25)), sent(last, Message.Appended.class));
  }

  @Test
  void aFollowerThatNeedsCompactedEntriesIsOfferedASnapshotThatPinsTheLogOnceItPulls() {
    Election node = coordinatorCompactedUpTo8();
    Output output = node.step(new Message.Mismatch(3, 1, 3, 10), 210); // node 3 holds only entries 1 to 3
    assertEquals(List.of(new Message.Snapshot(5, 1, 8, 1)), sent(output, Message.Snapshot.class));
    assertEquals(List.of("Node 5 offers node 3 a snapshot up to entry 8 (it needs entry 4, and this log is compacted up to 8)"),
        output.events().stream().filter(e -> e.kind() == ProtocolEvent.Kind.SNAPSHOT).map(ProtocolEvent::text).toList());
    assertEquals(Long.MAX_VALUE, node.compactionPin(), "an offer nobody pulled pins nothing");

    Output pulled = node.step(new Message.SnapshotPull(3, 1, 8, 0), 215);
    Envelope chunk = pulled.messages().stream().filter(e -> e.message() instanceof Message.SnapshotChunk).findFirst().orElseThrow();
    assertTrue(chunk.chunkFromStore(), "the driver fills the chunk from its store");
    assertEquals(8, node.compactionPin(), "pinned from the first pull");
    assertEquals(List.of(), toNode(node.tick(220), 3), "no APPENDs while it installs");

    Output installed = node.step(new Message.Appended(3, 1, 8, 8), 240);
    Message.Append next = (Message.Append) toNode(installed, 3).get(0).message();
    assertEquals(8, next.prevIndex(), "then the log from after the snapshot");
    assertNotNull(next.entries());
  }

  /**
   * The follower swaps the last chunk in: its heartbeat answers show its log beginning at the
   * snapshot's base, while its APPENDED waits for the swap. Should the swap outlast the time after
   * which APPENDs are sent again, they go on from the base: from its match index, below the base,
   * the follower would be offered the whole snapshot once more.
   */
  @Test
  void aFollowerSeenToHoldTheSnapshotIsNotOfferedItAgainWhileItsSwapIsSlow() {
    Election node = coordinatorCompactedUpTo8();
    node.step(new Message.Mismatch(3, 1, 3, 10), 210);
    node.step(new Message.SnapshotPull(3, 1, 8, 0), 215);
    node.step(new Message.Ack(3, 1, new LogPosition(1, 8), 0, 0), 230); // the last chunk is in; the swap goes on

    int appends = 0;
    for (long now = 250; now <= 2_000; now += 50) {
      node.step(new Message.Ack(1, 1, LOG, 0, 0), now); // nodes 1 and 2 keep answering: node 5 stays coordinator
      node.step(new Message.Ack(2, 1, LOG, 0, 0), now);
      for (Envelope sent : node.tick(now).messages().stream().filter(e -> e.to() == 3).toList()) {
        assertFalse(sent.message() instanceof Message.Snapshot, "offered the snapshot again at " + now + " ms");
        if (sent.message() instanceof Message.Append append) {
          assertTrue(append.prevIndex() >= 8, "APPENDs from the snapshot's base on, not " + append.prevIndex());
          appends++;
        }
      }
    }
    assertTrue(appends >= 2, "the APPEND after the base is sent again while the swap goes on: " + appends);
  }

  /** A follower that is down is offered the snapshot again and again; the coordinator's log says so once, not every time. */
  @Test
  void offersToAFollowerThatNeverPullsAreOneEventNotOneEach() {
    Election node = coordinatorCompactedUpTo8();
    node.step(new Message.Mismatch(3, 1, 3, 10), 210);
    int offers = 0;
    List<String> events = new java.util.ArrayList<>();
    for (long now = 250; now <= 3_000; now += 50) {
      node.step(new Message.Ack(1, 1, LOG, 0, 0), now);
      node.step(new Message.Ack(2, 1, LOG, 0, 0), now);
      Output output = node.tick(now);
      offers += (int) output.messages().stream().filter(e -> e.to() == 3 && e.message() instanceof Message.Snapshot).count();
      output.events().stream().filter(e -> e.text().contains("offers node 3")).map(ProtocolEvent::text).forEach(events::add);
    }
    assertTrue(offers >= 5, "offered again while it does not pull: " + offers);
    assertEquals(1, events.size(), "one line for the offers made again: " + events);
    assertTrue(events.get(0).contains("not pulled within") && events.get(0).contains("offered again every"), events.get(0));

    Output pulled = node.step(new Message.SnapshotPull(3, 1, 8, 0), 3_010); // it came back and pulls
    assertTrue(pulled.messages().stream().anyMatch(e -> e.message() instanceof Message.SnapshotChunk));
    List<String> later = new java.util.ArrayList<>();
    for (long now = 3_050; now <= 5_000; now += 50) { // then its pulls stop: that offer is said again
      node.step(new Message.Ack(1, 1, LOG, 0, 0), now);
      node.step(new Message.Ack(2, 1, LOG, 0, 0), now);
      node.tick(now).events().stream().filter(e -> e.text().contains("offers node 3")).map(ProtocolEvent::text).forEach(later::add);
    }
    assertTrue(!later.isEmpty() && later.get(0).contains("no pull of"), "the offer after the pulls stopped: " + later);
  }

  @Test
  void theSnapshotOfferedIsTakenUpToTheNewestCommittedEntryTheDocumentsHoldDurably() {
    // Node 5's log: entries up to 4 compacted (of term 1), 5 to 10 kept and committed.
    List<LogEntry> kept = java.util.stream.LongStream.rangeClosed(5, 10).mapToObj(i -> new LogEntry(i, 1, null, "{}", 0)).toList();
    ReplicatedLog log = ReplicatedLog.restore(4, List.of(new TermRun(4, 1)), List.of(), kept, 10, 4, new LogLimits(2, 10));
    Election node = new Election(new ElectionSettings(5, FIVE, 50, 200, 1000), new DurableState(0, 0), log,
        new SplittableRandom(5), 0);
    winsTerm1WithNodes1And2(node);
    node.logView().appliedDurably(8);
    Output output = node.step(new Message.Mismatch(3, 1, 3, 10), 210); // node 3 holds only entries 1 to 3
    assertEquals(List.of(new Message.Snapshot(5, 1, 8, 1)), sent(output, Message.Snapshot.class),
        "not the log's base 4: node 3 then has only the entries after 8 to apply");

    node.logView().appliedDurably(1_000); // a driver's word past the commit index
    Output again = node.step(new Message.Mismatch(4, 1, 2, 10), 215);
    assertEquals(List.of(new Message.Snapshot(5, 1, node.status().commitIndex(), 1)), sent(again, Message.Snapshot.class),
        "never past what is committed: the follower commits up to the snapshot's entry");
  }
}
