package dev.bully.election;

import dev.bully.core.Message;
import dev.bully.core.Output;
import dev.bully.core.ProtocolEvent;

/**
 * Faults that no signal can make, armed through the admin chaos API (only when chaos is enabled
 * and the request carries the admin token): die in the middle of announcing a win, or die on the
 * first election message. Dying is {@code Runtime.halt}, as abrupt as kill -9.
 */
final class ChaosFaults {
  private boolean dieDuringAnnouncement;
  private boolean dieDuringElection;

  void armDieDuringAnnouncement() {
    dieDuringAnnouncement = true;
  }

  void armDieDuringElection() {
    dieDuringElection = true;
  }

  /** Whether this output announces a win that the node must not finish announcing. */
  boolean diesDuringAnnouncement(Output output) {
    return dieDuringAnnouncement && output.events().stream().anyMatch(e -> e.kind() == ProtocolEvent.Kind.COORDINATOR);
  }

  boolean diesOnElectionMessage(Message message) {
    return dieDuringElection && (message instanceof Message.Election || message instanceof Message.Claim);
  }
}
