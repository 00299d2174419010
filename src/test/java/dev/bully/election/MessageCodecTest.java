package dev.bully.election;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.bully.core.LogPosition;
import dev.bully.core.Message;
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
        new Message.Reject(2, 5, "stale term 4 < 5", 0),
        new Message.Heartbeat(3, 5, 12, log),
        new Message.TakeOver(2, 5, new LogPosition(4, 17)))) {
      assertEquals(message, codec.decode(codec.encode(message)));
    }
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
  void malformedMessagesAreRefused() {
    assertThrows(MessageCodec.InvalidMessage.class, () -> codec.decode("ELECTION"));
    assertThrows(MessageCodec.InvalidMessage.class, () -> codec.decode(codec.encode(new Message.Answer(2, 4)).put("term", -1)));
    assertThrows(MessageCodec.InvalidMessage.class, () -> codec.decode(codec.encode(new Message.Answer(2, 4)).put("type", "VOTE")));
    assertThrows(MessageCodec.InvalidMessage.class, () -> codec.decode(codec.encode(new Message.Heartbeat(2, 4, 0, LogPosition.EMPTY)).put("commitIndex", "x")));
    JsonObject claimWithoutFlag = codec.encode(new Message.Claim(2, 4, LogPosition.EMPTY, true, false));
    claimWithoutFlag.remove("preVote");
    assertThrows(MessageCodec.InvalidMessage.class, () -> codec.decode(claimWithoutFlag));
  }
}
