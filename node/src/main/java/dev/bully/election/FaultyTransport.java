package dev.bully.election;

import dev.bully.core.Envelope;
import dev.bully.core.Message;
import dev.bully.driver.Transport;
import java.util.function.Consumer;
import org.slf4j.Logger;

/**
 * The chaos faults that touch the network, around the real transport: installed only when chaos is
 * enabled. Drops what {@link ChaosFaults} says to drop, both ways, and dies (as abruptly as kill -9)
 * where a fault was armed: on the first election message received, or after the first
 * announcement of a new term has reached one peer.
 */
final class FaultyTransport implements Transport {
  private static final Logger transcript = StatusReports.transcript;

  private final int nodeId;
  private final Transport network;
  private final ChaosFaults faults;
  /** The highest term this node has announced itself in (sent a heartbeat of). */
  private long announcedTerm;

  FaultyTransport(int nodeId, Transport network, ChaosFaults faults) {
    this.nodeId = nodeId;
    this.network = network;
    this.faults = faults;
  }

  @Override
  public boolean reaches(int node) {
    return network.reaches(node);
  }

  @Override
  public void send(Envelope envelope) {
    if (faults.dropsTo(envelope.to())) {
      return; // a chaos partition
    }
    network.send(envelope);
    if (envelope.message() instanceof Message.Heartbeat heartbeat && heartbeat.term() > announcedTerm) {
      announcedTerm = heartbeat.term();
      if (faults.diesDuringAnnouncement()) {
        transcript.info("Node {} dies during its announcement (chaos), after telling node {}", nodeId, envelope.to());
        Runtime.getRuntime().halt(137);
      }
    }
  }

  /** What this node receives, through the faults: dropped from a cut-off node, or dying on an election message. */
  Consumer<Message> receiving(Consumer<Message> receiver) {
    return message -> {
      if (faults.dropsFrom(message.from())) {
        return; // a chaos partition
      }
      if (faults.diesOnElectionMessage(message)) {
        transcript.info("Node {} dies during the election (chaos), on {} from node {}", nodeId, message.type(), message.from());
        Runtime.getRuntime().halt(137);
      }
      receiver.accept(message);
    };
  }
}
