package dev.bully.election;

import dev.bully.core.Message;
import java.util.Collection;
import java.util.Set;
import java.util.TreeSet;

/**
 * Faults that no signal can make, armed through the admin chaos API (only when chaos is enabled
 * and the request carries the admin token): die in the middle of announcing a win, die on the
 * first election message, or drop protocol traffic to and from chosen nodes (a network partition,
 * one-way or both ways) until healed. Dying is {@code Runtime.halt}, as abrupt as kill -9. Dropped
 * traffic is only the protocol's: the cluster manager still sees the node as a member, as it would
 * across a partition that cuts the application's connections but not its own.
 */
final class ChaosFaults {
  private boolean dieDuringAnnouncement;
  private boolean dieDuringElection;
  private final Set<Integer> dropTo = new TreeSet<>();
  private final Set<Integer> dropFrom = new TreeSet<>();

  void armDieDuringAnnouncement() {
    dieDuringAnnouncement = true;
  }

  void armDieDuringElection() {
    dieDuringElection = true;
  }

  /** Whether the node must not finish announcing a win. */
  boolean diesDuringAnnouncement() {
    return dieDuringAnnouncement;
  }

  /** From now on, drops what this node sends to {@code to} and what it receives from {@code from}. */
  void drop(Collection<Integer> to, Collection<Integer> from) {
    dropTo.addAll(to);
    dropFrom.addAll(from);
  }

  void heal() {
    dropTo.clear();
    dropFrom.clear();
  }

  boolean dropsTo(int node) {
    return dropTo.contains(node);
  }

  boolean dropsFrom(int node) {
    return dropFrom.contains(node);
  }

  /** What is dropped now, for the admin API's answer. */
  String describeDrops() {
    return dropTo.isEmpty() && dropFrom.isEmpty() ? "nothing dropped" : "dropping to " + dropTo + ", from " + dropFrom;
  }

  /**
   * SIGSTOPs this process for {@code ms}, like a pause from outside: a detached shell is told to
   * SIGCONT it first, since a stopped process cannot wake itself.
   */
  static void pauseThisProcess(long ms) {
    long pid = ProcessHandle.current().pid();
    try {
      new ProcessBuilder("sh", "-c", "sleep " + (ms / 1000.0) + "; kill -CONT " + pid).start();
      new ProcessBuilder("kill", "-STOP", String.valueOf(pid)).start();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("could not pause node process " + pid, e);
    }
  }

  boolean diesOnElectionMessage(Message message) {
    return dieDuringElection && (message instanceof Message.Election || message instanceof Message.Claim);
  }
}
