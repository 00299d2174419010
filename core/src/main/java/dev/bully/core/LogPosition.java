package dev.bully.core;

/**
 * The position of a log's last entry, which orders logs by how up to date they are: a later term
 * wins, and within one term the longer log wins. The empty log is {@link #EMPTY}.
 *
 * @param term  the term of the last entry, 0 for the empty log
 * @param index the index of the last entry, 0 for the empty log
 */
public record LogPosition(long term, long index) implements Comparable<LogPosition> {

  public static final LogPosition EMPTY = new LogPosition(0, 0);

  @Override
  public int compareTo(LogPosition other) {
    int byTerm = Long.compare(term, other.term);
    return byTerm != 0 ? byTerm : Long.compare(index, other.index);
  }

  /** Whether this log is at least as up to date as {@code other}. */
  public boolean isAtLeast(LogPosition other) {
    return compareTo(other) >= 0;
  }

  @Override
  public String toString() {
    return "(" + term + ", " + index + ")";
  }
}
