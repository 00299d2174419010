package dev.bully.tools.chaos;

import java.util.List;
import java.util.Map;

/**
 * Everything a chaos run recorded, as the checker reads it. Plain data, so a test can build one by
 * hand (a lost write, a duplicate, a divergence, two coordinators in one term) and a run can save
 * it as JSON next to its report.
 *
 * @param requests     every client request, in the order they started
 * @param committed    each node's committed log after the run, by node id, in index order
 * @param rolledBack   each node's rollback collection, by node id
 * @param coordinators every "is coordinator of term" announcement the nodes logged
 * @param terms        each node's term as sampled during the run, by node id, in time order
 * @param faults       the faults injected, in time order
 * @param votes        every vote the nodes logged (an acknowledged claim, or a node's claim of a term for itself)
 * @param loggedTerms  each node's terms as its log states them, by node id, in the log's order, the lives of a
 *                     restarted node one after the other: each line is logged once what it says is durable
 */
public record History(List<Request> requests, Map<Integer, List<Entry>> committed, Map<Integer, List<Entry>> rolledBack,
                      List<Coordinator> coordinators, Map<Integer, List<TermSample>> terms, List<Fault> faults,
                      List<Vote> votes, Map<Integer, List<LoggedTerm>> loggedTerms) {

  /** A history without what only the nodes' logs tell (an attached cluster's run has no logs). */
  public History(List<Request> requests, Map<Integer, List<Entry>> committed, Map<Integer, List<Entry>> rolledBack,
                 List<Coordinator> coordinators, Map<Integer, List<TermSample>> terms, List<Fault> faults) {
    this(requests, committed, rolledBack, coordinators, terms, faults, List.of(), Map.of());
  }

  /** One client write: its key, when it started and ended, and the index and term it was acknowledged with (0 if never). */
  public record Request(String key, long startMs, long endMs, long index, long term) {
    public boolean acknowledged() {
      return index > 0;
    }
  }

  /** A log entry as the API shows it; {@code key} is its Idempotency-Key (null for a coordinator's no-op). */
  public record Entry(long index, long term, String key) {
  }

  public record Coordinator(int node, long term, long atMs) {
  }

  public record TermSample(long atMs, long term) {
  }

  public record Fault(long atMs, String description) {
  }

  /** Node {@code node} gave its vote in {@code term} to {@code candidate} (itself, when it claimed the term). */
  public record Vote(int node, long term, int candidate) {
  }

  /** A term a node's log says it was durably in; {@code restored} when it is the term the node started with. */
  public record LoggedTerm(long term, boolean restored) {
  }
}
