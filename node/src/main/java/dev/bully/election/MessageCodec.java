package dev.bully.election;

import dev.bully.core.LogPosition;
import dev.bully.core.Message;
import dev.bully.core.Message.Ack;
import dev.bully.core.Message.Answer;
import dev.bully.core.Message.Claim;
import dev.bully.core.Message.Heartbeat;
import dev.bully.core.Message.Reject;
import dev.bully.core.Message.TakeOver;
import dev.bully.core.LogEntry;
import dev.bully.core.SnapshotItem;
import dev.bully.store.EntryCodec;
import dev.bully.store.NodeStore;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Protocol messages as JSON on the event bus: {@code {type, cluster, from, term, ...}}. Decoding
 * validates everything a peer controls, so a malformed message, one from another cluster or one
 * from an id outside {@code cluster.nodes} is refused with a reason before it reaches the core.
 */
public final class MessageCodec {
  private final String cluster;
  private final Set<Integer> members;

  public MessageCodec(String cluster, Set<Integer> members) {
    this.cluster = cluster;
    this.members = Set.copyOf(members);
  }

  /** Why a message was refused; the node logs it and changes nothing. */
  public static final class InvalidMessage extends Exception {
    InvalidMessage(String reason) {
      super(reason, null, false, false);
    }
  }

  public JsonObject encode(Message message) {
    JsonObject json = new JsonObject()
        .put("type", message.type())
        .put("cluster", cluster)
        .put("from", message.from())
        .put("term", message.term());
    if (message instanceof Message.Election election) {
      putLog(json, election.log());
    } else if (message instanceof Claim claim) {
      putLog(json, claim.log());
      json.put("preVote", claim.preVote()).put("takeover", claim.takeover());
    } else if (message instanceof Ack ack) {
      putLog(json, ack.log());
      json.put("preVoteTerm", ack.preVoteTerm()).put("round", ack.round());
    } else if (message instanceof Reject reject) {
      json.put("reason", reject.reason()).put("preVoteTerm", reject.preVoteTerm());
    } else if (message instanceof Heartbeat heartbeat) {
      putLog(json, heartbeat.log());
      json.put("commitIndex", heartbeat.commitIndex()).put("round", heartbeat.round());
    } else if (message instanceof TakeOver takeOver) {
      putLog(json, takeOver.log());
    } else if (message instanceof Message.Append append) {
      // The entries as one JSON text, as a log segment holds them: an entry's data is copied as text,
      // never parsed into a tree and written out again, on either side.
      json.put("prevIndex", append.prevIndex()).put("prevTerm", append.prevTerm())
          .put("commitIndex", append.commitIndex()).put("entries", EntryCodec.encode(append.entries()));
    } else if (message instanceof Message.Appended appended) {
      json.put("matchIndex", appended.matchIndex()).put("prevIndex", appended.prevIndex());
    } else if (message instanceof Message.Mismatch mismatch) {
      json.put("backUpTo", mismatch.backUpTo()).put("prevIndex", mismatch.prevIndex());
    } else if (message instanceof Message.Snapshot offer) {
      json.put("index", offer.index()).put("indexTerm", offer.indexTerm());
    } else if (message instanceof Message.SnapshotPull pull) {
      json.put("index", pull.index()).put("seq", pull.seq());
    } else if (message instanceof Message.SnapshotChunk chunk) {
      // Each item [collection, id, version, deleted, fields]: the fields as the JSON text the store gave, never re-parsed here.
      JsonArray items = new JsonArray(new ArrayList<>(chunk.items().size()));
      for (SnapshotItem item : chunk.items()) {
        items.add(new JsonArray().add(item.collection()).add(item.id()).add(item.version()).add(item.deleted()).add(item.fields()));
      }
      json.put("index", chunk.index()).put("seq", chunk.seq()).put("last", chunk.last())
          .put("consistentAt", chunk.consistentAt()).put("items", items);
    }
    return json;
  }

  public Message decode(Object body) throws InvalidMessage {
    if (!(body instanceof JsonObject json)) {
      throw new InvalidMessage("body is not a JSON object");
    }
    String type = text(json, "type");
    String sender = text(json, "cluster");
    if (!sender.equals(cluster)) {
      throw new InvalidMessage("from cluster '" + sender + "', not '" + cluster + "'");
    }
    long fromValue = number(json, "from");
    if (!members.contains((int) fromValue) || fromValue != (int) fromValue) {
      throw new InvalidMessage("from node " + fromValue + ", which is not in cluster.nodes");
    }
    int from = (int) fromValue;
    long term = number(json, "term");
    return switch (type) {
      case "ELECTION" -> new Message.Election(from, term, log(json));
      case "ANSWER" -> new Answer(from, term);
      case "COORDINATOR" -> new Claim(from, term, log(json), flag(json, "preVote"), flag(json, "takeover"));
      case "ACK" -> new Ack(from, term, log(json), number(json, "preVoteTerm"), round(json));
      case "REJECT" -> new Reject(from, term, text(json, "reason"), number(json, "preVoteTerm"));
      case "HEARTBEAT" -> new Heartbeat(from, term, number(json, "commitIndex"), log(json), round(json));
      // Nodes of earlier builds send no log position: the successor then claims at once, as those did.
      case "TAKEOVER" -> new TakeOver(from, term, json.containsKey("lastIndex") ? log(json) : LogPosition.EMPTY);
      case "APPEND" -> append(json, from, term);
      case "APPENDED" -> new Message.Appended(from, term, number(json, "matchIndex"), number(json, "prevIndex"));
      case "MISMATCH" -> new Message.Mismatch(from, term, number(json, "backUpTo"), number(json, "prevIndex"));
      case "SNAPSHOT" -> new Message.Snapshot(from, term, number(json, "index"), number(json, "indexTerm"));
      case "SNAPSHOT_PULL" -> new Message.SnapshotPull(from, term, number(json, "index"), number(json, "seq"));
      case "SNAPSHOT_CHUNK" -> new Message.SnapshotChunk(from, term, number(json, "index"), number(json, "seq"),
          snapshotItems(json.getValue("items")), flag(json, "last"), number(json, "consistentAt"));
      default -> throw new InvalidMessage("unknown type '" + type + "'");
    };
  }

  /**
   * A chunk's documents: each a collection name, an id (a string, or a number in {@code writes}),
   * a version, whether it is a tombstone, and the fields as a JSON object's text (null for a
   * tombstone). What the fields hold is checked where they are stored.
   */
  private static List<SnapshotItem> snapshotItems(Object value) throws InvalidMessage {
    if (!(value instanceof JsonArray array)) {
      throw new InvalidMessage("'items' is missing or not an array");
    }
    List<SnapshotItem> items = new ArrayList<>(array.size());
    for (int i = 0; i < array.size(); i++) {
      if (!(array.getValue(i) instanceof JsonArray item) || item.size() != 5
          || !(item.getValue(0) instanceof String collection) || !dev.bully.data.Operation.COLLECTION.matcher(collection).matches()
          || !(item.getValue(3) instanceof Boolean deleted)
          || !(item.getValue(2) instanceof Number version) || version.longValue() < 1 || version.longValue() > Message.MAX_NUMBER
          || version.doubleValue() != version.longValue()
          || (deleted ? item.getValue(4) != null : !(item.getValue(4) instanceof String))) {
        throw new InvalidMessage("item " + i + " of 'items' is not [collection, id, version >= 1, deleted, fields]");
      }
      Object id = item.getValue(1);
      if (id instanceof Number n && n.doubleValue() == n.longValue() && n.longValue() > 0) {
        id = n.longValue();
      } else if (!(id instanceof String text) || !dev.bully.data.Operation.ID.matcher(text).matches()) {
        throw new InvalidMessage("item " + i + " of 'items' has an id that is neither a document id nor a positive integer");
      }
      items.add(new SnapshotItem(collection, id, version.longValue(), deleted, item.getString(4)));
    }
    return items;
  }

  private static Message.Append append(JsonObject json, int from, long term) throws InvalidMessage {
    long prevIndex = number(json, "prevIndex");
    List<LogEntry> entries = entries(json.getValue("entries"));
    for (int i = 0; i < entries.size(); i++) {
      LogEntry entry = entries.get(i);
      if (entry.index() != prevIndex + 1 + i || entry.term() > term || entry.term() < 1) {
        throw new InvalidMessage("entry " + i + " is not consecutive after prevIndex " + prevIndex + " within term " + term);
      }
    }
    return new Message.Append(from, term, prevIndex, number(json, "prevTerm"), entries, number(json, "commitIndex"));
  }

  /** An APPEND's entries: one JSON text, as a log segment holds them. */
  private static List<LogEntry> entries(Object value) throws InvalidMessage {
    if (!(value instanceof String text)) {
      throw new InvalidMessage("'entries' is missing, or not a JSON text");
    }
    try {
      return EntryCodec.decode(text);
    } catch (IllegalArgumentException e) {
      throw new InvalidMessage("'entries' is malformed: " + e.getMessage());
    }
  }

  /** A heartbeat's round or its echo; nodes of earlier builds count none (0), which confirms no read. */
  private static long round(JsonObject json) throws InvalidMessage {
    return json.containsKey("round") ? number(json, "round") : 0;
  }

  private static void putLog(JsonObject json, LogPosition log) {
    json.put("lastTerm", log.term()).put("lastIndex", log.index());
  }

  private static LogPosition log(JsonObject json) throws InvalidMessage {
    return new LogPosition(number(json, "lastTerm"), number(json, "lastIndex"));
  }

  private static String text(JsonObject json, String key) throws InvalidMessage {
    if (!(json.getValue(key) instanceof String value)) {
      throw new InvalidMessage("'" + key + "' is missing or not a string");
    }
    return value;
  }

  private static long number(JsonObject json, String key) throws InvalidMessage {
    Object value = json.getValue(key);
    if (!(value instanceof Number n) || n.doubleValue() != n.longValue() || n.longValue() < 0) {
      throw new InvalidMessage("'" + key + "' is missing or not a non-negative integer");
    }
    if (n.longValue() > Message.MAX_NUMBER) {
      throw new InvalidMessage("'" + key + "' is " + n.longValue() + ", beyond the protocol's limit of 2^53");
    }
    return n.longValue();
  }

  private static boolean flag(JsonObject json, String key) throws InvalidMessage {
    if (!(json.getValue(key) instanceof Boolean value)) {
      throw new InvalidMessage("'" + key + "' is missing or not a boolean");
    }
    return value;
  }
}
