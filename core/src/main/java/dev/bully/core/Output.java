package dev.bully.core;

import java.util.List;

/**
 * What the driver must do after one input, in this order: make {@link #logWrite()} and
 * {@link #persist()} durable (when not null) and wait for it, then send {@link #messages()}, then
 * publish the events and, when {@link #statusChanged()}, the node's status. Sending only after
 * persisting is what makes a promise, a term or an acknowledged entry survive any crash that the
 * receiver could have observed. After a log write the driver reports it back with
 * {@link Election#localPersisted}. {@link #commitIndex()} is the new commit index, or -1 when it
 * did not move; writes up to it can be acknowledged once the output is durable.
 *
 * <p>One exception to "persist, then send": when {@link #sendsFirst()}, the driver may send the
 * messages at once, while the log write is still on its way to the store. That is a coordinator
 * shipping entries of its own term that it has just appended (a new term's no-op, client writes),
 * with no term or promise to persist and nothing removed. It is safe because the coordinator
 * counts its own copy toward a majority only once its store reported it durable; if it crashes
 * first, the entries are uncommitted entries that followers may hold and it may lack, which the
 * log-matching rules already handle (Raft's leader writes to its disk in parallel the same way).
 *
 * <p>The other exception is a claim: the claimer's new term and its promise to itself may still be
 * on their way to the store when its claims leave. Nothing that others rely on depends on that
 * write until the claimer leads, and every later output waits for it (the driver holds outputs
 * behind a pending term or promise), so its announcement leaves only once the write is durable.
 * If it crashes first, it never led; back in that term without its promise it may acknowledge a
 * rival, which cannot win either if the claimer had a majority: those voters persisted their
 * promise to the claimer before acknowledging.
 *
 * <p>{@link #reads()}, when not null, says that the linearizable reads waiting for rounds up to
 * its round may be answered once the state is applied up to its index; they depend on nothing
 * this output persists.
 *
 * <p>{@link #install()}, when not null, is a step of installing a snapshot of the documents: made
 * durable before the log write, since the log write of a snapshot's last step says the log begins
 * after the snapshot, which is true only once its documents are in the store. The begin's pull
 * of the first chunk sends first (that chunk is stored after the begin, in order); a chunk's pull
 * of the next leaves once the chunk is stored, so a follower never holds more than one chunk that
 * waits for its store (its coordinator reads the next one ahead meanwhile).
 */
public record Output(DurableState persist, LogWrite logWrite, List<Envelope> messages, List<ProtocolEvent> events,
                     boolean statusChanged, long commitIndex, boolean sendsFirst, Reads reads, SnapshotStep install) {
  public static final Output NONE = new Output(null, null, List.of(), List.of(), false, -1, false, null, null);

  public Output(DurableState persist, LogWrite logWrite, List<Envelope> messages, List<ProtocolEvent> events,
                boolean statusChanged, long commitIndex, boolean sendsFirst, Reads reads) {
    this(persist, logWrite, messages, events, statusChanged, commitIndex, sendsFirst, reads, null);
  }

  /** Reads waiting for rounds up to {@code round} see every write committed before they arrived at or below {@code index}. */
  public record Reads(long round, long index) {
  }

  public Output {
    messages = List.copyOf(messages);
    events = List.copyOf(events);
  }

  public boolean isEmpty() {
    return persist == null && logWrite == null && messages.isEmpty() && events.isEmpty() && !statusChanged && commitIndex < 0
        && reads == null && install == null;
  }

  /** Whether the driver must write to its store before sending. */
  public boolean needsPersisting() {
    return persist != null || logWrite != null || install != null;
  }
}
