package dev.bully.core;

import static dev.bully.core.Nodes.*;
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
import java.util.List;
import org.junit.jupiter.api.Test;

/** One rule of the election per test, each on a single node fed messages and ticks by hand. */
class ElectionRulesTest {
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
  void aNodeStandingItselfRefusesThePreVoteOfALowerNodeAndGrantsAHigherOne() {
    Election node = following(4, 5, 3);
    node.membershipChanged(java.util.Set.of(1, 2, 3, 4), 100); // node 5 left: node 4 stands
    Output lower = node.step(new Claim(2, 4, LOG, true, false), 110); // node 2's answers came late: it asks anyway
    assertEquals("node 4 ranks above it and stands itself", sent(lower, Reject.class).get(0).reason());

    Election three = following(3, 5, 3);
    three.membershipChanged(java.util.Set.of(1, 2, 3, 4), 100);
    assertEquals(4, sent(three.step(new Claim(4, 4, LOG, true, false), 110), Ack.class).get(0).preVoteTerm(),
        "node 4 outranks node 3: node 3 grants it, standing or not");
    Election idle = node(4, 3, 0, LOG);
    assertEquals(4, sent(idle.step(new Claim(2, 4, LOG, true, false), 500), Ack.class).get(0).preVoteTerm(),
        "a node that does not stand grants a lower node");
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
  void theBullyOrderRanksByLastTermThenLengthThenId() {
    BullyRank behindButHighest = new BullyRank(new LogPosition(1, 9), 5);
    BullyRank laterTerm = new BullyRank(new LogPosition(2, 3), 1);
    BullyRank longer = new BullyRank(new LogPosition(2, 4), 1);
    BullyRank sameLogHigherId = new BullyRank(new LogPosition(2, 4), 2);
    List<BullyRank> sorted = new java.util.ArrayList<>(List.of(sameLogHigherId, behindButHighest, longer, laterTerm));
    java.util.Collections.sort(sorted);
    assertEquals(List.of(behindButHighest, laterTerm, longer, sameLogHigherId), sorted);
    assertFalse(longer.outranks(longer), "no node outranks itself");
  }

  @Test
  void onlyANodeThatOutranksTheSenderAnswersItsElection() {
    Election sameLogLowerId = node(2, 3, 0, LOG);
    assertEquals(List.of(), sent(sameLogLowerId.step(new Message.Election(3, 3, LOG), 10), Answer.class));
    Election aheadLowerId = node(2, 3, 0, new LogPosition(LOG.term(), LOG.index() + 1));
    assertEquals(1, sent(aheadLowerId.step(new Message.Election(3, 3, LOG), 10), Answer.class).size(),
        "a longer log outranks a higher id");
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
