package dev.bully.core;

import java.util.ArrayList;
import java.util.List;

/**
 * A run of consecutive log entries of one term, from {@code firstIndex} up to the next run's first
 * index (or the log's end). A log's terms are a handful of runs, one per coordinator that appended
 * to it, so a node knows the term of every entry without holding the entries.
 */
public record TermRun(long firstIndex, long term) {

  /** The runs of consecutive entries, oldest first. */
  public static List<TermRun> of(List<LogEntry> entries) {
    List<TermRun> runs = new ArrayList<>();
    for (LogEntry entry : entries) {
      if (runs.isEmpty() || runs.get(runs.size() - 1).term() != entry.term()) {
        runs.add(new TermRun(entry.index(), entry.term()));
      }
    }
    return runs;
  }
}
