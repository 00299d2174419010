package dev.bully.driver;

import dev.bully.core.Envelope;

/**
 * The network as the driver uses it: messages to other nodes, each sent at most once and maybe
 * lost. The node's goes over the clustered event bus; the simulator's over a simulated network.
 */
public interface Transport {
  /** Sends a message whose entries are all in it (none left to fill from the store). */
  void send(Envelope envelope);

  /** Whether {@code nodeId} could receive a message now: a message to a node that is gone is not worth a store read. */
  boolean reaches(int nodeId);
}
