package dev.bully.tools.chaos;

import dev.bully.tools.chaos.History.Coordinator;
import dev.bully.tools.chaos.History.LoggedTerm;
import dev.bully.tools.chaos.History.Vote;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the nodes' own logs say they did: who led which term, who voted for whom, and which terms
 * each node was in. A node logs a protocol event only once what it says is durable, so these are
 * the facts a power loss must not undo. A restarted node's log keeps its earlier lives before the
 * new one.
 */
record NodeLogFacts(List<Coordinator> coordinators, List<Vote> votes, Map<Integer, List<LoggedTerm>> terms) {
  private static final Pattern COORDINATOR = Pattern.compile("Node (\\d+) is coordinator of term (\\d+)");
  private static final Pattern ACKNOWLEDGED = Pattern.compile("Node (\\d+) acknowledged node (\\d+) for term (\\d+)");
  /** A claim is the claimer's vote for itself, whether or not the claim then succeeds. */
  private static final Pattern CLAIMED = Pattern.compile("Node (\\d+) (?:claims|failed to claim) term (\\d+)");
  private static final Pattern RESTORED = Pattern.compile("Node (\\d+) restored term (\\d+)");
  private static final Pattern MOVED = Pattern.compile("Node (\\d+) moved from term (\\d+) to term (\\d+)");
  private static final Pattern FOLLOWS = Pattern.compile("Node (\\d+) follows coordinator \\d+ \\(term (\\d+)\\)");

  /** The facts in the logs of every node of {@code nodes} (none for an attached cluster, whose logs are not here). */
  static NodeLogFacts read(Nodes nodes) {
    Map<Integer, List<String>> lines = new TreeMap<>();
    nodes.ids().forEach(id -> lines.put(id, nodes.logLines(id)));
    return of(lines);
  }

  static NodeLogFacts of(Map<Integer, List<String>> linesByNode) {
    List<Coordinator> coordinators = new ArrayList<>();
    List<Vote> votes = new ArrayList<>();
    Map<Integer, List<LoggedTerm>> terms = new TreeMap<>();
    linesByNode.forEach((id, lines) -> {
      List<LoggedTerm> nodeTerms = new ArrayList<>();
      for (String line : lines) {
        Matcher m;
        if ((m = COORDINATOR.matcher(line)).find()) {
          coordinators.add(new Coordinator(number(m, 1), term(m, 2), 0));
          nodeTerms.add(new LoggedTerm(term(m, 2), false));
        } else if ((m = ACKNOWLEDGED.matcher(line)).find()) {
          votes.add(new Vote(number(m, 1), term(m, 3), number(m, 2)));
          nodeTerms.add(new LoggedTerm(term(m, 3), false));
        } else if ((m = CLAIMED.matcher(line)).find()) {
          votes.add(new Vote(number(m, 1), term(m, 2), number(m, 1)));
          nodeTerms.add(new LoggedTerm(term(m, 2), false));
        } else if ((m = RESTORED.matcher(line)).find()) {
          nodeTerms.add(new LoggedTerm(term(m, 2), true));
        } else if ((m = MOVED.matcher(line)).find()) {
          nodeTerms.add(new LoggedTerm(term(m, 3), false));
        } else if ((m = FOLLOWS.matcher(line)).find()) {
          nodeTerms.add(new LoggedTerm(term(m, 2), false));
        }
      }
      terms.put(id, List.copyOf(nodeTerms));
    });
    return new NodeLogFacts(List.copyOf(coordinators), List.copyOf(votes), Map.copyOf(terms));
  }

  private static int number(Matcher m, int group) {
    return Integer.parseInt(m.group(group));
  }

  private static long term(Matcher m, int group) {
    return Long.parseLong(m.group(group));
  }
}
