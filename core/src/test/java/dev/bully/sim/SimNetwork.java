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
 *
 * <p>A replayer ({@link #replayRate}) stands for someone on the network who records authentic
 * messages and sends old ones again, seconds later, to the node they were for (the seal binds
 * the receiver) and to whatever process now runs there: a sender without the secret can do no
 * more than that, since a forged message never reaches the replica.
 */
final class SimNetwork {
  // The faults, changed by the histories.
  double lossRate;
  double duplicateRate;
  long delayMinMs = 0;
  long delayMaxMs = 2;
  double slowRate;
  long slowDelayMaxMs = 100;
  double replayRate;
  long replayDelayMaxMs = 3_000;

  private final Simulation sim;
  private final SplittableRandom random;
  private final Set<Long> blockedLinks = new HashSet<>();
  private final Map<String, Long> sentByType = new TreeMap<>();
  /** The replayer's own randomness, so that histories without replays are the same as before it existed. */
  private final SplittableRandom replayRandom;
  private final Envelope[] recorded = new Envelope[256];
  private long recordedCount;
  private long replayed;
  private long replaying;

  SimNetwork(Simulation sim, SplittableRandom random, long seed) {
    this.sim = sim;
    this.random = random;
    this.replayRandom = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + 11);
  }

  /** How many old messages the replayer sent again. */
  long replayed() {
    return replayed;
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
    replayRate = 0;
    replaying++; // and the replays still on their way do not arrive
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
    if (replayRate > 0) {
      recorded[(int) (recordedCount++ % recorded.length)] = envelope;
      if (replayRandom.nextDouble() < replayRate) {
        replay(recorded[replayRandom.nextInt((int) Math.min(recordedCount, recorded.length))]);
      }
    }
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

  /** An old message again, whatever the partitions, to the process that runs at its receiver when it arrives. */
  private void replay(Envelope old) {
    replayed++;
    SimNode target = sim.node(old.to());
    long generation = replaying;
    sim.schedule(sim.now() + 1 + replayRandom.nextLong(replayDelayMaxMs), target, () -> {
      if (generation == replaying) {
        target.deliver(target.incarnation, old.message());
      }
    });
  }

  private static long link(int from, int to) {
    return ((long) from << 32) | to;
  }
}
