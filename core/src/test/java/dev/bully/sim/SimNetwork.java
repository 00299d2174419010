package dev.bully.sim;

import dev.bully.core.Envelope;
import dev.bully.core.Message;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * The simulated network: each message is delayed by a random while (sometimes a long one), maybe
 * lost, maybe duplicated, so messages also overtake each other; links can be cut one way or both.
 * A message reaches only the process it was sent to: one that crashed meanwhile never gets it.
 */
final class SimNetwork {
  // The faults, changed by the histories.
  double lossRate;
  double duplicateRate;
  long delayMinMs = 0;
  long delayMaxMs = 2;
  double slowRate;
  long slowDelayMaxMs = 100;

  private final Simulation sim;
  private final SplittableRandom random;
  private final Set<Long> blockedLinks = new HashSet<>();
  private final Map<String, Long> sentByType = new TreeMap<>();

  SimNetwork(Simulation sim, SplittableRandom random) {
    this.sim = sim;
    this.random = random;
  }

  /** Cuts the link from {@code from} to {@code to}; the other direction is untouched. */
  void cut(int from, int to) {
    blockedLinks.add(link(from, to));
  }

  void heal() {
    blockedLinks.clear();
  }

  /** No more loss, duplication or long delays. */
  void calm() {
    lossRate = 0;
    duplicateRate = 0;
    slowRate = 0;
    delayMinMs = 0;
    delayMaxMs = 2;
  }

  /** How many messages of each type went over each link, for a history that floods. */
  Map<String, Long> sentByType() {
    return Map.copyOf(sentByType);
  }

  /** A message from node {@code from}: maybe lost, delayed, duplicated, or cut off by a partition. */
  void send(int from, Envelope envelope) {
    Message message = envelope.message();
    sentByType.merge(message.type() + " " + from + "->" + envelope.to(), 1L, Long::sum);
    if (blockedLinks.contains(link(from, envelope.to())) || random.nextDouble() < lossRate) {
      return;
    }
    deliverLater(envelope.to(), message);
    if (random.nextDouble() < duplicateRate) {
      deliverLater(envelope.to(), message);
    }
  }

  private void deliverLater(int to, Message message) {
    long delay = delayMinMs + random.nextLong(delayMaxMs - delayMinMs + 1);
    if (random.nextDouble() < slowRate) {
      delay += random.nextLong(slowDelayMaxMs + 1);
    }
    SimNode target = sim.node(to);
    int incarnation = target.incarnation;
    sim.schedule(sim.now() + delay, target, () -> target.deliver(incarnation, message));
  }

  private static long link(int from, int to) {
    return ((long) from << 32) | to;
  }
}
