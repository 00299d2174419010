package dev.bully.core;

/**
 * The Bully order: who should lead, as one total order (ZooKeeper's {@code totalOrderPredicate}).
 * A log with a later last term ranks higher; within one term the longer log; between equal logs
 * the higher id. So the node that should claim is the highest-ranked live one: the highest id
 * among the nodes that are up to date.
 *
 * <p>This orders candidates only. Whether a voter may acknowledge a claim is a separate rule of
 * safety, on logs alone ({@link LogPosition#isAtLeast}): a claimer whose log is as good as the
 * voter's is acknowledged whatever their ids.
 *
 * @param log the position of the node's last entry
 * @param id  the node's id
 */
record BullyRank(LogPosition log, int id) implements Comparable<BullyRank> {

  @Override
  public int compareTo(BullyRank other) {
    int byLog = log.compareTo(other.log);
    return byLog != 0 ? byLog : Integer.compare(id, other.id);
  }

  /** Whether this node should lead rather than {@code other}. */
  boolean outranks(BullyRank other) {
    return compareTo(other) > 0;
  }

  @Override
  public String toString() {
    return "node " + id + " with log " + log;
  }
}
