package dev.bully.sim;

import java.util.PriorityQueue;
import java.util.function.Consumer;
import java.util.function.Supplier;

/** The simulation's virtual clock and what is due on it, in time order (ties in the order scheduled). */
final class EventQueue {
  /** Far more than any history here needs (a few hundred thousand at most). */
  private static final long MAX_EVENTS = 5_000_000;

  private record Event(long atMs, long sequence, SimNode node, Runnable action) implements Comparable<Event> {
    @Override
    public int compareTo(Event other) {
      int byTime = Long.compare(atMs, other.atMs);
      return byTime != 0 ? byTime : Long.compare(sequence, other.sequence);
    }
  }

  private final PriorityQueue<Event> queue = new PriorityQueue<>();
  private long now;
  private long sequence;
  private long eventsRun;

  long now() {
    return now;
  }

  /** Runs {@code action} at {@code atMs}, on behalf of {@code node} (null for none). */
  void schedule(long atMs, SimNode node, Runnable action) {
    queue.add(new Event(atMs, sequence++, node, action));
  }

  /**
   * Runs what is due up to {@code endMs}, telling {@code after} the node of each event; a history of
   * more than {@link #MAX_EVENTS} events fails with {@code flood}'s error.
   */
  void runUntil(long endMs, Consumer<SimNode> after, Supplier<AssertionError> flood) {
    while (!queue.isEmpty() && queue.peek().atMs() <= endMs) {
      if (++eventsRun > MAX_EVENTS) {
        throw flood.get();
      }
      Event event = queue.poll();
      now = event.atMs();
      event.action().run();
      if (event.node() != null) {
        after.accept(event.node());
      }
    }
    now = Math.max(now, endMs);
  }
}
