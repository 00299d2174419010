package dev.bully.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bully.core.LogEntry;
import dev.bully.core.WriteLimits;
import dev.bully.store.EntryCodec;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The door every write passes: each limit at, below and above its value, and what is let through. */
class WriteBodyTest {
  private static final WriteLimits LIMITS = new WriteLimits(1024, 8, 10);

  private static WriteBody.Result check(String body) {
    return WriteBody.check(body.getBytes(StandardCharsets.UTF_8), LIMITS);
  }

  /** An object nested {@code depth} deep in all: {"a":{"a":...{}}}. */
  private static String nested(int depth) {
    return "{\"a\":".repeat(depth - 1) + "{}" + "}".repeat(depth - 1);
  }

  @Test
  void depthUpToTheLimitPassesAndOneMoreIsRefusedNamingTheLimit() {
    assertEquals(nested(8), check(nested(8)).data());
    WriteBody.Result deeper = check(nested(9));
    assertEquals(400, deeper.refusal().status());
    assertEquals("too_deep", deeper.refusal().error());
    assertTrue(deeper.refusal().message().contains("api.maxDepth"), deeper.refusal().message());
    assertEquals("too_deep", check("{\"a\":" + "[".repeat(200) + "]".repeat(200) + "}").refusal().error(), "arrays count too");
    // Twenty times the parsers' own limit: refused as too deep, no stack overflow.
    byte[] deepest = ("{\"a\":".repeat(20_000) + "1" + "}".repeat(20_000)).getBytes(StandardCharsets.UTF_8);
    assertEquals("too_deep", WriteBody.check(deepest, new WriteLimits(1024 * 1024, 8, 10)).refusal().error());
  }

  @Test
  void keysUpToTheLimitPassAndOneMoreIsRefused() {
    String ten = "{\"a\":{\"b\":1,\"c\":2},\"d\":[{\"e\":1},{\"f\":2}],\"g\":1,\"h\":1,\"i\":1,\"j\":1}";
    assertNull(check(ten).refusal());
    WriteBody.Result eleven = check(ten.replace("\"j\":1}", "\"j\":1,\"k\":1}"));
    assertEquals("too_many_keys", eleven.refusal().error());
    assertTrue(eleven.refusal().message().contains("api.maxKeys"));
  }

  @Test
  void sizeUpToTheLimitPassesAndOneByteMoreIsRefusedWith413() {
    String prefix = "{\"s\":\"";
    String atLimit = prefix + "x".repeat(1024 - prefix.length() - 2) + "\"}";
    assertEquals(1024, atLimit.length());
    assertEquals(atLimit, check(atLimit).data());
    WriteBody.Result over = check(atLimit.replace("\"}", "x\"}"));
    assertEquals(413, over.refusal().status());
    assertTrue(over.refusal().message().contains("api.maxWriteBytes"));
  }

  @Test
  void whatPassesIsCompactWithNumbersAsWrittenAndReadsBackTheSameOnAnotherNode() {
    String body = "{ \"a\" : 1.00000000000000000001, \"b\": [1E5, -0, 9223372036854775807], \"c\": \"\\u00e9\\n\" }";
    String data = check(body).data();
    assertEquals("{\"a\":1.00000000000000000001,\"b\":[1E5,-0,9223372036854775807],\"c\":\"é\\n\"}", data);
    LogEntry entry = new LogEntry(1, 1, "k\"ey", data, 5);
    assertEquals(List.of(entry), EntryCodec.decode(EntryCodec.encode(List.of(entry))), "a follower copies the same bytes");
  }

  /** Every write becomes a document on every node: what a document cannot hold is refused before it is in the log. */
  @Test
  void whatADocumentCannotHoldIsRefusedWith400() {
    assertEquals("invalid_number", check("{\"b\":[12345678901234567890123]}").refusal().error());
    assertEquals("invalid_number", check("{\"f\":1e400}").refusal().error());
    assertEquals("invalid_field_name", check("{\"$set\":1}").refusal().error());
    assertEquals("invalid_field_name", check("{\"a\":[{\"$gt\":1}]}").refusal().error());
    assertEquals("invalid_field_name", check("{\"a\\u0000b\":1}").refusal().error());
    assertEquals("invalid_field_name", check("{\"_id\":1}").refusal().error());
    assertEquals("invalid_field_name", check("{\"_version\":1}").refusal().error());
    assertEquals("{\"a\":{\"_id\":1,\"x$\":2}}", check("{\"a\":{\"_id\":1,\"x$\":2}}").data(), "below the top, _id is data");
  }

  @Test
  void anythingButOneWellFormedObjectIsRefusedWith400() {
    for (String body : List.of("", "[]", "1", "\"x\"", "null", "{", "{\"a\":1}{}", "{\"a\":1} x", "{\"a\":1,\"a\":2}",
        "{\"a\":NaN}", "{'a':1}", "{\"a\":01}", "\u0000")) {
      WriteBody.Result result = check(body);
      assertEquals(400, result.refusal() == null ? 0 : result.refusal().status(), "for body '" + body + "'");
    }
  }
}
