package dev.bully.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** One rule of the replicated log per test. */
class ReplicatedLogTest {

  private static LogEntry entry(long index, long term) {
    return new LogEntry(index, term, "k" + index + "t" + term, "{\"i\":" + index + "}", 0);
  }

  private static ReplicatedLog logOf(long... terms) {
    ReplicatedLog log = ReplicatedLog.empty();
    for (int i = 0; i < terms.length; i++) {
      log.accept(i, i == 0 ? 0 : terms[i - 1], List.of(entry(i + 1, terms[i])));
    }
    return log;
  }

  @Test
  void theCoordinatorAppendsConsecutiveEntriesOfItsTerm() {
    ReplicatedLog log = logOf(1, 1);
    List<LogEntry> appended = log.appendNew(3, List.of(new Write("a", "{}", 7), new Write(null, "{}", 7)));
    assertEquals(List.of(3L, 4L), appended.stream().map(LogEntry::index).toList());
    assertEquals(new LogPosition(3, 4), log.last());
    assertEquals(3L, log.indexOf("a"));
  }

  @Test
  void entriesThatDoNotContinueTheLogAreRefusedWithAPlaceToBackUpTo() {
    ReplicatedLog log = logOf(1, 1, 2);
    AppendResult beyond = log.accept(5, 2, List.of(entry(6, 2)));
    assertFalse(beyond.ok());
    assertEquals(3, beyond.index(), "the follower's last index");
    AppendResult otherTerm = log.accept(3, 3, List.of(entry(4, 3)));
    assertFalse(otherTerm.ok());
    assertEquals(2, otherTerm.index(), "back up past the entry of the other term");
    assertEquals(3, log.lastIndex(), "nothing changed");
  }

  @Test
  void aConflictingSuffixIsRemovedAndReturnedNeverSilentlyDropped() {
    ReplicatedLog log = logOf(1, 1, 2, 2);
    AppendResult result = log.accept(2, 1, List.of(entry(3, 3)));
    assertTrue(result.ok());
    assertEquals(List.of(entry(3, 2), entry(4, 2)), result.removed());
    assertEquals(List.of(entry(3, 3)), result.appended());
    assertEquals(new LogPosition(3, 3), log.last());
    assertEquals(null, log.indexOf("k4t2"), "a removed entry's key no longer deduplicates");
  }

  @Test
  void aResentBatchChangesNothing() {
    ReplicatedLog log = logOf(1, 1, 1);
    AppendResult result = log.accept(1, 1, List.of(entry(2, 1), entry(3, 1)));
    assertTrue(result.ok());
    assertEquals(3, result.index());
    assertEquals(List.of(), result.appended());
    assertEquals(List.of(), result.removed());
  }

  @Test
  void aStaleShortBatchDoesNotCutOffLaterEntriesThatAgree() {
    ReplicatedLog log = logOf(1, 1, 1, 1);
    AppendResult result = log.accept(1, 1, List.of(entry(2, 1)));
    assertEquals(2, result.index(), "it matches up to what was sent");
    assertEquals(4, log.lastIndex(), "the later entries stay");
  }

  @Test
  void committedEntriesAreNeverRemoved() {
    ReplicatedLog log = logOf(1, 1, 1);
    log.commitTo(2);
    AppendResult result = log.accept(1, 1, List.of(entry(2, 2)));
    assertFalse(result.ok());
    assertEquals("its entry 2 of term 2 would replace committed entry 2 of term 1 (commit index 2)", result.violation());
    assertEquals(3, log.lastIndex(), "nothing was removed");
    assertEquals(1, log.termAt(2));
    assertNull(log.accept(1, 1, List.of(entry(2, 1), entry(3, 2))).violation(), "past the commit index, a conflict is a rollback");
    assertEquals(2, log.termAt(3));
  }

  @Test
  void theCommitIndexOnlyGrowsAndStaysWithinTheLog() {
    ReplicatedLog log = logOf(1, 1, 1);
    assertTrue(log.commitTo(2));
    assertFalse(log.commitTo(1));
    assertTrue(log.commitTo(9));
    assertEquals(3, log.commitIndex());
  }

  private static ReplicatedLog windowed(LogLimits limits, long... terms) {
    ReplicatedLog log = new ReplicatedLog(limits);
    for (int i = 0; i < terms.length; i++) {
      log.accept(i, i == 0 ? 0 : terms[i - 1], List.of(entry(i + 1, terms[i])));
    }
    return log;
  }

  @Test
  void onlyEntriesThatTheStoresPagesHoldLeaveMemory() {
    ReplicatedLog log = windowed(new LogLimits(2, 100), 1, 1, 1, 2, 2, 2, 2, 2);
    assertThrows(BrokenInvariant.class, () -> log.pagedTo(1), "nothing is committed yet: nothing can be paged");
    log.commitTo(7);
    log.release();
    assertEquals(1, log.firstInMemory(), "nothing is paged yet");
    log.pagedTo(3);
    log.release();
    assertEquals(4, log.firstInMemory(), "only what the pages hold leaves");
    log.pagedTo(7);
    log.release();
    assertEquals(7, log.firstInMemory(), "paged entries leave, keeping the newest two");
    assertEquals(List.of(entry(7, 2), entry(8, 2)), log.slice(1, 100), "only what is in memory is sliced");
    assertThrows(BrokenInvariant.class, () -> log.entry(6));
  }

  @Test
  void theTermOfEveryEntryIsKnownAfterItLeftMemory() {
    ReplicatedLog log = windowed(new LogLimits(1, 100), 1, 1, 3, 3, 4, 4);
    log.commitTo(6);
    log.pagedTo(6);
    log.release();
    assertEquals(6, log.firstInMemory());
    assertEquals(List.of(1L, 1L, 3L, 3L, 4L, 4L, -1L), java.util.stream.LongStream.rangeClosed(1, 7).map(log::termAt).boxed().toList());
    assertEquals(List.of(new TermRun(1, 1), new TermRun(3, 3), new TermRun(5, 4)), log.termRuns());
    AppendResult resend = log.accept(2, 1, List.of(entry(3, 3), entry(4, 3)));
    assertTrue(resend.ok(), "a resend of entries that left memory matches by their terms");
    assertEquals(List.of(), resend.appended());
  }

  @Test
  void aRollbackAfterEvictionRemovesOnlyUncommittedEntriesInMemory() {
    ReplicatedLog log = windowed(new LogLimits(1, 100), 1, 1, 1, 2, 2);
    log.commitTo(3);
    log.pagedTo(3);
    log.release();
    assertEquals(4, log.firstInMemory(), "paged entries leave; uncommitted entries 4 and 5 stay, over the limit of one");
    AppendResult result = log.accept(3, 1, List.of(entry(4, 3)));
    assertEquals(List.of(entry(4, 2), entry(5, 2)), result.removed());
    assertEquals(new LogPosition(3, 4), log.last());
    assertEquals(List.of(new TermRun(1, 1), new TermRun(4, 3)), log.termRuns());
  }

  @Test
  void idempotencyKeysAreRememberedForTheNewestEntriesOnly() {
    ReplicatedLog log = windowed(new LogLimits(100, 2), 1, 1, 1);
    assertEquals(null, log.indexOf("k1t1"), "the oldest key was forgotten");
    assertEquals(2L, log.indexOf("k2t1"));
    assertEquals(3L, log.indexOf("k3t1"));
    log.accept(2, 1, List.of(entry(3, 2)));
    assertEquals(null, log.indexOf("k3t1"), "a rolled back entry's key is forgotten");
    assertEquals(3L, log.indexOf("k3t2"));
  }

  @Test
  void aRestoredLogHoldsItsTailAndKnowsEveryTermAndTheOlderKeys() {
    List<TermRun> runs = List.of(new TermRun(1, 1), new TermRun(3, 2));
    ReplicatedLog log = ReplicatedLog.restore(0, runs, List.of(new IdempotencyKey(2, "k2t1")),
        List.of(entry(4, 2), entry(5, 2)), 3, 3, new LogLimits(2, 10));
    assertEquals(new LogPosition(2, 5), log.last());
    assertEquals(4, log.firstInMemory());
    assertEquals(3, log.commitIndex());
    assertEquals(1, log.termAt(2));
    assertEquals(2, log.termAt(3));
    assertEquals(2L, log.indexOf("k2t1"));
    assertEquals(5L, log.indexOf("k5t2"));
    assertThrows(IllegalArgumentException.class, () -> ReplicatedLog.restore(0, runs, List.of(),
        List.of(entry(5, 2)), 3, 3, new LogLimits(2, 10)), "entry 4 is neither in the pages nor given");
  }
}
