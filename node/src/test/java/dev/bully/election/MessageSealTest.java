package dev.bully.election;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** What a sealed protocol message proves: the secret, the cluster and the receiver. */
class MessageSealTest {
  private static final Optional<String> SECRET = Optional.of("a-secret-of-enough-length");
  private final Buffer json = Buffer.buffer("{\"type\":\"ANSWER\",\"cluster\":\"blue\",\"from\":2,\"term\":4}");

  @Test
  void theReceiverItWasSealedForOpensIt() {
    MessageSeal seal = new MessageSeal("blue", SECRET);
    Buffer sealed = seal.seal(3, json);
    assertEquals(MessageSeal.MAC_BYTES + json.length(), sealed.length());
    assertEquals(json, new MessageSeal("blue", SECRET).open(3, sealed).orElseThrow());
  }

  @Test
  void anotherReceiverAnotherSecretOrAnotherClusterCannot() {
    Buffer sealed = new MessageSeal("blue", SECRET).seal(3, json);
    assertTrue(new MessageSeal("blue", SECRET).open(2, sealed).isEmpty(), "replayed to another node");
    assertTrue(new MessageSeal("blue", Optional.of("another-secret-of-length")).open(3, sealed).isEmpty());
    assertTrue(new MessageSeal("green", SECRET).open(3, sealed).isEmpty());
    assertTrue(new MessageSeal("blue", Optional.empty()).open(3, sealed).isEmpty(), "a node without the secret");
  }

  @Test
  void anyChangedByteOrATruncatedMessageFails() {
    MessageSeal seal = new MessageSeal("blue", SECRET);
    Buffer sealed = seal.seal(3, json);
    for (int i = 0; i < sealed.length(); i++) {
      Buffer forged = sealed.copy();
      forged.setByte(i, (byte) (forged.getByte(i) ^ 1));
      assertTrue(seal.open(3, forged).isEmpty(), "byte " + i + " changed");
    }
    assertTrue(seal.open(3, sealed.slice(0, sealed.length() - 1).copy()).isEmpty());
    assertTrue(seal.open(3, Buffer.buffer(new byte[MessageSeal.MAC_BYTES])).isEmpty());
    assertTrue(seal.open(3, Buffer.buffer()).isEmpty());
  }

  @Test
  void withoutASecretTheSealStillKeepsClustersApart() {
    Buffer sealed = new MessageSeal("blue", Optional.empty()).seal(1, json);
    assertEquals(json, new MessageSeal("blue", Optional.empty()).open(1, sealed).orElseThrow());
    assertTrue(new MessageSeal("green", Optional.empty()).open(1, sealed).isEmpty());
  }
}
