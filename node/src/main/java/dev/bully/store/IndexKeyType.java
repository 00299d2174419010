package dev.bully.store;

import de.bwaldvogel.mongo.backend.KeyValue;
import java.util.concurrent.ConcurrentHashMap;
import org.h2.mvstore.type.ObjectDataType;

/**
 * The key type of the embedded store's unique indexes (the {@code _id} index of every collection
 * among them): H2's own, which orders mongo-java-server's index keys ({@code KeyValue}, not
 * {@code Comparable}) by their Java-serialized bytes, and serializes both keys anew for every
 * comparison. A look-up by id so compared a dozen keys, each serialized twice: measured here, a
 * third of a coordinator's CPU samples while it took document puts. This type orders the keys
 * exactly as H2's does (the same bytes, compared the same way), so indexes written before read
 * the same, but remembers the bytes of the keys it serialized lately: a key is serialized once
 * while it is in use.
 */
final class IndexKeyType extends ObjectDataType {
  /** Keys remembered at most; all are forgotten at once past it (a node's hot keys come back at once). */
  private static final int MAX_KEYS = 10_000;
  private final ConcurrentHashMap<KeyValue, byte[]> serialized = new ConcurrentHashMap<>();

  @Override
  public int compare(Object a, Object b) {
    if (a instanceof KeyValue ka && b instanceof KeyValue kb) {
      return a.equals(b) ? 0 : ObjectDataType.compareNotNull(bytes(ka), bytes(kb));
    }
    return super.compare(a, b);
  }

  @Override
  public int getMemory(Object obj) {
    return obj instanceof KeyValue key ? 24 + bytes(key).length : super.getMemory(obj);
  }

  private byte[] bytes(KeyValue key) {
    byte[] known = serialized.get(key);
    if (known != null) {
      return known;
    }
    if (serialized.size() >= MAX_KEYS) {
      serialized.clear();
    }
    byte[] bytes = ObjectDataType.serialize(key);
    serialized.put(key, bytes);
    return bytes;
  }
}
