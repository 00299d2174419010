package dev.bully.core;

import java.util.ArrayList;
import java.util.List;

/** Collects one input's effects; the persisted state is the node's state at the end of the input. */
final class OutputBuilder {
  private final long termAtStart;
  private boolean persist;
  private boolean statusChanged;
  private final List<Envelope> messages = new ArrayList<>();
  private final List<ProtocolEvent> events = new ArrayList<>();

  OutputBuilder(long termAtStart) {
    this.termAtStart = termAtStart;
  }

  void persist() {
    persist = true;
  }

  void statusChanged() {
    statusChanged = true;
  }

  void send(int to, Message message) {
    messages.add(new Envelope(to, message));
  }

  void event(ProtocolEvent event) {
    events.add(event);
  }

  Output build(DurableState state) {
    boolean changed = statusChanged || state.term() != termAtStart;
    if (!persist && !changed && messages.isEmpty() && events.isEmpty()) {
      return Output.NONE;
    }
    return new Output(persist ? state : null, messages, events, changed);
  }
}
