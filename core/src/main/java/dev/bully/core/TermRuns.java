package dev.bully.core;

import java.util.ArrayList;
import java.util.List;

/** The terms of a log's entries as runs ({@link TermRun}), oldest first; the log's end is kept by the caller. */
final class TermRuns {
  private final ArrayList<TermRun> runs = new ArrayList<>();

  /** The entry at {@code index} (from 1, within the log) has {@code term}; entries arrive in index order. */
  void add(long index, long term) {
    if (runs.isEmpty() || runs.get(runs.size() - 1).term() != term) {
      runs.add(new TermRun(index, term));
    }
  }

  /** The term of the entry at {@code index}, which the caller knows to be in the log. */
  long termAt(long index) {
    return runs.get(runAt(index)).term();
  }

  /** The first index of the run that holds {@code index}: where the entries of that term begin. */
  long firstIndexOfRunAt(long index) {
    return runs.get(runAt(index)).firstIndex();
  }

  private int runAt(long index) {
    int low = 0;
    int high = runs.size() - 1;
    // Nearly every lookup is near the end of the log: try the last run first.
    if (high >= 0 && runs.get(high).firstIndex() <= index) {
      return high;
    }
    while (low < high) {
      int middle = (low + high + 1) >>> 1;
      if (runs.get(middle).firstIndex() <= index) {
        low = middle;
      } else {
        high = middle - 1;
      }
    }
    return low;
  }

  /** Forgets the entries from {@code index} on. */
  void truncateFrom(long index) {
    while (!runs.isEmpty() && runs.get(runs.size() - 1).firstIndex() >= index) {
      runs.remove(runs.size() - 1);
    }
  }

  /**
   * Forgets the terms of the entries before {@code index}, which must be in the log: the run that
   * holds it now begins there.
   */
  void forgetBefore(long index) {
    int keep = runAt(index);
    TermRun first = new TermRun(index, runs.get(keep).term());
    runs.subList(0, keep).clear();
    runs.set(0, first);
  }

  /** The log is now only the entry at {@code index}, of {@code term}: a snapshot's last one. */
  void resetTo(long index, long term) {
    runs.clear();
    runs.add(new TermRun(index, term));
  }

  List<TermRun> asList() {
    return List.copyOf(runs);
  }
}
