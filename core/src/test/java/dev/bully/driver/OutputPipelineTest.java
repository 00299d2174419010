package dev.bully.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bully.core.DurableState;
import dev.bully.core.Envelope;
import dev.bully.core.LogEntry;
import dev.bully.core.LogPosition;
import dev.bully.core.LogWrite;
import dev.bully.core.Message;
import dev.bully.core.Output;
import dev.bully.core.ProtocolEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The order in which the driver carries out outputs, on a store that answers only when the test
 * says so: what may leave before its write is durable, what must wait, and what is merged.
 */
class OutputPipelineTest {
  private final FakeStorage storage = new FakeStorage();
  private final List<String> sent = new ArrayList<>();
  private final List<String> recorded = new ArrayList<>();
  private final List<Long> durable = new ArrayList<>();
  private final List<String> stops = new ArrayList<>();
  private OutputPipeline pipeline;

  @BeforeEach
  void setUp() {
    Transport transport = new Transport() {
      @Override
      public void send(Envelope envelope) {
        sent.add(envelope.message().type() + "#" + envelope.message().term() + "->" + envelope.to());
      }

      @Override
      public boolean reaches(int nodeId) {
        return true;
      }
    };
    Host host = new Host() {
      @Override
      public void record(Output output) {
        output.events().forEach(event -> recorded.add(event.text()));
      }

      @Override
      public void failStop(String why, Throwable cause) {
        stops.add(why);
      }

      @Override
      public void warn(String message) {
        stops.add("warned: " + message);
      }
    };
    Outbox outbox = new Outbox(storage, transport, host, Long.MAX_VALUE);
    pipeline = new OutputPipeline(storage, outbox, host, () -> { }, durable::add);
  }

  @Test
  void aTermAndPromiseAreDurableBeforeTheMessagesThatDependOnThemLeave() {
    List<String> done = new ArrayList<>();
    pipeline.handle(output(new DurableState(2, 3), null, false, "acked 3", heartbeat(2, 3)), () -> done.add("vote"));
    assertEquals(List.of("saveState term 2 promise 3"), storage.pending());
    assertEquals(List.of(), sent, "nothing leaves before the promise is durable");
    assertEquals(List.of(), recorded);

    storage.answer(0);
    assertEquals(List.of("HEARTBEAT#2->3"), sent);
    assertEquals(List.of("acked 3"), recorded);
    assertEquals(List.of("vote"), done);
  }

  @Test
  void messagesWithNothingToStorePassALogWriteInFlightButNotAPendingTerm() {
    pipeline.handle(output(null, appending(1, 1, 0), false, null), () -> { });
    pipeline.handle(output(null, null, false, "ack", heartbeat(1, 5)), () -> { });
    assertEquals(List.of("HEARTBEAT#1->5"), sent, "a heartbeat's ACK does not wait behind a slow log write");

    pipeline.handle(output(new DurableState(2, 0), null, false, null), () -> { });
    pipeline.handle(output(null, null, false, "ack", heartbeat(2, 5)), () -> { });
    assertEquals(List.of("HEARTBEAT#1->5"), sent, "but it waits for a term on its way to the store");
    storage.answerAll();
    assertEquals(List.of("HEARTBEAT#1->5", "HEARTBEAT#2->5"), sent);
  }

  @Test
  void entriesOfItsOwnTermLeaveACoordinatorBeforeTheyAreDurable() {
    pipeline.handle(output(null, appending(1, 3, 0), true, "leads", appendTo(2, 2, 0)), () -> { });
    assertEquals(List.of("APPEND#2->2"), sent, "shipped while its own write is on its way");
    assertEquals(List.of("leads"), recorded, "with no term or promise in it, its events are already true");
    assertEquals(List.of(), durable);
    storage.answer(0);
    assertEquals(List.of(3L), durable, "the replica learns its log is durable up to 3");
    assertEquals(1, sent.size(), "and nothing is sent twice");
  }

  @Test
  void anOutputThatSendsFirstWaitsForATermOrPromiseAheadOfIt() {
    pipeline.handle(output(new DurableState(4, 4), null, false, null), () -> { });
    pipeline.handle(output(null, appending(1, 1, 0), true, null, appendTo(4, 2, 1)), () -> { });
    assertEquals(List.of(), sent);
    storage.answer(0);
    assertEquals(List.of("APPEND#4->2"), sent, "it leaves as soon as the term is durable, before its own write");
    assertEquals(List.of("writeLog 1..1"), storage.pending());
  }

  @Test
  void appendsQueuedBehindARunningWriteAreMergedIntoOne() {
    pipeline.handle(output(null, appending(1, 2, 0), false, null), () -> { });
    pipeline.handle(output(null, appending(3, 4, 0), false, null, appended(2, 4)), () -> { });
    pipeline.handle(output(null, appending(5, 5, 0), false, null, appended(2, 5)), () -> { });
    assertEquals(List.of("writeLog 1..2"), storage.pending());
    storage.answer(0);
    assertEquals(List.of("writeLog 3..5"), storage.pending(), "one write for both queued appends");
    assertEquals(List.of(2L), durable);
    storage.answer(0);
    assertEquals(List.of("APPENDED#1->2", "APPENDED#1->2"), sent);
    assertEquals(List.of(2L, 5L), durable);
  }

  @Test
  void aRollbackIsNeverMergedIntoTheWriteAheadOfIt() {
    pipeline.handle(output(null, appending(1, 1, 0), false, null), () -> { });
    pipeline.handle(output(null, appending(2, 3, 0), false, null), () -> { });
    LogWrite rollback = new LogWrite(List.of(entry(3, 1)), 2, List.of(entry(3, 2)), 3, 0);
    pipeline.handle(output(null, rollback, false, null), () -> { });
    storage.answer(0);
    assertEquals(List.of("writeLog 2..3"), storage.pending());
    storage.answer(0);
    assertEquals(List.of("writeLog 3..3 removing 3"), storage.pending());
  }

  @Test
  void aWriteThatFinishesBeforeARollbackIsReportedDurableOnlyUpToTheCut() {
    // Entries 1..5 are being written when a newer coordinator's entries replace 4..5 with a new 4.
    pipeline.handle(output(null, appending(1, 5, 0), false, null), () -> { });
    LogWrite rollback = new LogWrite(List.of(entry(4, 1), entry(5, 1)), 2, List.of(entry(4, 2)), 4, 0);
    pipeline.handle(output(null, rollback, false, null), () -> { });
    storage.answer(0);
    assertEquals(List.of(3L), durable, "the store holds the old 4 and 5, not the entries memory holds there now");
    storage.answer(0);
    assertEquals(List.of(3L, 4L), durable);
  }

  @Test
  void aPromiseAloneIsWrittenAlongsideALogWriteAndLaterOutputsWaitForBoth() {
    pipeline.handle(output(null, appending(1, 1, 0), false, null), () -> { });
    pipeline.handle(output(new DurableState(3, 2), null, false, "acked 2", ack(3, 2)), () -> { });
    pipeline.handle(output(null, appending(2, 2, 0), false, null, appended(2, 2)), () -> { });
    assertEquals(List.of("writeLog 1..1", "saveState term 3 promise 2"), storage.pending(), "both at once");
    storage.answer(1);
    assertEquals(List.of("ACK#3->2"), sent, "the acknowledgement leaves once its promise is durable");
    assertEquals(List.of("writeLog 1..1"), storage.pending(), "the next write waits for the one in flight");
    storage.answer(0);
    assertEquals(List.of("writeLog 2..2"), storage.pending());
  }

  @Test
  void aWriteTheStoreRefusesStopsTheNodeAndNothingAfterItLeaves() {
    pipeline.handle(output(null, appending(1, 1, 0), false, null), () -> { });
    pipeline.handle(output(null, appending(2, 2, 0), false, null, appended(2, 2)), () -> { });
    storage.fail(0);
    assertEquals(1, stops.size(), stops.toString());
    assertTrue(stops.get(0).contains("up to entry 1"), stops.get(0));
    assertEquals(List.of(), storage.pending(), "the queue stops");
    assertEquals(List.of(), sent);
  }

  @Test
  void appendsFromTheStoreKeepTheirOrderPerFollowerWhileOtherMessagesPass() {
    Envelope fromStore = new Envelope(2, new Message.Append(1, 1, 0, 0, List.of(), 0), 3);
    pipeline.handle(new Output(null, null, List.of(fromStore, appendTo(1, 2, 3), heartbeat(1, 2), heartbeat(1, 3)),
        List.of(), false, -1, false, null), () -> { });
    assertEquals(List.of("HEARTBEAT#1->2", "HEARTBEAT#1->3"), sent, "heartbeats do not wait for the store's read");
    assertEquals(List.of("readEntries 1..3"), storage.pending());
    storage.answer(0);
    assertEquals(List.of("HEARTBEAT#1->2", "HEARTBEAT#1->3", "APPEND#1->2", "APPEND#1->2"), sent,
        "the filled APPEND first, then the one made after it");
  }

  // ---------------------------------------------------------------- fixtures

  private static Output output(DurableState persist, LogWrite logWrite, boolean sendsFirst, String event, Envelope... messages) {
    List<ProtocolEvent> events = event == null ? List.of() : List.of(new ProtocolEvent(ProtocolEvent.Kind.ACK, 1, 1, event));
    return new Output(persist, logWrite, List.of(messages), events, false, -1, sendsFirst, null);
  }

  private static LogWrite appending(long from, long to, long commit) {
    List<LogEntry> entries = LongStream.rangeClosed(from, to).mapToObj(i -> entry(i, 1)).toList();
    return new LogWrite(List.of(), 0, entries, to, commit);
  }

  private static Envelope appendTo(long term, int to, long prevIndex) {
    return new Envelope(to, new Message.Append(1, term, prevIndex, prevIndex == 0 ? 0 : 1, List.of(), 0));
  }

  private static LogEntry entry(long index, long term) {
    return new LogEntry(index, term, "k" + index, "{}", 0);
  }

  private static Envelope heartbeat(long term, int to) {
    return new Envelope(to, new Message.Heartbeat(1, term, 0, LogPosition.EMPTY));
  }

  private static Envelope ack(long term, int to) {
    return new Envelope(to, new Message.Ack(1, term, LogPosition.EMPTY, 0));
  }

  private static Envelope appended(int to, long match) {
    return new Envelope(to, new Message.Appended(1, 1, match, 0));
  }

  /** A store whose calls wait until the test answers them, by their place among the pending ones. */
  private static final class FakeStorage implements Storage {
    private record Call(String what, Callback<Object> callback, Object result) {
    }

    private final List<Call> calls = new ArrayList<>();

    List<String> pending() {
      return calls.stream().map(Call::what).toList();
    }

    void answer(int at) {
      Call call = calls.remove(at);
      call.callback().done(call.result(), null);
    }

    void answerAll() {
      while (!calls.isEmpty()) {
        answer(0);
      }
    }

    void fail(int at) {
      calls.remove(at).callback().done(null, new IllegalStateException("disk full"));
    }

    @SuppressWarnings("unchecked")
    private <T> void add(String what, Callback<T> callback, T result) {
      calls.add(new Call(what, (Callback<Object>) callback, result));
    }

    @Override
    public void writeLog(LogWrite write, Callback<Void> done) {
      String range = write.appended().isEmpty() ? "none" : write.appended().get(0).index() + ".." + write.lastIndex();
      add("writeLog " + range + (write.removed().isEmpty() ? "" : " removing " + write.removed().get(0).index()), done, null);
    }

    @Override
    public void saveState(DurableState state, Callback<Void> done) {
      add("saveState term " + state.term() + " promise " + state.promisedTo(), done, null);
    }

    @Override
    public void writePage(List<LogEntry> entries, Callback<Void> done) {
      add("writePage " + entries.get(0).index() + ".." + entries.get(entries.size() - 1).index(), done, null);
    }

    @Override
    public void readEntries(long from, int count, long maxChars, Callback<List<LogEntry>> done) {
      add("readEntries " + from + ".." + (from + count - 1), done,
          LongStream.range(from, from + count).mapToObj(i -> entry(i, 1)).toList());
    }

    @Override
    public long durableAppliedIndex() {
      return 0;
    }

    @Override
    public void compact(long index, long term, Callback<Long> done) {
      add("compact " + index, done, index);
    }

    @Override
    public void installSnapshot(dev.bully.core.SnapshotStep step, Callback<Void> done) {
      add("installSnapshot " + step.index() + (step.begins() ? " begins" : " chunk " + step.chunk().seq()), done, null);
    }

    @Override
    public void readSnapshot(int follower, long index, long seq, long maxChars, Callback<SnapshotRead> done) {
      add("readSnapshot " + index + " chunk " + seq + " for " + follower, done, new SnapshotRead(List.of(), true, index));
    }
  }
}
