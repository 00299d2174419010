package dev.bully.election;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.bully.election.MessageSeal.Refusal;
import io.vertx.core.buffer.Buffer;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** What a sealed protocol message proves: the secret, the cluster, the receiver, and that it is new. */
class MessageSealTest {
  private static final Optional<String> SECRET = Optional.of("a-secret-of-enough-length");
  private final Buffer json = Buffer.buffer("{\"type\":\"ANSWER\",\"cluster\":\"blue\",\"from\":2,\"term\":4}");

  private static MessageSeal node(int id, long incarnation) {
    return new MessageSeal("blue", SECRET, id, incarnation);
  }

  @Test
  void theReceiverItWasSealedForOpensItWithItsSenderAndNumber() {
    Buffer sealed = node(2, 7).seal(3, json);
    assertEquals(MessageSeal.HEADER_BYTES + json.length(), sealed.length());
    MessageSeal.Opened opened = node(3, 1).open(sealed).opened();
    assertEquals(new MessageSeal.Opened(2, 7, 1, json), opened);
  }

  @Test
  void anotherReceiverAnotherSecretOrAnotherClusterCannot() {
    Buffer sealed = node(2, 1).seal(3, json);
    assertEquals(Refusal.UNAUTHENTICATED, node(1, 1).open(sealed).refusal(), "sent again to another node");
    assertEquals(Refusal.UNAUTHENTICATED, new MessageSeal("blue", Optional.of("another-secret-of-length"), 3, 1).open(sealed).refusal());
    assertEquals(Refusal.UNAUTHENTICATED, new MessageSeal("green", SECRET, 3, 1).open(sealed).refusal());
    assertEquals(Refusal.UNAUTHENTICATED, new MessageSeal("blue", Optional.empty(), 3, 1).open(sealed).refusal(),
        "a node without the secret");
  }

  @Test
  void anyChangedByteOrATruncatedMessageFails() {
    Buffer sealed = node(2, 1).seal(3, json);
    for (int i = 0; i < sealed.length(); i++) {
      Buffer forged = sealed.copy();
      forged.setByte(i, (byte) (forged.getByte(i) ^ 1));
      assertEquals(Refusal.UNAUTHENTICATED, node(3, 1).open(forged).refusal(), "byte " + i + " changed");
    }
    assertEquals(Refusal.UNAUTHENTICATED, node(3, 1).open(sealed.slice(0, sealed.length() - 1).copy()).refusal());
    assertEquals(Refusal.UNAUTHENTICATED, node(3, 1).open(Buffer.buffer(new byte[MessageSeal.HEADER_BYTES])).refusal());
    assertEquals(Refusal.UNAUTHENTICATED, node(3, 1).open(Buffer.buffer()).refusal());
  }

  @Test
  void aMessageOlderThanOneTakenFromItsSenderIsAReplay() {
    MessageSeal sender = node(2, 5);
    MessageSeal receiver = node(3, 1);
    Buffer first = sender.seal(3, json);
    Buffer second = sender.seal(3, json);
    assertNull(receiver.open(first).refusal());
    assertNull(receiver.open(second).refusal());
    assertEquals(Refusal.REPLAYED, receiver.open(second).refusal(), "the same again");
    assertEquals(Refusal.REPLAYED, receiver.open(first).refusal(), "an older one");
    Buffer afterRestart = node(2, 6).seal(3, json);
    assertNull(receiver.open(afterRestart).refusal(), "the sender's next start numbers from 1 again, in a later incarnation");
    assertEquals(Refusal.REPLAYED, receiver.open(sender.seal(3, json)).refusal(), "its earlier start's messages are old now");
  }

  @Test
  void withoutASecretTheSealStillKeepsClustersApart() {
    Buffer sealed = new MessageSeal("blue", Optional.empty(), 1, 1).seal(2, json);
    assertEquals(json, new MessageSeal("blue", Optional.empty(), 2, 1).open(sealed).opened().json());
    assertEquals(Refusal.UNAUTHENTICATED, new MessageSeal("green", Optional.empty(), 2, 1).open(sealed).refusal());
  }
}
