package dev.bully.core;

import static dev.bully.core.Nodes.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bully.core.Message.Ack;
import dev.bully.core.Message.Claim;
import dev.bully.core.Message.Heartbeat;
import org.junit.jupiter.api.Test;

/**
 * When a node takes silence for a failure: staggered by rank, learned from the pauses it saw (its
 * coordinator's and its own), and never judged on a tick right after a stall of its own.
 */
class FailureDetectionTest {
  @Test
  void lowerNodesWaitLongerSoTheHighestSurvivorNoticesFirst() {
    Election node3 = following(3, 5, 3);
    assertEquals(Output.NONE, ticksThrough(node3, 1, 1 + 290), "node 3 still waits: node 4 ranks above it");
    assertFalse(node3.tick(1 + 300).events().isEmpty());
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
  void aCoordinatorThatPausedItselfGivesItsFollowersAsLongBeforeSteppingDown() {
    Election node = node(5, 0, 0, LOG);
    winsTerm1WithNodes1And2(node);
    node.paused(190, 205); // a collection of its own: its followers, alike, may pause as long
    long window = 2 * 2 * (190 + 50); // twice the timeout it learned, 480 ms
    tickAll(node, 210, 202 + window - 1);
    assertEquals(Role.COORDINATOR, node.status().role(), "a majority silent for 950 ms, within twice its learned timeout");
    node.tick(202 + window);
    assertEquals(Role.FOLLOWER, node.status().role());
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
    assertEquals(600, cut.suspicionTimeoutMs(410), "it learned its own 300 ms between ticks, as if the coordinator had paused so");
    assertEquals(Output.NONE, ticksThrough(cut, 410, 590), "no heartbeat was queued, but 590 ms of silence is no failure now");
    assertFalse(cut.tick(601).events().isEmpty(), "601 ms is");
  }

  @Test
  void aPauseOfItsOwnProcessMakesAFollowerWaitThatMuchLongerForItsCoordinator() {
    Election node = following(4, 5, 1); // failure timeout 200 ms, heartbeats every 50 ms
    node.paused(190, 20); // a collection stopped this JVM for 190 ms, say while the cluster started
    assertEquals(2 * (190 + 50), node.suspicionTimeoutMs(30), "twice the silence a like pause of node 5 would cause");
    assertEquals(Output.NONE, ticksThrough(node, 30, 470), "so node 5 pausing as long is no failure");
    assertFalse(node.tick(481).events().isEmpty());

    Election alone = node(5, 0, 0, LOG);
    alone.paused(190, 20);
    assertEquals(200, alone.suspicionTimeoutMs(30), "with no coordinator yet there is no pause to sit out: the configured 200 ms");
    Election calm = following(4, 5, 1);
    calm.paused(40, 20);
    assertEquals(200, calm.suspicionTimeoutMs(30), "a pause shorter than the heartbeat interval changes nothing");
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
    tickAll(cut, 1_010, 202 + 2_400 - 1);
    assertEquals(Role.COORDINATOR, cut.status().role(), "its own 600 ms stall says its followers may be as slow: 2.4 s");
    cut.tick(202 + 2_400);
    assertEquals(Role.FOLLOWER, cut.status().role(), "nothing came meanwhile: it steps down");
  }
}
