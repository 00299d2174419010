package dev.bully.data;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import dev.bully.apply.Change;
import dev.bully.core.LogEntry;
import io.vertx.core.json.JsonObject;
import java.util.regex.Pattern;

/**
 * What one committed log entry does to the node's documents, as every node applies it.
 *
 * <p>An entry's data is the operation's JSON text, {@code {"$op":"put","collection":..,"id":..,
 * "expect":..,"doc":{..}}}. No client body can start that way: the door refuses field names that
 * start with {@code $} (as MongoDB does for stored documents), so an entry whose data does not start
 * with {@code {"$op":} is a write of {@code POST /api/writes}, the document {@code writes/<index>}.
 *
 * @param kind       what it does
 * @param collection the collection it writes (for an append, {@link #WRITES})
 * @param id         the document's id (for an append, the entry's index)
 * @param doc        the document's fields (puts and appends), else null
 * @param expect     the condition: {@link #ANY} none, {@link #ABSENT} the document must not exist
 *                   ({@code If-None-Match: *}), else the version it must have ({@code If-Match})
 */
public record Operation(Kind kind, String collection, Object id, JsonObject doc, long expect) implements Change {
  /** The collection {@code POST /api/writes} appends to, one document per entry, its id the entry's index. */
  public static final String WRITES = "writes";
  /** Collection names: what every MongoDB accepts and a URL carries as is; {@code _} and {@code system.} are ours. */
  public static final Pattern COLLECTION = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]{0,63}");
  /** Document ids: 1 to 256 characters a URL path carries as they are. */
  public static final Pattern ID = Pattern.compile("[A-Za-z0-9._~:@+=-]{1,256}");
  private static final String MARK = "{\"$op\":\"";
  private static final JsonStringEncoder QUOTE = JsonStringEncoder.getInstance();

  /** A put of an empty document, for tests of the rules. */
  static Operation put(String collection, String id, long expect) {
    return put(collection, id, new JsonObject(), expect);
  }

  /** A put of {@code doc}, for tests of the rules. */
  static Operation put(String collection, String id, JsonObject doc, long expect) {
    return new Operation(Kind.PUT, collection, id, doc, expect);
  }

  /** A delete, for tests of the rules. */
  static Operation delete(String collection, String id, long expect) {
    return new Operation(Kind.DELETE, collection, id, null, expect);
  }

  /** The entry data of a put of {@code doc} (compact JSON text that passed the door). */
  public static String encodePut(String collection, String id, String doc, long expect) {
    return head("put", collection, id, expect).append(",\"doc\":").append(doc).append('}').toString();
  }

  /** The entry data of a delete. */
  public static String encodeDelete(String collection, String id, long expect) {
    return head("delete", collection, id, expect).append('}').toString();
  }

  private static StringBuilder head(String op, String collection, String id, long expect) {
    StringBuilder text = new StringBuilder(MARK).append(op).append("\",\"collection\":\"")
        .append(QUOTE.quoteAsString(collection)).append("\",\"id\":\"").append(QUOTE.quoteAsString(id)).append('"');
    if (expect != ANY) {
      text.append(",\"expect\":").append(expect);
    }
    return text;
  }

  /**
   * The operation {@code entry} carries; a write of {@code POST /api/writes} is an append only with
   * {@code writesCollection} ({@code data.writesCollection}), else nothing. Never fails: an entry's data passed the door of the
   * coordinator that appended it, and one that still does not read as an operation does nothing
   * ({@link Kind#NONE}); {@link #problem} then says why.
   */
  public static Operation of(LogEntry entry, boolean writesCollection) {
    String data = entry.data();
    if (data == null || (!writesCollection && !data.startsWith(MARK))) {
      return new Operation(Kind.NONE, null, null, null, ANY);
    }
    try {
      if (!data.startsWith(MARK)) {
        return new Operation(Kind.APPEND, WRITES, entry.index(), new JsonObject(data), ANY);
      }
      JsonObject op = new JsonObject(data);
      Kind kind = Kind.valueOf(op.getString("$op", "").toUpperCase());
      if (kind == Kind.NONE || kind == Kind.APPEND) {
        return new Operation(Kind.NONE, null, null, null, ANY);
      }
      String collection = op.getString("collection");
      String id = op.getString("id");
      JsonObject doc = op.getJsonObject("doc");
      if (collection == null || id == null || (kind == Kind.PUT) != (doc != null)) {
        return invalid("entry " + entry.index() + " lacks its collection, id or document");
      }
      return new Operation(kind, collection, id, doc, op.getLong("expect", ANY));
    } catch (RuntimeException e) {
      return invalid("entry " + entry.index() + " is not an operation: " + e.getMessage());
    }
  }

  private static Operation invalid(String why) {
    return new Operation(Kind.NONE, null, why, null, ANY);
  }

  /** Why an entry that looked like an operation does nothing, or null. */
  public String problem() {
    return kind == Kind.NONE && id instanceof String why ? why : null;
  }
}
