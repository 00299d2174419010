package dev.bully.core;

import java.util.ArrayList;
import java.util.List;

/** Collects one input's effects; the persisted state is the node's state at the end of the input. */
final class OutputBuilder {
  private final long termAtStart;
  private boolean persist;
  private boolean statusChanged;
  private long commitIndex = -1;
  private final List<LogEntry> removed = new ArrayList<>();
  private long replacedInTerm;
  private final List<LogEntry> appended = new ArrayList<>();
  private long lastIndex = -1;
  private final List<Envelope> messages = new ArrayList<>();
  private final List<ProtocolEvent> events = new ArrayList<>();
  private boolean shipsOwnEntries;
  private Output.Reads reads;
  private SnapshotStep install;
  private long resetIndex;
  private long resetTerm;

  OutputBuilder(long termAtStart) {
    this.termAtStart = termAtStart;
  }

  void persist() {
    persist = true;
  }

  /** The coordinator appended entries of its own term and ships them in this output (see {@link Output#sendsFirst()}). */
  void shipsOwnEntries() {
    shipsOwnEntries = true;
  }

  void statusChanged() {
    statusChanged = true;
  }

  void send(int to, Message message) {
    messages.add(new Envelope(to, message));
  }

  void sendAll(List<Envelope> envelopes) {
    messages.addAll(envelopes);
  }

  void event(ProtocolEvent event) {
    events.add(event);
  }

  void rollback(List<LogEntry> entries, long term) {
    if (!appended.isEmpty()) {
      // Entries appended earlier in this input are gone again: they never reach the store.
      appended.removeIf(e -> e.index() >= entries.get(0).index());
    }
    removed.addAll(entries);
    replacedInTerm = term;
  }

  void append(List<LogEntry> entries, long lastIndexAfter) {
    appended.addAll(entries);
    lastIndex = lastIndexAfter;
  }

  void committed(long index) {
    commitIndex = index;
    statusChanged = true;
  }

  /** A step of installing a snapshot, durable before the log write and the messages. */
  void install(SnapshotStep step) {
    install = step;
  }

  /** A snapshot took the log's place: it begins after {@code index}, of {@code term} (after any rollback). */
  void reset(long index, long term) {
    resetIndex = index;
    resetTerm = term;
    lastIndex = index;
  }

  void readsConfirmed(long round, long index) {
    reads = new Output.Reads(round, index);
  }

  /** A claim: this output persists only the claimer's new term and its promise to itself, and sends only its claims. */
  private boolean claimsOnly(DurableState state, LogWrite logWrite) {
    return persist && logWrite == null && !messages.isEmpty() && messages.stream().allMatch(envelope ->
        envelope.message() instanceof Message.Claim claim && !claim.preVote() && claim.from() == state.promisedTo()
            && claim.term() == state.term());
  }

  /** The output of the input; {@code commitIndex} is the log's commit index at its end, kept with a log write. */
  Output build(DurableState state, long logCommitIndex) {
    boolean changed = statusChanged || state.term() != termAtStart;
    LogWrite logWrite = lastIndex < 0 && removed.isEmpty() ? null
        : new LogWrite(removed, replacedInTerm, appended, lastIndex, logCommitIndex, resetIndex, resetTerm);
    if (!persist && logWrite == null && !changed && messages.isEmpty() && events.isEmpty() && commitIndex < 0 && reads == null
        && install == null) {
      return Output.NONE;
    }
    // A snapshot's first chunk is asked for at once (it is stored after the begin, in order); each next one once the chunk
    // before is stored, so a follower that stores slower than its coordinator reads holds one chunk at a time, not a
    // queue of them; the coordinator reads the next chunk ahead meanwhile.
    boolean pullsFirst = install != null && install.begins() && !persist && logWrite == null;
    boolean sendsFirst = (shipsOwnEntries && !persist && removed.isEmpty() || claimsOnly(state, logWrite)) && install == null
        || pullsFirst;
    return new Output(persist ? state : null, logWrite, messages, events, changed, commitIndex, sendsFirst, reads, install);
  }
}
