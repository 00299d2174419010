package dev.bully.election;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bully.core.LogEntry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/** The applier's feed of committed entries, on one thread (the election verticle's, here the test's). */
class CommittedFeedTest {
  /** A log whose reads complete when the test says so. */
  private static final class Log implements CommittedFeed.Source {
    long commitIndex;
    long base;
    final List<Long> readsFrom = new ArrayList<>();
    final List<Promise<List<LogEntry>>> reads = new ArrayList<>();

    @Override
    public long commitIndex() {
      return commitIndex;
    }

    @Override
    public Future<List<LogEntry>> entries(long from, int limit) {
      readsFrom.add(from);
      Promise<List<LogEntry>> read = Promise.promise();
      reads.add(read);
      return read.future();
    }

    /** Completes the last read with the entries the log holds from where it was asked. */
    void serveLast() {
      long from = readsFrom.get(readsFrom.size() - 1);
      reads.get(reads.size() - 1).complete(from <= base ? List.of()
          : LongStream.rangeClosed(from, commitIndex).mapToObj(i -> new LogEntry(i, 1, null, "{}", 0)).toList());
    }
  }

  private final Log log = new Log();
  private final CommittedFeed feed = new CommittedFeed();

  CommittedFeedTest() {
    feed.attach(Runnable::run, log);
  }

  @Test
  void answersOnceTheEntryAskedForIsCommitted() {
    List<List<LogEntry>> answers = new ArrayList<>();
    feed.next(1, 10, answers::add);
    assertTrue(log.readsFrom.isEmpty(), "nothing is committed: nothing is read");
    log.commitIndex = 3;
    feed.poke();
    log.serveLast();
    assertEquals(1, answers.size());
    assertEquals(List.of(1L, 2L, 3L), answers.get(0).stream().map(LogEntry::index).toList());
  }

  @Test
  void aReadThatFoundNothingIsTriedAgainAtTheNextPoke() {
    List<List<LogEntry>> answers = new ArrayList<>();
    feed.next(1, 10, answers::add);
    log.commitIndex = 2;
    feed.poke();
    log.reads.get(0).complete(List.of()); // the store did not serve them yet
    feed.poke();
    log.serveLast();
    assertEquals(List.of(1L, 1L), log.readsFrom);
    assertEquals(1, answers.size());
  }

  /**
   * The applier waits from 68 when a snapshot up to 2036 replaces the log: the commit index jumps,
   * the feed reads from 68 (which the log no longer holds), and meanwhile the applier, given the
   * snapshot, asks from 2037. The empty read of 68 must not take the newer request's place: it
   * did (CI, SnapshotIT), and the node then applied nothing more for ever.
   */
  @Test
  void aRequestWhoseReadIsUnderWayGivesWayToANewerOne() {
    List<List<LogEntry>> stale = new ArrayList<>();
    List<List<LogEntry>> fresh = new ArrayList<>();
    feed.next(68, 10, stale::add);
    log.base = 2036;
    log.commitIndex = 2036;
    feed.poke();
    assertEquals(List.of(68L), log.readsFrom);
    feed.next(2037, 10, fresh::add);
    log.reads.get(0).complete(List.of());

    log.commitIndex = 2040;
    feed.poke();
    assertEquals(2037L, log.readsFrom.get(log.readsFrom.size() - 1), "the feed reads for the newest request");
    log.serveLast();
    assertEquals(List.of(2037L, 2038L, 2039L, 2040L), fresh.get(0).stream().map(LogEntry::index).toList());
    assertTrue(stale.isEmpty());
  }

  @Test
  void anOlderRequestsEntriesAreNotGivenToItOnceReplaced() {
    List<List<LogEntry>> stale = new ArrayList<>();
    List<List<LogEntry>> fresh = new ArrayList<>();
    log.commitIndex = 5;
    feed.next(1, 10, stale::add);
    feed.next(4, 10, fresh::add);
    log.reads.get(0).complete(List.of(new LogEntry(1, 1, null, "{}", 0)));
    log.serveLast();
    assertTrue(stale.isEmpty(), "answered after it was replaced");
    assertEquals(List.of(4L, 5L), fresh.get(0).stream().map(LogEntry::index).toList());
  }
}
