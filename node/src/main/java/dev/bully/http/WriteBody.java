package dev.bully.http;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import dev.bully.core.WriteLimits;
import dev.bully.store.EntryCodec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * The door every client write passes: the body must be one JSON object within {@link WriteLimits},
 * and what goes on is its compact JSON text, copied token by token (no tree, no recursion, so no
 * depth can overflow the stack here or later). Numbers are copied as written; a key may appear
 * only once per object, since a document cannot hold it twice.
 */
final class WriteBody {
  private static final JsonFactory JSON = JsonFactory.builder()
      // Keys are client data, copied and never looked up: interning or canonicalizing a hundred thousand
      // distinct ones costs a symbol table rehashed over and over, on the event loop.
      .disable(JsonFactory.Feature.INTERN_FIELD_NAMES)
      .disable(JsonFactory.Feature.CANONICALIZE_FIELD_NAMES)
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      // Our own depth check answers first, with the limit's name; this is the parser's backstop.
      .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(WriteLimits.MAX_DEPTH_CEILING + 1).build())
      .build();

  /** A body the door refused: the HTTP status, the error code and a message naming the limit. */
  record Refusal(int status, String error, String message) {
  }

  /** The body's compact JSON text, or why it was refused; exactly one of the two is set. */
  record Result(String data, Refusal refusal) {
    static Result refused(int status, String error, String message) {
      return new Result(null, new Refusal(status, error, message));
    }
  }

  private WriteBody() {
  }

  static Result check(byte[] body, WriteLimits limits) {
    if (body.length > limits.maxWriteBytes()) {
      return tooLarge(limits);
    }
    ByteArrayBuilder out = new ByteArrayBuilder(Math.min(body.length + 16, 64 * 1024));
    try (JsonParser parser = JSON.createParser(body); JsonGenerator generator = JSON.createGenerator(out, JsonEncoding.UTF8)) {
      if (parser.nextToken() != JsonToken.START_OBJECT) {
        return Result.refused(400, "not_an_object", "The body must be a JSON object");
      }
      int depth = 0;
      int keys = 0;
      for (JsonToken token = parser.currentToken(); token != null; token = depth == 0 ? null : parser.nextToken()) {
        switch (token) {
          case START_OBJECT, START_ARRAY -> {
            if (++depth > limits.maxDepth()) {
              return Result.refused(400, "too_deep", "The body nests objects and arrays " + depth
                  + " deep or more; the limit (api.maxDepth) is " + limits.maxDepth());
            }
          }
          case END_OBJECT, END_ARRAY -> depth--;
          case FIELD_NAME -> {
            if (++keys > limits.maxKeys()) {
              return Result.refused(400, "too_many_keys", "The body has more than " + limits.maxKeys()
                  + " keys; the limit (api.maxKeys) counts the keys of all its objects");
            }
            String refused = refusedName(parser.currentName(), depth);
            if (refused != null) {
              return Result.refused(400, "invalid_field_name", refused);
            }
          }
          case VALUE_NUMBER_INT -> {
            if (parser.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
              return Result.refused(400, "invalid_number", "The integer " + abbreviated(parser.getText())
                  + " is beyond a 64-bit integer, the largest a document holds");
            }
          }
          case VALUE_NUMBER_FLOAT -> {
            if (!Double.isFinite(parser.getDoubleValue())) {
              return Result.refused(400, "invalid_number", "The number " + abbreviated(parser.getText())
                  + " is beyond a 64-bit float, the largest a document holds");
            }
          }
          default -> {
          }
        }
        EntryCodec.copyExactly(token, parser, generator);
      }
      if (parser.nextToken() != null) {
        return Result.refused(400, "invalid_json", "The body holds more than one JSON value");
      }
    } catch (JsonProcessingException e) {
      return Result.refused(400, "invalid_json", "The body is not valid JSON: " + firstLine(e.getOriginalMessage()));
    } catch (IOException e) {
      throw new UncheckedIOException(e); // parsed from and written to memory
    }
    byte[] compact = out.toByteArray();
    if (compact.length > limits.maxWriteBytes()) {
      return tooLarge(limits); // numbers written out again, e.g. 1E5 as 1E+5, can make it longer
    }
    return new Result(new String(compact, StandardCharsets.UTF_8), null);
  }

  /**
   * Why a field name cannot be stored in a document, or null: every write becomes a document on
   * every node, so what MongoDB refuses (a name that starts with {@code $} or holds a NUL) is refused
   * here, before it is in the log; {@code _id} and {@code _version} of the body's own object are the
   * cluster's (the document's id and the index that last wrote it).
   */
  private static String refusedName(String name, int depth) {
    if (name.startsWith("$")) {
      return "The field name '" + abbreviated(name) + "' starts with $, which a document may not hold";
    }
    if (name.indexOf('\0') >= 0) {
      return "A field name holds a NUL character, which a document may not hold";
    }
    if (depth == 1 && (name.equals("_id") || name.equals("_version"))) {
      return "The field " + name + " is set by the cluster: the id is in the URL (or the entry's index), the version"
          + " is the index of the write";
    }
    return null;
  }

  private static String abbreviated(String text) {
    return text.length() > 40 ? text.substring(0, 40) + "…" : text;
  }

  static Result tooLarge(WriteLimits limits) {
    return Result.refused(413, "too_large", "The body is over " + limits.maxWriteBytes()
        + " bytes, the limit (api.maxWriteBytes)");
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "unreadable";
    }
    String line = message.lines().findFirst().orElse(message);
    return line.length() > 200 ? line.substring(0, 200) + "…" : line;
  }
}
