package dev.bully.election;

import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Authenticates protocol messages: each travels as {@code HMAC-SHA256(key, receiver id, JSON) ‖ JSON},
 * keyed by a key derived from the cluster secret and the cluster name. A receiver opens only what
 * verifies for itself, so a message cannot be forged without the secret, and one meant for another
 * node (an acknowledgement for a claimer, say) cannot be replayed to this one. What the MAC does not
 * stop, the protocol does: a replayed message of an older term is refused by the term check, and
 * within one term a coordinator's entries at an index never change, so a replayed APPEND or
 * heartbeat repeats what the node already knows (at most it delays a failure suspicion, a liveness
 * matter).
 *
 * <p>Without a secret (a loopback-only node) the key derives from the cluster name alone, which
 * anyone who can read {@code /api/status} knows: the seal then only keeps clusters apart.
 *
 * <p>Not thread-safe: one instance per event loop.
 */
final class MessageSeal {
  static final int MAC_BYTES = 32;
  private static final String ALGORITHM = "HmacSHA256";

  private final Mac mac;
  private final byte[] receiver = new byte[4];
  private final byte[] expected = new byte[MAC_BYTES];

  MessageSeal(String cluster, Optional<String> secret) {
    try {
      byte[] material = secret.orElse("bully-cluster:" + cluster).getBytes(StandardCharsets.UTF_8);
      Mac derive = Mac.getInstance(ALGORITHM);
      derive.init(new SecretKeySpec(material, ALGORITHM));
      byte[] key = derive.doFinal(("bully-cluster protocol messages v1|" + cluster).getBytes(StandardCharsets.UTF_8));
      mac = Mac.getInstance(ALGORITHM);
      mac.init(new SecretKeySpec(key, ALGORITHM));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HMAC-SHA256 is not available in this JVM", e);
    }
  }

  /** The message {@code json} for node {@code to}, sealed. */
  Buffer seal(int to, Buffer json) {
    byte[] bytes = json.getBytes();
    byte[] tag = tag(to, bytes, 0, bytes.length);
    return Buffer.buffer(MAC_BYTES + bytes.length).appendBytes(tag).appendBytes(bytes);
  }

  /** The JSON of a message sealed for node {@code me}, or empty when it does not verify. */
  Optional<Buffer> open(int me, Buffer sealed) {
    if (sealed.length() <= MAC_BYTES) {
      return Optional.empty();
    }
    byte[] bytes = sealed.getBytes();
    byte[] tag = tag(me, bytes, MAC_BYTES, bytes.length - MAC_BYTES);
    System.arraycopy(bytes, 0, expected, 0, MAC_BYTES);
    if (!MessageDigest.isEqual(tag, expected)) {
      return Optional.empty();
    }
    return Optional.of(sealed.slice(MAC_BYTES, sealed.length()));
  }

  private byte[] tag(int to, byte[] bytes, int offset, int length) {
    receiver[0] = (byte) (to >>> 24);
    receiver[1] = (byte) (to >>> 16);
    receiver[2] = (byte) (to >>> 8);
    receiver[3] = (byte) to;
    mac.update(receiver);
    mac.update(bytes, offset, length);
    return mac.doFinal();
  }
}
