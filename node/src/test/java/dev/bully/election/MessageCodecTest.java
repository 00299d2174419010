package dev.bully.election;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.bully.core.LogEntry;
import dev.bully.core.LogPosition;
import dev.bully.core.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class MessageCodecTest {
  private final MessageCodec codec = new MessageCodec("blue", Set.of(1, 2, 3));

  @Test
  void everyMessageSurvivesTheWire() throws Exception {
    LogPosition log = new LogPosition(3, 17);
    for (Message message : List.of(
        new Message.Election(1, 4, log),
        new Message.Answer(2, 4),
        new Message.Claim(3, 5, log, true, false),
        new Message.Claim(3, 5, log, false, true),
        new Message.Ack(1, 5, log, 6),
        new Message.Ack(1, 5, log, 0, 41),
        new Message.Reject(2, 5, "stale term 4 < 5", 0),
        new Message.Heartbeat(3, 5, 12, log),
        new Message.Heartbeat(3, 5, 12, log, 41),
        new Message.TakeOver(2, 5, new LogPosition(4, 17)),
        new Message.Snapshot(3, 5, 900, 4),
        new Message.SnapshotPull(1, 5, 900, 7),
        new Message.SnapshotChunk(3, 5, 900, 7, List.of(
            new dev.bully.core.SnapshotItem("users", "ada", 880, false, "{\"name\":\"Ada\",\"age\":36}"),
            new dev.bully.core.SnapshotItem("users", "bob", 890, true, null),
            new dev.bully.core.SnapshotItem("writes", 12L, 12, false, "{\"a\":1}")), true, 950))) {
      assertEquals(message, codec.decode(codec.encode(message)));
    }
  }

  @Test
  void aSnapshotChunkWithAnImpossibleDocumentIsRefused() {
    JsonObject good = codec.encode(new Message.SnapshotChunk(3, 5, 900, 0, List.of(
        new dev.bully.core.SnapshotItem("users", "ada", 880, false, "{}")), false, 0));
    for (JsonArray item : List.of(
        new JsonArray().add("bad name!").add("ada").add(880).add(false).add("{}"),
        new JsonArray().add("users").add("a/b").add(880).add(false).add("{}"),
        new JsonArray().add("users").add("ada").add(0).add(false).add("{}"),
        new JsonArray().add("users").add("ada").add(880).add(true).add("{}"),
        new JsonArray().add("users").add("ada").add(880).add(false).addNull(),
        new JsonArray().add("users").add(-3).add(880).add(false).add("{}"),
        new JsonArray().add("users").add("ada").add(880))) {
      JsonObject forged = good.copy().put("items", new JsonArray().add(item));
      assertThrows(MessageCodec.InvalidMessage.class, () -> codec.decode(forged), item.encode());
    }
  }

  @Test
  void aHeartbeatOrAckOfAnEarlierBuildCarriesRoundZero() throws Exception {
    JsonObject heartbeat = codec.encode(new Message.Heartbeat(3, 5, 12, LogPosition.EMPTY, 9));
    heartbeat.remove("round");
    assertEquals(0, ((Message.Heartbeat) codec.decode(heartbeat)).round());
    JsonObject ack = codec.encode(new Message.Ack(1, 5, LogPosition.EMPTY, 0, 9));
    ack.remove("round");
    assertEquals(0, ((Message.Ack) codec.decode(ack)).round());
  }

  @Test
  void aMessageFromAnotherClusterIsRefused() {
    JsonObject json = codec.encode(new Message.Answer(2, 4)).put("cluster", "green");
    assertEquals("from cluster 'green', not 'blue'", assertThrows(MessageCodec.InvalidMessage.class, () -> codec.decode(json)).getMessage());
  }

  @Test
  void aMessageFromAnUnknownNodeIsRefused() {
    JsonObject json = codec.encode(new Message.Answer(2, 4)).put("from", 9);
    assertEquals("from node 9, which is not in cluster.nodes",
        assertThrows(MessageCodec.InvalidMessage.class, () -> codec.decode(json)).getMessage());
  }

  @Test
  void numbersBeyondTwoToThe53AreRefused() {
    JsonObject atLimit = codec.encode(new Message.Answer(2, Message.MAX_NUMBER));
    assertEquals(Message.MAX_NUMBER, assertDoesNotThrow(() -> codec.decode(atLimit)).term());
    JsonObject huge = codec.encode(new Message.Answer(2, Long.MAX_VALUE));
    assertEquals("'term' is 9223372036854775807, beyond the protocol's limit of 2^53",
        assertThrows(MessageCodec.InvalidMessage.class, () -> codec.decode(huge)).getMessage());
    JsonObject past = codec.encode(new Message.Heartbeat(2, 4, Message.MAX_NUMBER + 1, LogPosition.EMPTY));
    assertThrows(MessageCodec.InvalidMessage.class, () -> codec.decode(past));
  }

  @Test
  void malformedMessagesAreRefused() {
    assertThrows(MessageCodec.InvalidMessage.class, () -> codec.decode("ELECTION"));
    assertThrows(MessageCodec.InvalidMessage.class, () -> codec.decode(codec.encode(new Message.Answer(2, 4)).put("term", -1)));
    assertThrows(MessageCodec.InvalidMessage.class, () -> codec.decode(codec.encode(new Message.Answer(2, 4)).put("type", "VOTE")));
    assertThrows(MessageCodec.InvalidMessage.class, () -> codec.decode(codec.encode(new Message.Heartbeat(2, 4, 0, LogPosition.EMPTY)).put("commitIndex", "x")));
    assertThrows(MessageCodec.InvalidMessage.class, () -> codec.decode(codec.encode(new Message.Ack(2, 4, LogPosition.EMPTY, 0, 3)).put("round", -3)));
    JsonObject claimWithoutFlag = codec.encode(new Message.Claim(2, 4, LogPosition.EMPTY, true, false));
    claimWithoutFlag.remove("preVote");
    assertThrows(MessageCodec.InvalidMessage.class, () -> codec.decode(claimWithoutFlag));
  }

  @Test
  void anAppendCarriesItsEntriesAsOneText() throws Exception {
    List<LogEntry> entries = List.of(new LogEntry(8, 5, "order-1", "{\"a\":[1,{\"b\":\"\\\"q\\\"\"}]}", 1000),
        new LogEntry(9, 5, null, null, 1001));
    Message.Append append = new Message.Append(2, 5, 7, 4, entries, 6);
    JsonObject wire = codec.encode(append);
    assertEquals(String.class, wire.getValue("entries").getClass());
    assertEquals(append, codec.decode(wire));
    JsonArray asArray = new JsonArray();
    entries.forEach(entry -> asArray.add(new JsonObject().put("index", entry.index()).put("term", entry.term())
        .put("data", entry.data() == null ? null : new JsonObject(entry.data())).put("ts", entry.timestampMs())));
    assertThrows(MessageCodec.InvalidMessage.class, () -> codec.decode(wire.copy().put("entries", asArray)),
        "entries as an array of objects are no format of this protocol");
  }

  @Test
  void anAppendWithMalformedOrMisplacedEntriesIsRefused() {
    JsonObject wire = codec.encode(new Message.Append(2, 5, 7, 4, List.of(new LogEntry(8, 5, null, "{}", 1)), 6));
    assertThrows(MessageCodec.InvalidMessage.class, () -> codec.decode(wire.copy().put("entries", "[{\"index\":8")));
    assertThrows(MessageCodec.InvalidMessage.class, () -> codec.decode(wire.copy().put("entries", 17)));
    assertThrows(MessageCodec.InvalidMessage.class, () -> codec.decode(wire.copy().put("prevIndex", 3)), "not consecutive");
    assertThrows(MessageCodec.InvalidMessage.class, () -> codec.decode(wire.copy().put("term", 4)), "an entry of a later term");
  }
}
