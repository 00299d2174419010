package dev.bully.store;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import dev.bully.core.LogEntry;
import dev.bully.core.WriteLimits;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Log entries as one JSON text, {@code [{"index":..,"term":..,"requestId":..,"data":{..},"ts":..}, ..]}:
 * how a log segment holds its entries.
 *
 * <p>A batch of entries is one string to the store rather than a tree of documents:
 * mongo-java-server serializes every nested value of a document one by one, so a segment of a
 * thousand entry documents costs several times the insert and commit of the same entries as one
 * string (see docs/benchmarks.md). An entry's data is already JSON text; it is written as is,
 * and read back with the parser's copy of its structure, never as a tree.
 */
public final class EntryCodec {
  /**
   * Entries come from this node's store and from peers: their data may nest as deeply as the door
   * admits at most, plus the array and the entry around it, and no deeper.
   */
  private static final JsonFactory JSON = JsonFactory.builder()
      // Keys are client data, copied and never looked up: interning or canonicalizing a hundred thousand
      // distinct ones costs a symbol table rehashed over and over, on the event loop.
      .disable(JsonFactory.Feature.INTERN_FIELD_NAMES)
      .disable(JsonFactory.Feature.CANONICALIZE_FIELD_NAMES)
      .streamReadConstraints(StreamReadConstraints.builder()
          .maxNestingDepth(WriteLimits.MAX_DEPTH_CEILING + WriteLimits.WRAPPING_DEPTH).build())
      .build();
  private static final JsonStringEncoder QUOTE = JsonStringEncoder.getInstance();

  private EntryCodec() {
  }

  /** The entries as a JSON array. Each entry's data must be JSON text (as every entry's is: it was parsed once). */
  public static String encode(List<LogEntry> entries) {
    long chars = 2;
    for (LogEntry entry : entries) {
      chars += WriteLimits.entryChars(entry);
    }
    StringBuilder text = new StringBuilder((int) Math.min(chars, Integer.MAX_VALUE - 8)).append('[');
    for (LogEntry entry : entries) {
      if (text.length() > 1) {
        text.append(',');
      }
      append(text, entry, "");
    }
    return text.append(']').toString();
  }

  /**
   * One entry as a JSON object, {@code {"index":..,"term":..,"requestId":..,"data":{..},"ts":..}},
   * with {@code extraFields} (such as {@code ,"name":value}, or empty) before its closing brace.
   */
  public static StringBuilder append(StringBuilder text, LogEntry entry, String extraFields) {
    text.append("{\"index\":").append(entry.index()).append(",\"term\":").append(entry.term());
    if (entry.requestId() != null) {
      text.append(",\"requestId\":\"").append(QUOTE.quoteAsString(entry.requestId())).append('"');
    }
    return text.append(",\"data\":").append(entry.data() == null ? "null" : entry.data())
        .append(",\"ts\":").append(entry.timestampMs()).append(extraFields).append('}');
  }

  /**
   * Entries as a store document holds them: their JSON text as UTF-8 in a BSON binary value. The
   * MongoDB driver copies a binary value whole, where it encodes a string character by character,
   * and the embedded store serializes it whole as well: for large entries several times faster.
   */
  public static JsonObject toStored(List<LogEntry> entries) {
    return new JsonObject().put("$binary", encode(entries).getBytes(StandardCharsets.UTF_8));
  }

  /** The entries of a store document's value, binary as {@link #toStored} writes it. */
  public static List<LogEntry> fromStored(Object value) {
    if (value instanceof JsonObject binary && binary.containsKey("$binary")) {
      return decode(binary.getBinary("$binary"));
    }
    throw new IllegalArgumentException("stored entries are not binary");
  }

  /** The entries of a JSON array written by {@link #encode}, as UTF-8. */
  public static List<LogEntry> decode(byte[] utf8) {
    try (JsonParser parser = JSON.createParser(utf8)) {
      return decode(parser);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // read from memory
    }
  }

  /**
   * The entries of a JSON array written by {@link #encode}.
   *
   * @throws IllegalArgumentException if the text is not such an array, naming what is wrong
   */
  public static List<LogEntry> decode(String text) {
    try (JsonParser parser = JSON.createParser(text)) {
      return decode(parser);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // read from memory
    }
  }

  private static List<LogEntry> decode(JsonParser parser) throws IOException {
    try {
      expect(parser.nextToken(), JsonToken.START_ARRAY, "an array of entries");
      List<LogEntry> entries = new ArrayList<>();
      while (parser.nextToken() == JsonToken.START_OBJECT) {
        entries.add(entry(parser, entries.size()));
      }
      expect(parser.currentToken(), JsonToken.END_ARRAY, "the end of the array of entries");
      return entries;
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("entries are not valid JSON: " + e.getOriginalMessage(), e);
    }
  }

  private static LogEntry entry(JsonParser parser, int position) throws IOException {
    Long index = null;
    Long term = null;
    Long ts = null;
    String requestId = null;
    String data = null;
    while (parser.nextToken() == JsonToken.FIELD_NAME) {
      String field = parser.currentName();
      JsonToken value = parser.nextToken();
      switch (field) {
        case "index" -> index = number(parser, value, position, field);
        case "term" -> term = number(parser, value, position, field);
        case "ts" -> ts = number(parser, value, position, field);
        case "requestId" -> requestId = value == JsonToken.VALUE_NULL ? null : string(parser, value, position, field);
        case "data" -> data = value == JsonToken.VALUE_NULL ? null : object(parser, value, position);
        default -> parser.skipChildren();
      }
    }
    if (index == null || term == null || ts == null) {
      throw new IllegalArgumentException("entry " + position + " lacks index, term or ts");
    }
    return new LogEntry(index, term, requestId, data, ts);
  }

  private static long number(JsonParser parser, JsonToken value, int position, String field) throws IOException {
    if (value != JsonToken.VALUE_NUMBER_INT) {
      throw new IllegalArgumentException("entry " + position + ": '" + field + "' is not an integer");
    }
    return parser.getLongValue();
  }

  private static String string(JsonParser parser, JsonToken value, int position, String field) throws IOException {
    if (value != JsonToken.VALUE_STRING) {
      throw new IllegalArgumentException("entry " + position + ": '" + field + "' is not a string");
    }
    return parser.getText();
  }

  /** The data object's JSON text, copied token by token, numbers as written, without recursion ({@link #copyExactly}). */
  private static String object(JsonParser parser, JsonToken value, int position) throws IOException {
    if (value != JsonToken.START_OBJECT) {
      throw new IllegalArgumentException("entry " + position + ": 'data' is not an object");
    }
    StringWriter copy = new StringWriter(64);
    try (JsonGenerator generator = JSON.createGenerator(copy)) {
      int depth = 0;
      JsonToken token = parser.currentToken();
      do {
        if (token == JsonToken.START_OBJECT || token == JsonToken.START_ARRAY) {
          depth++;
        } else if (token == JsonToken.END_OBJECT || token == JsonToken.END_ARRAY) {
          depth--;
        }
        copyExactly(token, parser, generator);
      } while (depth > 0 && (token = parser.nextToken()) != null);
    }
    return copy.toString();
  }

  /**
   * Copies the parser's current token. Numbers keep their text: a float copied through a double
   * could be written differently on another node (1.00000000000000000001 as 1.0), and nodes must
   * hold the same bytes.
   */
  public static void copyExactly(JsonToken token, JsonParser parser, JsonGenerator generator) throws IOException {
    if (token == JsonToken.VALUE_NUMBER_INT || token == JsonToken.VALUE_NUMBER_FLOAT) {
      generator.writeNumber(parser.getText());
    } else {
      generator.copyCurrentEvent(parser);
    }
  }

  private static void expect(JsonToken actual, JsonToken expected, String what) {
    if (actual != expected) {
      throw new IllegalArgumentException("expected " + what + ", found " + actual);
    }
  }
}
