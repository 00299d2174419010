package dev.bully.election;

import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Authenticates protocol messages and refuses replays. Each message travels as
 * {@code MAC ‖ sender ‖ incarnation ‖ sequence ‖ JSON}, the MAC an HMAC-SHA256 over the receiver's
 * id and all the rest, keyed by a key derived from the cluster secret and the cluster name. So a
 * message cannot be forged without the secret, and one meant for another node (an acknowledgement
 * for a claimer, say) does not open here. The sender numbers its messages: its incarnation (one
 * more on every start, kept in its store) and a sequence within it. Messages from one node to
 * another arrive in order, so a receiver takes from each sender only messages newer than the
 * newest it took: a recorded message sent again is refused, whatever its term.
 *
 * <p>What numbering cannot cover: right after this node starts it knows no sender's number yet,
 * so the first message it opens from a peer may be an old one. Terms and indexes guard what that
 * one can do: a message of an older term is refused by the term check, and within one term a
 * coordinator's entries at an index never change, so an old APPEND or heartbeat repeats what the
 * node already knows.
 *
 * <p>Without a secret (a loopback-only node) the key derives from the cluster name alone, which
 * anyone who can read {@code /api/status} knows: the seal then only keeps clusters apart.
 *
 * <p>Not thread-safe: one instance per event loop, which sends and receives in order.
 */
final class MessageSeal {
  static final int MAC_BYTES = 32;
  static final int HEADER_BYTES = MAC_BYTES + 4 + 8 + 8;
  private static final String ALGORITHM = "HmacSHA256";
  private static final byte[] EMPTY = new byte[0];

  /** An opened message: who sent it, numbered how, and its JSON. */
  record Opened(int from, long incarnation, long sequence, Buffer json) {
  }

  /** Why a message did not open. */
  enum Refusal { UNAUTHENTICATED, REPLAYED }

  private final Mac mac;
  private final int me;
  private final long incarnation;
  private long sequence;
  private final byte[] receiver = new byte[4];
  /** Per sender: the newest {incarnation, sequence} opened. */
  private final Map<Integer, long[]> newest = new HashMap<>();

  /** {@code me}: this node's id; {@code incarnation}: this start's number ({@code NodeStore#nextIncarnation}). */
  MessageSeal(String cluster, Optional<String> secret, int me, long incarnation) {
    this.me = me;
    this.incarnation = incarnation;
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

  /** The message {@code json} for node {@code to}, numbered and sealed. */
  Buffer seal(int to, Buffer json) {
    Buffer numbers = Buffer.buffer(HEADER_BYTES - MAC_BYTES).appendInt(me).appendLong(incarnation).appendLong(++sequence);
    byte[] tag = tag(to, numbers.getBytes(), json.getBytes(), 0);
    return Buffer.buffer(HEADER_BYTES + json.length()).appendBytes(tag).appendBuffer(numbers).appendBuffer(json);
  }

  /**
   * The message sealed for this node, if it verifies and is newer than every message opened from
   * its sender; else why not.
   */
  Result open(Buffer sealed) {
    if (sealed.length() <= HEADER_BYTES) {
      return new Result(null, Refusal.UNAUTHENTICATED);
    }
    byte[] bytes = sealed.getBytes();
    if (!MessageDigest.isEqual(tag(me, EMPTY, bytes, MAC_BYTES), java.util.Arrays.copyOf(bytes, MAC_BYTES))) {
      return new Result(null, Refusal.UNAUTHENTICATED);
    }
    int from = sealed.getInt(MAC_BYTES);
    long theirIncarnation = sealed.getLong(MAC_BYTES + 4);
    long theirSequence = sealed.getLong(MAC_BYTES + 12);
    long[] last = newest.get(from);
    if (last != null && (theirIncarnation < last[0] || (theirIncarnation == last[0] && theirSequence <= last[1]))) {
      return new Result(null, Refusal.REPLAYED);
    }
    newest.put(from, new long[] {theirIncarnation, theirSequence});
    return new Result(new Opened(from, theirIncarnation, theirSequence, sealed.slice(HEADER_BYTES, sealed.length())), null);
  }

  /** An opened message, or the refusal. */
  record Result(Opened opened, Refusal refusal) {
  }

  /**
   * HMAC over the receiver's id and everything after the MAC: {@code head}, then {@code rest} from
   * {@code offset} (a sealed message is MACed in one piece; one being sealed, as its numbers and its JSON).
   */
  private byte[] tag(int to, byte[] head, byte[] rest, int offset) {
    receiver[0] = (byte) (to >>> 24);
    receiver[1] = (byte) (to >>> 16);
    receiver[2] = (byte) (to >>> 8);
    receiver[3] = (byte) to;
    mac.update(receiver);
    mac.update(head);
    mac.update(rest, offset, rest.length - offset);
    return mac.doFinal();
  }
}
