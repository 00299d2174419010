package dev.bully.store;

import static org.junit.jupiter.api.Assertions.assertEquals;

import de.bwaldvogel.mongo.backend.KeyValue;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.h2.mvstore.type.ObjectDataType;
import org.junit.jupiter.api.Test;

/**
 * The embedded store's index keys are ordered as H2 orders them: an index written by a build
 * without {@link IndexKeyType} is read by one with it, and the other way round, only if every
 * comparison comes out the same.
 */
class IndexKeyTypeTest {
  @Test
  void keysCompareAsH2ComparesThemWhateverTheirValues() {
    long seed = new SplittableRandom().nextLong();
    SplittableRandom random = new SplittableRandom(seed);
    List<KeyValue> keys = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      keys.add(switch (random.nextInt(4)) {
        case 0 -> new KeyValue("doc-" + random.nextInt(1000));
        case 1 -> new KeyValue((long) random.nextInt(100_000));
        case 2 -> new KeyValue(random.nextInt(50), "x" + random.nextInt(5));
        default -> new KeyValue("é€" + random.nextInt(100));
      });
    }
    ObjectDataType h2 = new ObjectDataType();
    IndexKeyType cached = new IndexKeyType();
    for (KeyValue a : keys) {
      for (KeyValue b : keys) {
        assertEquals(Integer.signum(h2.compare(a, b)), Integer.signum(cached.compare(a, b)),
            a + " against " + b + " (seed " + seed + ")");
      }
    }
    assertEquals(0, cached.compare(new KeyValue("same"), new KeyValue("same")));
    assertEquals(Integer.signum(h2.compare("plain", 7L)), Integer.signum(cached.compare("plain", 7L)), "other keys as H2's");
  }
}
