package dev.bully.core;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Linearizable reads without a log write: the read index of Raft (Ongaro's thesis, §6.4), as the
 * coordinator of one term keeps it.
 *
 * <p>Every heartbeat carries a round, numbered up from 1 in the term, and a follower's ACK echoes
 * the round of the heartbeat it answers. A read that arrives waits for the next round to leave
 * and for a majority (this node included) to echo it or a later one. Then no other node led a newer
 * term when the read arrived: each node of that majority was still in this term after the round
 * left, and terms never go down, so no majority had moved on, and no entry of a newer term was
 * committed. Everything committed before the read arrived is therefore in this coordinator's log,
 * and at or below its commit index once its term has a committed entry of its own (the no-op it
 * appends on taking the lead); a read of the state applied up to that index is linearizable.
 *
 * <p>Reads share rounds: the reads that arrive while a round is on its way wait for the next one,
 * which leaves as soon as that one is confirmed, or with the next heartbeat if it was lost; so at
 * most one round a read asked for is on its way, however many reads come.
 */
final class ReadRounds {
  private final ElectionSettings settings;
  /** The last round a heartbeat carried. */
  private long sent;
  /** Rounds up to this one are confirmed by a majority. */
  private long confirmed;
  /** A read arrived after round {@link #sent} left: it needs the next one. */
  private boolean wanted;
  /** The highest round each follower echoed in this term. */
  private final Map<Integer, Long> echoed = new HashMap<>();

  ReadRounds(ElectionSettings settings) {
    this.settings = settings;
  }

  /** A read arrives: it waits for the next round, {@code current() + 1}. */
  void read() {
    wanted = true;
  }

  /** Whether a heartbeat should leave now for waiting reads: they want a round and none of theirs is on its way. */
  boolean due() {
    return wanted && confirmed >= sent;
  }

  /** The round the heartbeat that leaves now carries. */
  long next() {
    wanted = false;
    sent++;
    if (settings.majority() == 1) {
      confirmed = sent; // a cluster of one: this node is the majority
    }
    return sent;
  }

  /** The round heartbeats carried last, for an announcement sent out of turn. */
  long current() {
    return sent;
  }

  long confirmed() {
    return confirmed;
  }

  /** Whether {@code round} can be an echo of a heartbeat of this term: no later than the last one sent. */
  boolean possible(long round) {
    return round <= sent;
  }

  /** A follower echoed {@code round}; returns whether the confirmed round moved. */
  boolean echoed(int follower, long round) {
    if (round <= echoed.getOrDefault(follower, 0L)) {
      return false;
    }
    echoed.put(follower, round);
    List<Long> rounds = new ArrayList<>(echoed.values());
    rounds.sort((a, b) -> Long.compare(b, a));
    int othersNeeded = settings.majority() - 1; // this node echoes every round it sends
    long majorityRound = othersNeeded == 0 ? sent : rounds.size() < othersNeeded ? 0 : rounds.get(othersNeeded - 1);
    if (majorityRound > confirmed) {
      confirmed = majorityRound;
      return true;
    }
    return false;
  }
}
