package dev.bully.core;

import java.util.List;

/**
 * What a follower made of an APPEND: accepted up to {@code index}; a mismatch (back up to
 * {@code index}); or, with a {@code violation}, refused as impossible from a correct coordinator.
 *
 * @param removed  the suffix that disagreed with the coordinator, to keep in rollback
 * @param appended the entries newly added, to persist
 */
public record AppendResult(boolean ok, long index, List<LogEntry> removed, List<LogEntry> appended, String violation) {
  static AppendResult mismatch(long backUpTo) {
    return new AppendResult(false, backUpTo, List.of(), List.of(), null);
  }

  static AppendResult accepted(long matchIndex, List<LogEntry> removed, List<LogEntry> appended) {
    return new AppendResult(true, matchIndex, List.copyOf(removed), List.copyOf(appended), null);
  }

  static AppendResult violation(String why) {
    return new AppendResult(false, 0, List.of(), List.of(), why);
  }
}
