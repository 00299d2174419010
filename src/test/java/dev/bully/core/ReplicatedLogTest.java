package dev.bully.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
    ReplicatedLog.AppendResult beyond = log.accept(5, 2, List.of(entry(6, 2)));
    assertFalse(beyond.ok());
    assertEquals(3, beyond.index(), "the follower's last index");
    ReplicatedLog.AppendResult otherTerm = log.accept(3, 3, List.of(entry(4, 3)));
    assertFalse(otherTerm.ok());
    assertEquals(2, otherTerm.index(), "back up past the entry of the other term");
    assertEquals(3, log.lastIndex(), "nothing changed");
  }

  @Test
  void aConflictingSuffixIsRemovedAndReturnedNeverSilentlyDropped() {
    ReplicatedLog log = logOf(1, 1, 2, 2);
    ReplicatedLog.AppendResult result = log.accept(2, 1, List.of(entry(3, 3)));
    assertTrue(result.ok());
    assertEquals(List.of(entry(3, 2), entry(4, 2)), result.removed());
    assertEquals(List.of(entry(3, 3)), result.appended());
    assertEquals(new LogPosition(3, 3), log.last());
    assertEquals(null, log.indexOf("k4t2"), "a removed entry's key no longer deduplicates");
  }

  @Test
  void aResentBatchChangesNothing() {
    ReplicatedLog log = logOf(1, 1, 1);
    ReplicatedLog.AppendResult result = log.accept(1, 1, List.of(entry(2, 1), entry(3, 1)));
    assertTrue(result.ok());
    assertEquals(3, result.index());
    assertEquals(List.of(), result.appended());
    assertEquals(List.of(), result.removed());
  }

  @Test
  void aStaleShortBatchDoesNotCutOffLaterEntriesThatAgree() {
    ReplicatedLog log = logOf(1, 1, 1, 1);
    ReplicatedLog.AppendResult result = log.accept(1, 1, List.of(entry(2, 1)));
    assertEquals(2, result.index(), "it matches up to what was sent");
    assertEquals(4, log.lastIndex(), "the later entries stay");
  }

  @Test
  void committedEntriesAreNeverRemoved() {
    ReplicatedLog log = logOf(1, 1, 1);
    log.commitTo(2);
    assertThrows(IllegalStateException.class, () -> log.accept(1, 1, List.of(entry(2, 2))));
  }

  @Test
  void theCommitIndexOnlyGrowsAndStaysWithinTheLog() {
    ReplicatedLog log = logOf(1, 1, 1);
    assertTrue(log.commitTo(2));
    assertFalse(log.commitTo(1));
    assertTrue(log.commitTo(9));
    assertEquals(3, log.commitIndex());
  }
}
