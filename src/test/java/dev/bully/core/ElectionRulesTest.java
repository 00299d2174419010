package dev.bully.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bully.core.Message.Ack;
import dev.bully.core.Message.Answer;
import dev.bully.core.Message.Claim;
import dev.bully.core.Message.Heartbeat;
import dev.bully.core.Message.Reject;
import dev.bully.core.Message.TakeOver;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** One rule of the protocol per test, each on a single node fed messages and ticks by hand. */
class ElectionRulesTest {
  private static final List<Integer> FIVE = IntStream.rangeClosed(1, 5).boxed().toList();
  private static final LogPosition LOG = new LogPosition(1, 10);

  private static Election node(int id, long term, int promisedTo, LogPosition log) {
    return new Election(new ElectionSettings(id, FIVE, 50, 200, 1000), new DurableState(term, promisedTo), logAt(log),
        new SplittableRandom(id), 0);
  }

  /** A log whose last entry is at {@code position}, every entry of that term. */
  private static ReplicatedLog logAt(LogPosition position) {
    List<LogEntry> entries = new ArrayList<>();
    for (long index = 1; index <= position.index(); index++) {
      entries.add(new LogEntry(index, position.term(), null, "{}", 0));
    }
    return new ReplicatedLog(entries, 0);
  }

  private static <T extends Message> List<T> sent(Output output, Class<T> type) {
    return output.messages().stream().map(Envelope::message).filter(type::isInstance).map(type::cast).toList();
  }

  /** Node 4 suspects nobody answers above it, passes its pre-vote and wins term 1 with nodes 1 and 2, by 502 ms. */
  private static Election node4LeadsTerm1WithNode5Silent() {
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
  private static void winsTerm1WithNodes1And2(Election node) {
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
  private static Output ticksThrough(Election node, long fromMs, long toMs) {
    for (long now = fromMs; now <= toMs; now += 10) {
      Output output = node.tick(now);
      if (!output.equals(Output.NONE)) {
        return output;
      }
    }
    return Output.NONE;
  }

  /** Ticks every 10 ms from {@code fromMs} through {@code toMs}, whatever the ticks do. */
  private static void tickAll(Election node, long fromMs, long toMs) {
    for (long now = fromMs; now <= toMs; now += 10) {
      node.tick(now);
    }
  }

  private static Election following(int id, int coordinator, long term) {
    Election node = node(id, term, 0, LOG);
    node.step(new Heartbeat(coordinator, term, 0, LOG), 1);
    assertEquals(coordinator, node.status().coordinatorId());
    return node;
  }

  @Test
  void aPromiseIsPersistedWithTheAcknowledgement() {
    Output output = node(2, 1, 0, LOG).step(new Claim(4, 2, LOG, false, false), 5);
    assertEquals(new DurableState(2, 4), output.persist());
    assertEquals(1, sent(output, Ack.class).size());
  }

  @Test
  void aNodeAcknowledgesAtMostOneClaimerPerTerm() {
    Election node = node(2, 1, 0, LOG);
    node.step(new Claim(3, 2, LOG, false, false), 5);
    Output second = node.step(new Claim(4, 2, LOG, false, false), 6);
    assertEquals(List.of(), sent(second, Ack.class));
    assertEquals("already acknowledged node 3 for term 2", sent(second, Reject.class).get(0).reason());
    assertEquals(new DurableState(2, 3), node.durableState());
  }

  @Test
  void aClaimerWhoseLogIsBehindIsRejected() {
    Output output = node(2, 1, 0, LOG).step(new Claim(4, 2, new LogPosition(1, 9), false, false), 5);
    assertTrue(sent(output, Reject.class).get(0).reason().contains("is behind mine"));
  }

  @Test
  void aNewerTermIsAdoptedAndPersistedBeforeAnything() {
    Election coordinator = node(5, 3, 5, LOG);
    Output output = coordinator.step(new Heartbeat(4, 7, 0, LOG), 10);
    assertEquals(7, output.persist().term());
    assertEquals(Role.FOLLOWER, coordinator.status().role());
    assertEquals(4, coordinator.status().coordinatorId());
  }

  @Test
  void aMessageFromAnOlderTermIsRejectedWithTheCurrentTerm() {
    Election node = following(2, 4, 5);
    Output output = node.step(new Heartbeat(5, 3, 0, LOG), 10);
    Reject reject = sent(output, Reject.class).get(0);
    assertEquals(5, reject.term());
    assertEquals(4, node.status().coordinatorId(), "the stale coordinator changed nothing");
    assertNull(output.persist());
  }

  @Test
  void aPreVoteChangesNothingAtTheVoter() {
    Election node = node(2, 3, 0, LOG);
    Output output = node.step(new Claim(4, 4, LOG, true, false), 500);
    assertNull(output.persist());
    assertEquals(3, node.status().term());
    assertEquals(4, sent(output, Ack.class).get(0).preVoteTerm());
  }

  @Test
  void aVoterThatHearsALiveCoordinatorRefusesPreVotes() {
    Election node = following(2, 5, 3);
    Output output = node.step(new Claim(4, 4, LOG, true, false), 60);
    assertEquals("coordinator 5 is alive", sent(output, Reject.class).get(0).reason());
  }

  @Test
  void theHighestNodeClaimsWithoutAskingTheCoordinatorItSuspects() {
    Election node = following(4, 5, 3);
    Output output = node.tick(1 + 200);
    assertTrue(output.events().get(0).text().startsWith("Node 4 suspects coordinator 5 (no heartbeat for 200 ms)"));
    assertEquals(List.of(), sent(output, Message.Election.class), "no higher node to ask but the suspect");
    assertEquals(4, sent(output, Claim.class).size(), "a pre-vote to every other node");
    assertTrue(sent(output, Claim.class).stream().allMatch(Claim::preVote));
  }

  @Test
  void lowerNodesWaitLongerSoTheHighestSurvivorNoticesFirst() {
    Election node3 = following(3, 5, 3);
    assertEquals(Output.NONE, ticksThrough(node3, 1, 1 + 290), "node 3 still waits: node 4 ranks above it");
    assertFalse(node3.tick(1 + 300).events().isEmpty());
  }

  @Test
  void aHigherEligibleNodeAnswersAndRunsItsOwnElection() {
    Election node = node(3, 3, 0, LOG);
    Output output = node.step(new Message.Election(1, 3, LOG), 10);
    assertEquals(1, sent(output, Answer.class).size());
    assertEquals(List.of(4, 5), output.messages().stream()
        .filter(e -> e.message() instanceof Message.Election).map(Envelope::to).toList());
    assertEquals(Role.CANDIDATE, node.status().role());
  }

  @Test
  void aHigherNodeThatIsBehindDoesNotAnswer() {
    Election node = node(3, 3, 0, new LogPosition(1, 5));
    Output output = node.step(new Message.Election(1, 3, LOG), 10);
    assertEquals(List.of(), sent(output, Answer.class));
  }

  @Test
  void aCoordinatorNeedsAMajorityOfTheConfiguredNodes() {
    Election node = node(5, 0, 0, LOG);
    node.tick(200); // no coordinator: pre-vote
    node.step(new Ack(1, 0, LOG, 1), 201);
    Output claim = node.step(new Ack(2, 0, LOG, 1), 202);
    assertEquals(new DurableState(1, 5), claim.persist(), "the term is persisted before the claim is sent");
    node.step(new Ack(1, 1, LOG, 0), 203);
    assertEquals(Role.CANDIDATE, node.status().role(), "two of five is not a majority");
    Output won = node.step(new Ack(2, 1, LOG, 0), 204);
    assertEquals(Role.COORDINATOR, node.status().role());
    assertEquals("Node 5 is coordinator of term 1 (acks from 1,2,5)", won.events().get(0).text());
    assertEquals(4, sent(won, Heartbeat.class).size(), "it announces itself at once");
    assertEquals(new LogPosition(1, 11), won.logWrite().appended().get(0).position(), "with a no-op entry of its term");
    assertEquals(4, sent(won, Message.Append.class).size(), "which it replicates at once");
  }

  @Test
  void aFollowerFarBehindGetsTheEntriesThatLeftMemoryFromTheStoreThenTheRestInOrder() {
    // Node 5 restarted holding entries 9 and 10 in memory; 1 to 8 are committed and only in its store's pages.
    ReplicatedLog log = ReplicatedLog.restore(List.of(new TermRun(1, 1)), List.of(),
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
  void aCoordinatorThatLosesItsMajorityStepsDown() {
    Election node = node(5, 0, 0, LOG);
    winsTerm1WithNodes1And2(node);
    tickAll(node, 210, 202 + 200 + 199);
    assertEquals(Role.COORDINATOR, node.status().role(), "it keeps leading through one failure timeout of silence, and a second");
    Output output = node.tick(202 + 2 * 200);
    assertEquals(Role.FOLLOWER, node.status().role());
    assertTrue(output.events().get(0).text().startsWith("Node 5 stepped down: lost contact with a majority"));
  }

  @Test
  void aCaughtUpHigherNodeIsAskedToTakeOverOnlyAfterTheDelay() {
    Election node = node4LeadsTerm1WithNode5Silent();
    long sentTakeOverAt = -1;
    LogPosition withNoOp = new LogPosition(1, 11); // a new coordinator appends a no-op entry of its term
    for (long t = 510; t <= 1700 && sentTakeOverAt < 0; t += 10) {
      node.step(new Ack(1, 1, withNoOp, 0), t);
      node.step(new Ack(5, 1, withNoOp, 0), t);
      node.step(new Message.Appended(1, 1, 11, 10), t); // with node 5's, a majority holds the no-op: it commits
      node.localPersisted(11, t);
      if (!sent(node.tick(t), TakeOver.class).isEmpty()
          || !sent(node.step(new Message.Appended(5, 1, 11, 10), t), TakeOver.class).isEmpty()) {
        sentTakeOverAt = t;
      }
    }
    assertEquals(1510, sentTakeOverAt, "node 5 caught up at 510 ms and the delay is 1000 ms");
    assertFalse(node.acceptsWrites(), "while handing over, the coordinator takes no new writes");
  }

  @Test
  void aTakeOverFromTheCoordinatorMakesTheFollowerClaimAtOnce() {
    Election node = following(5, 4, 3);
    Output output = node.step(new TakeOver(4, 3, LogPosition.EMPTY), 50);
    assertEquals(new DurableState(4, 5), output.persist());
    assertTrue(sent(output, Claim.class).stream().noneMatch(Claim::preVote));
    assertEquals("Node 5 claims term 4 (takeover from node 4)", output.events().get(0).text());
  }

  @Test
  void messagesFromUnknownNodesChangeNothing() {
    Election node = following(2, 5, 3);
    Output output = node.step(new Heartbeat(9, 99, 0, LOG), 10);
    assertNull(output.persist());
    assertEquals(3, node.status().term());
    assertNotNull(output.events().get(0));
    assertTrue(output.messages().isEmpty());
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
  void aCoordinatorStepsDownOnlyToAReachableCaughtUpFollowerAndToldItToTakeOverRightBehindItsLastEntries() {
    assertTrue(following(2, 4, 1).stepDown(10, false).isEmpty(), "a follower has nothing to hand over");
    Election node = node4LeadsTerm1WithNode5Silent();
    Output refused = node.stepDown(710, false); // no follower heard within the failure timeout (200 ms)
    assertEquals("Node 4 cannot step down: no follower is reachable and caught up", refused.events().get(0).text());
    assertTrue(node.acceptsWrites(), "without a successor it leads on");

    LogPosition withNoOp = new LogPosition(1, 11);
    node.step(new Ack(2, 1, withNoOp, 0), 720);
    node.localPersisted(11, 720);
    node.propose(List.of(new Write("late", "{}", 0)), 720); // entry 12 goes out to every follower
    Output stepping = node.stepDown(721, false);
    assertEquals("Node 4 steps down: it takes no new writes and hands over to node 2", stepping.events().get(0).text());
    assertFalse(node.acceptsWrites());
    assertEquals(2, node.handingOverTo());
    assertEquals(List.of(new TakeOver(4, 1, new LogPosition(1, 12))), sent(stepping, TakeOver.class),
        "node 2 was sent the whole log: TAKEOVER follows at once, naming the last entry");
    assertTrue(sent(node.tick(724), TakeOver.class).isEmpty(), "not again within a heartbeat");
    assertEquals(1, sent(node.tick(771), TakeOver.class).size(), "again after a heartbeat, in case it was lost");
    node.step(new Claim(2, 2, new LogPosition(1, 12), false, true), 775);
    assertEquals(Role.FOLLOWER, node.status().role(), "the successor's claim for the next term ends its leadership");
  }

  @Test
  void aFollowerToldToTakeOverClaimsOnlyOnceItHoldsTheCoordinatorsLastEntry() {
    Election node = following(2, 4, 1); // holds entries 1..10 of term 1
    Output early = node.step(new TakeOver(4, 1, new LogPosition(1, 11)), 50);
    assertTrue(sent(early, Claim.class).isEmpty(), "entry 11 has not arrived yet");
    Output appended = node.step(new Message.Append(4, 1, 10, 1, List.of(new LogEntry(11, 1, null, "{}", 0)), 0), 51);
    List<Claim> claims = sent(appended, Claim.class);
    assertFalse(claims.isEmpty(), "with entry 11 it claims the next term");
    assertEquals(new Claim(2, 2, new LogPosition(1, 11), false, true), claims.get(0));
  }

  @Test
  void aStoppingCoordinatorNeverStandsForElectionAgainWhileItWaitsForItsSuccessor() {
    Election node = node4LeadsTerm1WithNode5Silent();
    LogPosition withNoOp = new LogPosition(1, 11);
    node.step(new Ack(2, 1, withNoOp, 0), 720);
    node.localPersisted(11, 720);
    node.stepDown(721, true);
    node.step(new Message.Appended(2, 1, 11, 10), 722);
    node.step(new Claim(2, 2, withNoOp, false, true), 730); // the successor claims; no announcement follows
    assertEquals(Role.FOLLOWER, node.status().role());
    for (long t = 740; t <= 5_000; t += 10) {
      assertTrue(node.tick(t).messages().isEmpty(), "at " + t + " ms it starts no election");
    }
    assertTrue(sent(node.step(new Message.Election(1, 2, withNoOp), 5_010), Answer.class).isEmpty(),
        "nor does it answer a lower node's election, which would promise to take over");
  }

  @Test
  void aVoterGivesTheClaimerItsWholeClaimTimeoutBeforeSuspectingIt() {
    Election node = following(4, 5, 1);
    assertFalse(sent(node.step(new Claim(3, 2, LOG, false, false), 100), Ack.class).isEmpty()); // node 3 never announces
    assertTrue(ticksThrough(node, 100, 490).messages().isEmpty(), "not at 390 ms of silence, past its suspicion timeout (300 ms)");
    assertFalse(sent(node.tick(510), Message.Election.class).isEmpty(), "after the claim timeout (400 ms) it asks node 5");
  }

  @Test
  void aFollowerThatSawItsCoordinatorPauseWaitsLongerAndForgetsThePauseAfterTheWindow() {
    Election node = following(4, 5, 1); // failure timeout 200 ms, node 5 above it is the coordinator
    node.step(new Heartbeat(5, 1, 0, LOG), 50);
    node.step(new Heartbeat(5, 1, 0, LOG), 50 + 180); // node 5 paused: 180 ms without a word
    assertEquals(360, node.suspicionTimeoutMs(300), "twice the longest pause it saw");
    assertEquals(Output.NONE, ticksThrough(node, 230, 230 + 350), "350 ms of silence is no failure now");
    assertFalse(node.tick(230 + 360).events().isEmpty(), "360 ms is");
    Election fresh = following(4, 5, 1);
    assertFalse(ticksThrough(fresh, 1, 1 + 350).events().isEmpty(), "without the pause, 200 ms of silence is a failure");

    long later = 230 + AdaptiveTimeout.WINDOW_MS + 10_000;
    node.step(new Heartbeat(5, 1, 0, LOG), later);
    assertEquals(200, node.suspicionTimeoutMs(later + 10), "a pause older than the window is forgotten");
  }

  @Test
  void aPauseLongerThanTheCeilingIsAnOutageAndIsNotLearned() {
    Election node = following(4, 5, 1); // ceiling: ten times 200 ms
    node.step(new Heartbeat(5, 1, 0, LOG), 2_500);
    assertEquals(200, node.suspicionTimeoutMs(2_510));
    node.step(new Heartbeat(5, 1, 0, LOG), 3_700);
    assertEquals(2_000, node.suspicionTimeoutMs(3_710), "a 1.2 s pause would make 2.4 s: the ceiling holds it at 2 s");
  }

  @Test
  void aNodeThatStalledJudgesNoSilenceUntilItsNextTick() {
    Election node = following(4, 5, 1);
    node.tick(100);
    assertEquals(Output.NONE, node.tick(400), "its own tick came 300 ms late: what it missed may still be queued");
    node.step(new Heartbeat(5, 1, 0, LOG), 401);
    assertEquals(Output.NONE, node.tick(410), "the queued heartbeat came first");
    Election cut = following(4, 5, 1);
    cut.tick(100);
    cut.tick(400);
    assertFalse(cut.tick(410).events().isEmpty(), "no heartbeat was queued: the next tick suspects");
  }

  @Test
  void aCoordinatorThatStalledDoesNotStepDownBeforeHearingWhatCameMeanwhile() {
    Election node = node(5, 0, 0, LOG);
    winsTerm1WithNodes1And2(node);
    tickAll(node, 210, 400);
    assertEquals(Output.NONE.events(), node.tick(1_000).events(), "a 600 ms stall of its own is no lost majority");
    assertEquals(Role.COORDINATOR, node.status().role());
    node.step(new Ack(1, 1, LOG, 0), 1_001);
    node.step(new Ack(2, 1, LOG, 0), 1_001);
    tickAll(node, 1_010, 1_100);
    assertEquals(Role.COORDINATOR, node.status().role(), "the acknowledgements queued meanwhile keep it leading");
    Election cut = node(5, 0, 0, LOG);
    winsTerm1WithNodes1And2(cut);
    tickAll(cut, 210, 400);
    cut.tick(1_000);
    cut.tick(1_010);
    assertEquals(Role.FOLLOWER, cut.status().role(), "nothing came meanwhile: it steps down at its next tick");
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

  private static List<Envelope> toNode(Output output, int id) {
    return output.messages().stream().filter(e -> e.to() == id && e.message() instanceof Message.Append).toList();
  }

  @Test
  void aFailureInsideTheCoreLeavesAsABrokenInvariantWhateverItsType() {
    Election node = node(5, 0, 0, LOG);
    winsTerm1WithNodes1And2(node);
    BrokenInvariant failure = org.junit.jupiter.api.Assertions.assertThrows(BrokenInvariant.class,
        () -> node.propose(null, 300), "a bug's NullPointerException is reported as the core's own");
    assertTrue(failure.getCause() instanceof NullPointerException);
    ReplicatedLog log = logAt(LOG);
    org.junit.jupiter.api.Assertions.assertThrows(BrokenInvariant.class, () -> log.pagedTo(5),
        "entries paged that are not committed");
  }
}
