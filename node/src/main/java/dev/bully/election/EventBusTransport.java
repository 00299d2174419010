package dev.bully.election;

import dev.bully.config.NodeConfig;
import dev.bully.core.Envelope;
import dev.bully.core.Message;
import dev.bully.driver.Transport;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.util.HashSet;
import java.util.Set;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The protocol's messages over the clustered event bus, to and from {@code bully.<cluster>.node.<id>}:
 * encoded and decoded by the {@link MessageCodec}, sealed and opened by the {@link MessageSeal}; what does
 * not verify or does not decode is dropped, counted and logged ({@link Rejections}).
 *
 * <p>A message to a node the cluster manager does not see as a member is not sent: no consumer can
 * exist for its address, and the event bus would look it up in the cluster manager on every try
 * and drop it anyway. The replica treats it as a lost message, as it must any.
 */
final class EventBusTransport implements Transport {
  private static final Logger log = LoggerFactory.getLogger(EventBusTransport.class);

  private final EventBus eventBus;
  private final NodeConfig config;
  private final MessageCodec codec;
  private final MessageSeal seal;
  private final Rejections rejections;
  private final Consumer<String> sent;
  private Set<Integer> members = Set.of();

  /** {@code sent} is told the type of every message sent, for the node's counts; {@code rejections} of every message refused. */
  EventBusTransport(EventBus eventBus, NodeConfig config, long incarnation, Rejections rejections, Consumer<String> sent) {
    this.eventBus = eventBus;
    this.config = config;
    this.rejections = rejections;
    this.sent = sent;
    this.seal = new MessageSeal(config.clusterName(), config.clusterSecret(), config.nodeId(), incarnation);
    Set<Integer> ids = new HashSet<>();
    config.members().forEach(m -> ids.add(m.id()));
    this.codec = new MessageCodec(config.clusterName(), ids);
  }

  /** Delivers this node's messages to {@code receiver}, on the caller's context; keep-alive probes are answered here. */
  MessageConsumer<Object> listen(Consumer<Message> receiver) {
    return eventBus.consumer(Addresses.node(config.clusterName(), config.nodeId()), delivery -> {
      Object body = delivery.body();
      if (PeerLinks.isKeepAlive(body)) {
        PeerLinks.answer(delivery);
        return;
      }
      if (!(body instanceof Buffer sealed)) {
        rejections.unauthenticated();
        return;
      }
      MessageSeal.Result result = seal.open(sealed);
      if (result.refusal() == MessageSeal.Refusal.UNAUTHENTICATED) {
        rejections.unauthenticated();
        return;
      }
      if (result.refusal() == MessageSeal.Refusal.REPLAYED) {
        rejections.replayed();
        return;
      }
      Message message;
      try {
        message = codec.decode(new JsonObject(result.opened().json()));
      } catch (MessageCodec.InvalidMessage | DecodeException e) {
        rejections.malformed(e.getMessage());
        return;
      }
      if (message.from() != result.opened().from()) {
        rejections.malformed("sealed by node " + result.opened().from() + " but from node " + message.from());
        return;
      }
      receiver.accept(message);
    });
  }

  /** The configured nodes the cluster manager sees now. */
  void membersChanged(Set<Integer> current) {
    members = Set.copyOf(current);
  }

  @Override
  public boolean reaches(int nodeId) {
    return members.contains(nodeId);
  }

  @Override
  public void send(Envelope envelope) {
    Message message = envelope.message();
    if (!reaches(envelope.to())) {
      return;
    }
    sent.accept(message.type());
    try {
      eventBus.send(Addresses.node(config.clusterName(), envelope.to()), seal.seal(envelope.to(), codec.encode(message).toBuffer()));
    } catch (RuntimeException e) {
      // Seen from the clustered event bus when the connection to the receiver breaks under the send
      // ("Promise already completed"): for the protocol, a lost message.
      log.warn("Node {} could not send {} to node {}: {}", config.nodeId(), message.type(), envelope.to(), e.toString());
    }
  }
}
