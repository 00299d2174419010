package dev.bully.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bully.core.LogEntry;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;

class EntryCodecTest {

  private static final List<LogEntry> ENTRIES = List.of(
      new LogEntry(7, 2, null, null, 1_700_000_000_000L),
      new LogEntry(8, 3, "key \"quoted\" \\ back ü \n", "{\"n\":1,\"nested\":{\"a\":[1,2.5,\"x\"],\"b\":null},\"t\":\"é\\\"\"}", 5),
      new LogEntry(9, 3, "plain", "{}", 6));

  @Test
  void entriesComeBackAsTheyWere() {
    assertEquals(ENTRIES, EntryCodec.decode(EntryCodec.encode(ENTRIES)));
    assertEquals(List.of(), EntryCodec.decode(EntryCodec.encode(List.of())));
  }

  @Test
  void theTextIsTheDocumentedJsonShape() {
    JsonArray parsed = new JsonArray(EntryCodec.encode(ENTRIES));
    JsonObject second = parsed.getJsonObject(1);
    assertEquals(8L, second.getLong("index"));
    assertEquals(3L, second.getLong("term"));
    assertEquals("key \"quoted\" \\ back ü \n", second.getString("requestId"));
    assertEquals(new JsonObject(ENTRIES.get(1).data()), second.getJsonObject("data"));
    assertEquals(5L, second.getLong("ts"));
    assertTrue(parsed.getJsonObject(0).containsKey("data") && parsed.getJsonObject(0).getValue("data") == null,
        "a no-op has data null");
    assertEquals(false, parsed.getJsonObject(0).containsKey("requestId"));
  }

  @Test
  void dataReadBackIsCompactJsonTextAsJsonObjectWritesIt() {
    String spaced = "[{\"index\":1,\"term\":1,\"data\":{ \"a\" : [ 1, {\"b\" : true} ] },\"ts\":0}]";
    String data = EntryCodec.decode(spaced).get(0).data();
    assertEquals(new JsonObject("{\"a\":[1,{\"b\":true}]}").encode(), data);
  }

  @Test
  void malformedTextIsRefusedSayingWhatIsWrong() {
    assertEquals("expected an array of entries, found START_OBJECT",
        assertThrows(IllegalArgumentException.class, () -> EntryCodec.decode("{}")).getMessage());
    assertEquals("entry 0 lacks index, term or ts",
        assertThrows(IllegalArgumentException.class, () -> EntryCodec.decode("[{\"index\":1,\"ts\":0}]")).getMessage());
    assertEquals("entry 0: 'term' is not an integer",
        assertThrows(IllegalArgumentException.class, () -> EntryCodec.decode("[{\"index\":1,\"term\":\"2\",\"ts\":0}]")).getMessage());
    assertEquals("entry 1: 'data' is not an object", assertThrows(IllegalArgumentException.class,
        () -> EntryCodec.decode("[{\"index\":1,\"term\":1,\"ts\":0},{\"index\":2,\"term\":1,\"ts\":0,\"data\":[1]}]")).getMessage());
    assertTrue(assertThrows(IllegalArgumentException.class, () -> EntryCodec.decode("[{\"index\":1,"))
        .getMessage().startsWith("entries are not valid JSON"));
    assertEquals("expected the end of the array of entries, found VALUE_NUMBER_INT",
        assertThrows(IllegalArgumentException.class, () -> EntryCodec.decode("[1]")).getMessage());
  }
}
