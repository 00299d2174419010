package dev.bully.tools.chaos;

import dev.bully.tools.chaos.History.Entry;
import dev.bully.tools.chaos.History.Request;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Checks a chaos run's history against what the cluster promises: every acknowledged write is in
 * every node's committed log exactly once, at the index it was acknowledged with; the committed
 * logs are identical; no term had two coordinators; no node voted for two candidates in one term; no
 * node's term went down, neither while it ran nor across a restart (a power loss included); and
 * nothing in any rollback collection had been acknowledged. Violations are listed in the order found, each with
 * its evidence; the first one is the headline.
 */
public final class Checker {
  /** A stretch without any acknowledged write longer than this counts as unavailability. */
  static final long UNAVAILABLE_AFTER_MS = 250;

  private Checker() {
  }

  /** The outcome: figures for the summary line and the violations. */
  public record Result(int acknowledged, int lost, int duplicated, int divergent, int faults, int maxCoordinatorsPerTerm,
                       long unavailableMs, int unacknowledged, long longestGapMs, List<String> violations) {
    public boolean passed() {
      return violations.isEmpty();
    }

    /** This result with one more violation, found outside the history (the forger's stolen messages). */
    public Result with(String violation) {
      List<String> more = new ArrayList<>(violations);
      more.add(violation);
      return new Result(acknowledged, lost, duplicated, divergent, faults, maxCoordinatorsPerTerm, unavailableMs,
          unacknowledged, longestGapMs, List.copyOf(more));
    }

    public String summary() {
      return "acknowledged=" + acknowledged + " lost=" + lost + " duplicated=" + duplicated + " divergent=" + divergent
          + " faults=" + faults + " max_coordinators_per_term=" + maxCoordinatorsPerTerm + " unavailable_ms=" + unavailableMs
          + " unacknowledged=" + unacknowledged + " longest_gap_ms=" + longestGapMs;
    }
  }

  public static Result check(History history) {
    List<String> violations = new ArrayList<>();
    List<Request> acknowledged = history.requests().stream().filter(Request::acknowledged).toList();

    int lost = 0;
    int duplicated = 0;
    for (var node : new TreeMap<>(history.committed()).entrySet()) {
      Map<String, List<Long>> indexesByKey = new HashMap<>();
      for (Entry entry : node.getValue()) {
        if (entry.key() != null) {
          indexesByKey.computeIfAbsent(entry.key(), k -> new ArrayList<>()).add(entry.index());
        }
      }
      for (Request request : acknowledged) {
        List<Long> indexes = indexesByKey.get(request.key());
        if (indexes == null) {
          lost++;
          violations.add("lost: write " + request.key() + ", acknowledged at index " + request.index() + " in term "
              + request.term() + ", is not in node " + node.getKey() + "'s committed log");
        } else if (!indexes.contains(request.index())) {
          lost++;
          violations.add("moved: write " + request.key() + " was acknowledged at index " + request.index()
              + " but node " + node.getKey() + " has it at " + indexes);
        }
      }
      for (var key : new TreeMap<>(indexesByKey).entrySet()) {
        if (key.getValue().size() > 1) {
          duplicated++;
          violations.add("duplicated: write " + key.getKey() + " is in node " + node.getKey() + "'s committed log "
              + key.getValue().size() + " times, at " + key.getValue());
        }
      }
    }

    for (var node : new TreeMap<>(history.committed()).entrySet()) {
      node.getValue().stream().filter(e -> e.key() != null && e.key().startsWith(Rogue.MARK)).findFirst().ifPresent(e ->
          violations.add("forged: node " + node.getKey() + "'s committed log holds entry " + e.index() + " (" + e.key()
              + "), which a member without the cluster secret forged"));
    }
    int divergent = divergence(history.committed(), violations);

    Map<Long, Set<Integer>> coordinatorsByTerm = new TreeMap<>();
    history.coordinators().forEach(c -> coordinatorsByTerm.computeIfAbsent(c.term(), t -> new TreeSet<>()).add(c.node()));
    int maxCoordinators = 0;
    for (var term : coordinatorsByTerm.entrySet()) {
      maxCoordinators = Math.max(maxCoordinators, term.getValue().size());
      if (term.getValue().size() > 1) {
        violations.add("two coordinators: term " + term.getKey() + " was led by nodes " + term.getValue());
      }
    }

    for (var node : new TreeMap<>(history.terms()).entrySet()) {
      long highest = 0;
      for (History.TermSample sample : node.getValue()) {
        if (sample.term() < highest) {
          violations.add("term went down: node " + node.getKey() + " was in term " + highest + " and later in term "
              + sample.term() + " (at " + sample.atMs() + " ms)");
          break;
        }
        highest = sample.term();
      }
    }

    votedTwice(history.votes(), violations);
    restartedInAnOlderTerm(history.loggedTerms(), violations);

    Map<String, Request> byKey = new HashMap<>();
    acknowledged.forEach(r -> byKey.put(r.key(), r));
    for (var node : new TreeMap<>(history.rolledBack()).entrySet()) {
      for (Entry entry : node.getValue()) {
        Request request = entry.key() == null ? null : byKey.get(entry.key());
        if (request != null && request.index() == entry.index() && request.term() == entry.term()) {
          violations.add("rolled back after acknowledgement: write " + entry.key() + " (index " + entry.index()
              + ", term " + entry.term() + ") is in node " + node.getKey() + "'s rollback");
        }
      }
    }

    int unacknowledged = history.requests().size() - acknowledged.size();
    return new Result(acknowledged.size(), lost, duplicated, divergent, history.faults().size(), maxCoordinators,
        unavailableMs(history.requests()), unacknowledged, longestGapMs(history.requests()), violations);
  }

  /** A node's vote is its promise for a term: two candidates in one term could both win it. */
  private static void votedTwice(List<History.Vote> votes, List<String> violations) {
    Map<String, Set<Integer>> candidates = new TreeMap<>();
    for (History.Vote vote : votes) {
      candidates.computeIfAbsent("node " + vote.node() + " in term " + vote.term(), k -> new TreeSet<>()).add(vote.candidate());
    }
    candidates.forEach((voter, voted) -> {
      if (voted.size() > 1) {
        violations.add("voted twice: " + voter + " voted for nodes " + voted);
      }
    });
  }

  /** A node restarts in the highest term its earlier lives logged, or later: a term it forgot could be voted in again. */
  private static void restartedInAnOlderTerm(Map<Integer, List<History.LoggedTerm>> loggedTerms, List<String> violations) {
    for (var node : new TreeMap<>(loggedTerms).entrySet()) {
      long highest = 0;
      for (History.LoggedTerm logged : node.getValue()) {
        if (logged.restored() && logged.term() < highest) {
          violations.add("term went down across a restart: node " + node.getKey() + " had logged term " + highest
              + " and restarted in term " + logged.term());
        }
        highest = Math.max(highest, logged.term());
      }
    }
  }

  /** Committed logs must agree entry by entry; one that ends early is behind, which the caller waited out. */
  private static int divergence(Map<Integer, List<Entry>> committed, List<String> violations) {
    int divergent = 0;
    List<Integer> nodes = new ArrayList<>(new TreeSet<>(committed.keySet()));
    if (nodes.isEmpty()) {
      return 0;
    }
    int reference = nodes.get(0);
    List<Entry> expected = committed.get(reference);
    for (int node : nodes.subList(1, nodes.size())) {
      List<Entry> log = committed.get(node);
      if (log.size() != expected.size()) {
        divergent++;
        violations.add("divergent: node " + node + "'s committed log has " + log.size() + " entries, node " + reference
            + "'s has " + expected.size());
        continue;
      }
      for (int i = 0; i < log.size(); i++) {
        if (!log.get(i).equals(expected.get(i))) {
          divergent++;
          violations.add("divergent: at index " + expected.get(i).index() + " node " + reference + " has " + expected.get(i)
              + " but node " + node + " has " + log.get(i));
          break;
        }
      }
    }
    return divergent;
  }

  /** The longest stretch between two acknowledgements (a write acknowledged at its end, another at its start). */
  static long longestGapMs(List<Request> requests) {
    List<Long> acks = requests.stream().filter(Request::acknowledged).map(Request::endMs).sorted().toList();
    long longest = 0;
    for (int i = 1; i < acks.size(); i++) {
      longest = Math.max(longest, acks.get(i) - acks.get(i - 1));
    }
    return longest;
  }

  /** Total time of stretches longer than {@link #UNAVAILABLE_AFTER_MS} in which no write was acknowledged. */
  static long unavailableMs(List<Request> requests) {
    List<Long> acks = requests.stream().filter(Request::acknowledged).map(Request::endMs).sorted().toList();
    long total = 0;
    for (int i = 1; i < acks.size(); i++) {
      long gap = acks.get(i) - acks.get(i - 1);
      if (gap > UNAVAILABLE_AFTER_MS) {
        total += gap;
      }
    }
    return total;
  }
}
