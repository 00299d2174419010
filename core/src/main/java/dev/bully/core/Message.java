package dev.bully.core;

/**
 * The protocol's messages. Every message carries its sender and the sender's current term, with one
 * exception: a pre-vote {@link Claim} carries the term it proposes, which the sender has not taken yet.
 */
public sealed interface Message {
  /**
   * The largest term, index or count a message may carry: 2^53, which JSON readers in any language
   * read exactly, and so far below overflow that {@code term + 1} never wraps. A message beyond it
   * is refused before it reaches the replica.
   */
  long MAX_NUMBER = 1L << 53;

  int from();

  long term();

  /** The name on the wire and in message counts. */
  String type();

  /** "I lost the coordinator": sent to every node with a higher id. */
  record Election(int from, long term, LogPosition log) implements Message {
    public String type() {
      return "ELECTION";
    }
  }

  /** "I take over": a higher, eligible node answers an election and runs its own. */
  record Answer(int from, long term) implements Message {
    public String type() {
      return "ANSWER";
    }
  }

  /**
   * A claim to be coordinator of {@code term}, sent to all. With {@code preVote} it only asks
   * whether the claim would be acknowledged, and changes nothing at the receiver. {@code takeover}
   * marks a claim the previous coordinator asked for (priority takeover or hand-off).
   */
  record Claim(int from, long term, LogPosition log, boolean preVote, boolean takeover) implements Message {
    public String type() {
      return "COORDINATOR";
    }
  }

  /**
   * Acknowledges a claim or a heartbeat of {@code term}, with the sender's log position. For a
   * pre-vote, {@code preVoteTerm} is the proposed term that would be acknowledged; otherwise 0.
   * {@code round} echoes the heartbeat's round ({@link Heartbeat}); 0 for a claim.
   */
  record Ack(int from, long term, LogPosition log, long preVoteTerm, long round) implements Message {
    public Ack(int from, long term, LogPosition log, long preVoteTerm) {
      this(from, term, log, preVoteTerm, 0);
    }

    public String type() {
      return "ACK";
    }
  }

  /** Refuses a claim or a stale message; {@code term} is the sender's own, so a stale sender learns it. */
  record Reject(int from, long term, String reason, long preVoteTerm) implements Message {
    public String type() {
      return "REJECT";
    }
  }

  /**
   * The coordinator's periodic proof of life, which also announces a new coordinator. Its
   * {@code round} (counted up from 1 in the term, 0 from a node that counts none) comes back in the
   * followers' ACKs: a majority's echo confirms linearizable reads that arrived before it left.
   */
  record Heartbeat(int from, long term, long commitIndex, LogPosition log, long round) implements Message {
    public Heartbeat(int from, long term, long commitIndex, LogPosition log) {
      this(from, term, commitIndex, log, 0);
    }

    public String type() {
      return "HEARTBEAT";
    }
  }

  /**
   * The coordinator asks a follower to claim the next term now: a higher-id follower that caught up
   * (Bully priority), or its successor when it steps down. {@code log} is the coordinator's last
   * entry, which the follower holds before it claims.
   */
  record TakeOver(int from, long term, LogPosition log) implements Message {
    public String type() {
      return "TAKEOVER";
    }
  }

  /**
   * Replication: entries from {@code prevIndex + 1} on, to be accepted only if the receiver's log
   * holds {@code prevIndex} with {@code prevTerm}; also carries the coordinator's commit index.
   */
  record Append(int from, long term, long prevIndex, long prevTerm, java.util.List<LogEntry> entries, long commitIndex)
      implements Message {
    public Append {
      entries = java.util.List.copyOf(entries);
    }

    public String type() {
      return "APPEND";
    }
  }

  /**
   * The receiver's log matches the coordinator's up to {@code matchIndex}, durably; the answer to the
   * APPEND that began after {@code prevIndex} (so the coordinator can tell it from a late or repeated one).
   */
  record Appended(int from, long term, long matchIndex, long prevIndex) implements Message {
    public String type() {
      return "APPENDED";
    }
  }

  /**
   * The receiver's log did not hold the entry at {@code prevIndex} that an APPEND began after; resend
   * from after {@code backUpTo}.
   */
  record Mismatch(int from, long term, long backUpTo, long prevIndex) implements Message {
    public String type() {
      return "MISMATCH";
    }
  }

  /**
   * The coordinator no longer holds the entries this follower lacks: it offers a snapshot of its
   * documents instead, after which the follower's log begins after entry {@code index}, of
   * {@code indexTerm}. A follower whose log holds that entry answers APPENDED and needs none.
   */
  record Snapshot(int from, long term, long index, long indexTerm) implements Message {
    public String type() {
      return "SNAPSHOT";
    }
  }

  /**
   * A follower installing the snapshot up to entry {@code index} asks for its chunk {@code seq}
   * (from 0), once every chunk before it is durable in its store.
   */
  record SnapshotPull(int from, long term, long index, long seq) implements Message {
    public String type() {
      return "SNAPSHOT_PULL";
    }
  }

  /**
   * Chunk {@code seq} of the snapshot up to entry {@code index}: documents and tombstones as the
   * coordinator's store held them while it was read. The {@code last} chunk says from which index
   * on ({@code consistentAt}) the documents, once the log from {@code index + 1} is applied over
   * them, are again the image of a prefix of the log (a snapshot is read while writes go on).
   */
  record SnapshotChunk(int from, long term, long index, long seq, java.util.List<SnapshotItem> items, boolean last,
                       long consistentAt) implements Message {
    public SnapshotChunk {
      items = java.util.List.copyOf(items);
    }

    public String type() {
      return "SNAPSHOT_CHUNK";
    }
  }
}
