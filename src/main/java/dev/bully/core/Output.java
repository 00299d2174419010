package dev.bully.core;

import java.util.List;

/**
 * What the driver must do after one input, in this order: persist {@link #persist()} (when not
 * null) and wait until it is durable, then send {@link #messages()}, then publish the events and,
 * when {@link #statusChanged()}, the node's status. Sending only after persisting is what makes a
 * promise or a term survive any crash that the receiver could have observed.
 */
public record Output(DurableState persist, List<Envelope> messages, List<ProtocolEvent> events, boolean statusChanged) {
  public static final Output NONE = new Output(null, List.of(), List.of(), false);

  public Output {
    messages = List.copyOf(messages);
    events = List.copyOf(events);
  }

  public boolean isEmpty() {
    return persist == null && messages.isEmpty() && events.isEmpty() && !statusChanged;
  }
}
