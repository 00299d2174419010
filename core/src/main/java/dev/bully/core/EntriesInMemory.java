package dev.bully.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * The newest entries of a log that memory holds, consecutive from {@link #first()}, with the text
 * of any run of them at hand: for each entry, the characters of every entry added since, up to and
 * including it ({@link WriteLimits#entryChars}), so a run's text is one subtraction. Which entries
 * may leave is the log's rule ({@link ReplicatedLog#release}); this class only holds them.
 */
final class EntriesInMemory {
  private final ArrayList<LogEntry> entries = new ArrayList<>();
  private long[] charsThrough = new long[64];
  /** {@link #charsThrough} of the entry before {@link #first()}. */
  private long charsBefore;
  private long first = 1;

  /** The index of the oldest entry held; one past the newest when none is. */
  long first() {
    return first;
  }

  /** The index of the newest entry held; {@code first() - 1} when none is. */
  long last() {
    return first + entries.size() - 1;
  }

  /** Holds nothing, and the next entry added is {@code index}. */
  void startAt(long index) {
    entries.clear();
    charsBefore = 0;
    first = index;
  }

  /** Adds the entry after {@link #last()}. */
  void add(LogEntry entry) {
    if (entries.size() == charsThrough.length) {
      charsThrough = Arrays.copyOf(charsThrough, charsThrough.length * 2);
    }
    charsThrough[entries.size()] = charsThrough(last()) + WriteLimits.entryChars(entry);
    entries.add(entry);
  }

  LogEntry get(long index) {
    return entries.get((int) (index - first));
  }

  /** Up to {@code max} entries from {@code from} on: none before {@link #first()}. */
  List<LogEntry> slice(long from, int max) {
    long start = Math.max(from, first);
    if (start > last() || max <= 0) {
      return List.of();
    }
    long end = Math.min(last(), from + (long) max - 1);
    if (end < start) {
      return List.of();
    }
    return copy(start, end);
  }

  /** Up to {@code max} entries from {@code from} on, holding at most {@code maxChars} of text together, but always the first. */
  List<LogEntry> slice(long from, int max, long maxChars) {
    long start = Math.max(from, first);
    if (start > last() || max <= 0) {
      return List.of();
    }
    long end = Math.min(last(), start + (long) max - 1);
    long budget = charsThrough(start - 1) + maxChars;
    while (end > start && charsThrough(end) > budget) {
      end = start + (end - start) / 2; // halve until it fits, then grow back one at a time below
    }
    while (end < Math.min(last(), start + (long) max - 1) && charsThrough(end + 1) <= budget) {
      end++;
    }
    return copy(start, end);
  }

  private List<LogEntry> copy(long start, long end) {
    return Collections.unmodifiableList(new ArrayList<>(entries.subList((int) (start - first), (int) (end - first + 1))));
  }

  /** The characters of text of the entries from {@code from} to {@code to}, both held. */
  long chars(long from, long to) {
    return to < from ? 0 : charsThrough(to) - charsThrough(from - 1);
  }

  private long charsThrough(long index) {
    return index < first ? charsBefore : charsThrough[(int) (index - first)];
  }

  /** Entries up to {@code index} leave memory. */
  void dropUpTo(long index) {
    int count = (int) (Math.min(index, last()) - first + 1);
    if (count > 0) {
      charsBefore = charsThrough(first + count - 1);
      entries.subList(0, count).clear();
      System.arraycopy(charsThrough, count, charsThrough, 0, entries.size());
      first += count;
    }
  }

  /** Removes the entries from {@code index} on, which must be held, and returns them. */
  List<LogEntry> removeFrom(long index) {
    int from = (int) (index - first);
    List<LogEntry> tail = new ArrayList<>(entries.subList(from, entries.size()));
    // (charsThrough past the new end is overwritten as entries are added again.)
    entries.subList(from, entries.size()).clear();
    return tail;
  }
}
