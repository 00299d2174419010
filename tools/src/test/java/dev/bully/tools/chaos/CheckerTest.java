package dev.bully.tools.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bully.tools.chaos.History.Coordinator;
import dev.bully.tools.chaos.History.Entry;
import dev.bully.tools.chaos.History.Fault;
import dev.bully.tools.chaos.History.Request;
import dev.bully.tools.chaos.History.TermSample;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The checker fed recorded histories: a clean one passes; each kind of violation fails with its evidence. */
class CheckerTest {
  private static final List<Request> REQUESTS = List.of(
      new Request("a", 0, 10, 2, 1),
      new Request("b", 5, 20, 3, 1),
      new Request("c", 20, 30, 0, 0)); // never acknowledged
  private static final List<Entry> LOG = List.of(new Entry(1, 1, null), new Entry(2, 1, "a"), new Entry(3, 1, "b"));
  private static final List<Coordinator> ONE_COORDINATOR = List.of(new Coordinator(3, 1, 0));
  private static final Map<Integer, List<TermSample>> TERMS = Map.of(1, List.of(new TermSample(0, 1), new TermSample(10, 1)));
  private static final List<Fault> FAULTS = List.of(new Fault(15, "kill -9 node 3"));

  @Test
  void aCleanHistoryPasses() {
    Checker.Result result = Checker.check(history(Map.of(1, LOG, 2, LOG), Map.of(), ONE_COORDINATOR, TERMS));
    assertTrue(result.passed(), result.violations().toString());
    assertEquals("acknowledged=2 lost=0 duplicated=0 divergent=0 faults=1 max_coordinators_per_term=1 unavailable_ms=0"
        + " unacknowledged=1 longest_gap_ms=10", result.summary());
  }

  @Test
  void aLostWriteFails() {
    List<Entry> missingB = List.of(new Entry(1, 1, null), new Entry(2, 1, "a"));
    Checker.Result result = Checker.check(history(Map.of(1, LOG, 2, missingB), Map.of(), ONE_COORDINATOR, TERMS));
    assertFalse(result.passed());
    assertEquals(1, result.lost());
    assertEquals("lost: write b, acknowledged at index 3 in term 1, is not in node 2's committed log", result.violations().get(0));
  }

  @Test
  void aDuplicateFails() {
    List<Entry> twice = new ArrayList<>(LOG);
    twice.add(new Entry(4, 2, "b"));
    Checker.Result result = Checker.check(history(Map.of(1, twice), Map.of(), ONE_COORDINATOR, TERMS));
    assertEquals(1, result.duplicated());
    assertEquals("duplicated: write b is in node 1's committed log 2 times, at [3, 4]", result.violations().get(0));
  }

  @Test
  void aDivergenceFails() {
    List<Entry> other = List.of(new Entry(1, 1, null), new Entry(2, 1, "a"), new Entry(3, 2, "b"));
    Checker.Result result = Checker.check(history(Map.of(1, LOG, 2, other), Map.of(), ONE_COORDINATOR, TERMS));
    assertEquals(1, result.divergent());
    assertTrue(result.violations().contains("divergent: at index 3 node 1 has Entry[index=3, term=1, key=b] but node 2 has "
        + "Entry[index=3, term=2, key=b]"), result.violations().toString());
  }

  @Test
  void aForgedEntryInALogFails() {
    List<Entry> forged = new ArrayList<>(LOG);
    forged.add(new Entry(4, 1, Rogue.MARK + "-4"));
    Checker.Result result = Checker.check(history(Map.of(1, LOG, 2, forged), Map.of(), ONE_COORDINATOR, TERMS));
    assertFalse(result.passed());
    assertTrue(result.violations().contains("forged: node 2's committed log holds entry 4 (rogue-forgery-4), which a member"
        + " without the cluster secret forged"), result.violations().toString());
  }

  @Test
  void twoCoordinatorsInOneTermFail() {
    List<Coordinator> two = List.of(new Coordinator(3, 1, 0), new Coordinator(2, 1, 5));
    Checker.Result result = Checker.check(history(Map.of(1, LOG), Map.of(), two, TERMS));
    assertEquals(2, result.maxCoordinatorsPerTerm());
    assertEquals("two coordinators: term 1 was led by nodes [2, 3]", result.violations().get(0));
  }

  @Test
  void aTermThatGoesDownFails() {
    Map<Integer, List<TermSample>> down = Map.of(2, List.of(new TermSample(0, 3), new TermSample(50, 2)));
    Checker.Result result = Checker.check(history(Map.of(1, LOG), Map.of(), ONE_COORDINATOR, down));
    assertEquals("term went down: node 2 was in term 3 and later in term 2 (at 50 ms)", result.violations().get(0));
  }

  @Test
  void aNodeThatVotesForTwoCandidatesInOneTermFails() {
    // Node 1 claimed term 4 for itself and, having forgotten that (a store that was not forced), acknowledged node 3.
    List<String> node1 = List.of("Node 1 claims term 4", "Node 1 restored term 3 (promised to 3) and its log: ...",
        "Node 1 acknowledged node 3 for term 4");
    History history = withLogs(Map.of(1, node1));
    Checker.Result result = Checker.check(history);
    assertTrue(result.violations().contains("voted twice: node 1 in term 4 voted for nodes [1, 3]"), result.violations().toString());
  }

  @Test
  void aNodeThatRestartsInAnOlderTermFails() {
    List<String> node2 = List.of("Node 2 restored term 0 (promised to 0) and its log: ...", "Node 2 moved from term 0 to term 5"
        + " (from node 3)", "Node 2 acknowledged node 3 for term 5", "Node 2 restored term 2 (promised to 3) and its log: ...");
    Checker.Result result = Checker.check(withLogs(Map.of(2, node2)));
    assertEquals(List.of("term went down across a restart: node 2 had logged term 5 and restarted in term 2"), result.violations());
  }

  @Test
  void votesAndTermsThatSurviveRestartsPass() {
    List<String> node2 = List.of("Node 2 restored term 0 (promised to 0) and its log: ...", "Node 2 claims term 1",
        "Node 2 is coordinator of term 1 (acks from 1,2)", "Node 2 restored term 1 (promised to 2) and its log: ...",
        "Node 2 moved from term 1 to term 2 (from node 3)", "Node 2 acknowledged node 3 for term 2",
        "Node 2 follows coordinator 3 (term 2)");
    Checker.Result result = Checker.check(withLogs(Map.of(2, node2)));
    assertTrue(result.passed(), result.violations().toString());
  }

  @Test
  void anAcknowledgedEntryInARollbackFails() {
    Map<Integer, List<Entry>> rolledBack = Map.of(3, List.of(new Entry(3, 1, "b")));
    Checker.Result result = Checker.check(history(Map.of(1, LOG), rolledBack, ONE_COORDINATOR, TERMS));
    assertEquals("rolled back after acknowledgement: write b (index 3, term 1) is in node 3's rollback", result.violations().get(0));
  }

  @Test
  void anUnacknowledgedCopyInARollbackIsFine() {
    // The same key appended by a coordinator that lost its term, then retried and acknowledged elsewhere.
    Map<Integer, List<Entry>> rolledBack = Map.of(3, List.of(new Entry(3, 0, "b")));
    assertTrue(Checker.check(history(Map.of(1, LOG), rolledBack, ONE_COORDINATOR, TERMS)).passed());
  }

  @Test
  void unavailabilityCountsOnlyLongGapsBetweenAcknowledgements() {
    List<Request> requests = List.of(new Request("a", 0, 100, 1, 1), new Request("b", 100, 200, 2, 1),
        new Request("c", 200, 900, 3, 2), new Request("d", 900, 1000, 4, 2));
    assertEquals(700, Checker.unavailableMs(requests));
    assertEquals(700, Checker.longestGapMs(requests));
  }

  /** The clean history, with the votes and terms that these node logs state. */
  private static History withLogs(Map<Integer, List<String>> lines) {
    NodeLogFacts facts = NodeLogFacts.of(lines);
    return new History(REQUESTS, Map.of(1, LOG), Map.of(), ONE_COORDINATOR, TERMS, FAULTS, facts.votes(), facts.terms());
  }

  private static History history(Map<Integer, List<Entry>> committed, Map<Integer, List<Entry>> rolledBack,
                                 List<Coordinator> coordinators, Map<Integer, List<TermSample>> terms) {
    return new History(REQUESTS, committed, rolledBack, coordinators, terms, FAULTS);
  }
}
