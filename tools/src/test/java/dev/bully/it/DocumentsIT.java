package dev.bully.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bully.tools.Await;
import dev.bully.tools.LocalCluster;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.file.FileSystemOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.FindOptions;
import io.vertx.ext.mongo.MongoClient;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The document API on three real nodes: every node applies the committed operations to its own
 * MongoDB, read there with a MongoDB client; conditions decided at apply; local, minIndex and
 * linearizable reads; a node killed under writes applies on from its applied index; bad input.
 */
@ExtendWith(NodeLogsOnFailure.class)
class DocumentsIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);
  private static final String JSON = "application/json";

  @TempDir
  static Path dir;
  static LocalCluster cluster;
  static Vertx vertx;

  @BeforeAll
  static void startCluster() {
    cluster = new LocalCluster(dir, 3, new JsonObject().put("data", new JsonObject().put("writesCollection", true)));
    cluster.startAll();
    cluster.awaitCoordinator(3, cluster.ids(), TIMEOUT);
    vertx = Vertx.vertx(new VertxOptions().setFileSystemOptions(
        new FileSystemOptions().setClassPathResolvingEnabled(false).setFileCachingEnabled(false)));
  }

  @AfterAll
  static void stopCluster() {
    cluster.close();
    vertx.close();
  }

  private static HttpResponse<String> send(int node, String method, String path, String body, String... headers) {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(cluster.node(node).baseUrl() + path))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) {
      request.header("Content-Type", JSON);
    }
    for (int i = 0; i < headers.length; i += 2) {
      request.header(headers[i], headers[i + 1]);
    }
    return cluster.node(node).send(request);
  }

  private static JsonObject ok(HttpResponse<String> response, int status) {
    assertEquals(status, response.statusCode(), response.body());
    return new JsonObject(response.body());
  }

  private static void assertError(HttpResponse<String> response, int status, String error) {
    assertEquals(status, response.statusCode(), response.body());
    JsonObject body = new JsonObject(response.body());
    assertEquals(error, body.getString("error"), response.body());
    assertTrue(body.getString("message").length() > 5, "a readable message: " + response.body());
  }

  private static String query(String json) {
    return URLEncoder.encode(json, StandardCharsets.UTF_8);
  }

  /** The documents of {@code collection} in node {@code id}'s own MongoDB, read with a MongoDB client, by _id. */
  private static List<JsonObject> storeDocuments(int id, String collection) throws Exception {
    String line = cluster.logLines(id).stream().filter(l -> l.contains("serving at mongodb://")).reduce((a, b) -> b).orElseThrow();
    String connection = line.substring(line.indexOf("mongodb://"), line.indexOf(' ', line.indexOf("mongodb://")));
    MongoClient client = MongoClient.create(vertx, new JsonObject().put("connection_string", connection).put("db_name", "bully_data"));
    try {
      return client.findWithOptions(collection, new JsonObject(), new FindOptions().setSort(new JsonObject().put("_id", 1)))
          .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } finally {
      client.close();
    }
  }

  @Test
  void everyNodesOwnMongoDbHoldsTheSameDocuments() throws Exception {
    long last = 0;
    for (int i = 0; i < 10; i++) {
      last = ok(send(3, "PUT", "/api/collections/people/docs/p" + i, "{\"name\":\"person " + i + "\",\"n\":" + i + "}"), 200)
          .getLong("index");
    }
    ok(send(3, "DELETE", "/api/collections/people/docs/p9", null), 200);
    long appended = ok(send(3, "POST", "/api/writes", "{\"appended\":true}"), 201).getLong("index");
    for (int id : cluster.ids()) {
      JsonObject seen = ok(send(id, "GET", "/api/collections/writes/docs/" + appended + "?minIndex=" + appended, null), 200);
      assertEquals(true, seen.getJsonObject("document").getBoolean("appended"));
      List<JsonObject> docs = storeDocuments(id, "people");
      assertEquals(9, docs.size(), "node " + id + ": " + docs);
      assertEquals("person 3", docs.get(3).getString("name"));
      assertEquals(last - 6, docs.get(3).getLong("_version"), "the version is the index of the write");
    }
    assertEquals(storeDocuments(1, "people"), storeDocuments(2, "people"));
    assertEquals(storeDocuments(1, "people"), storeDocuments(3, "people"));
  }

  @Test
  void conditionsAreDecidedWhenApplied() {
    JsonObject created = ok(send(3, "PUT", "/api/collections/accounts/docs/a1", "{\"balance\":10}", "If-None-Match", "*"), 200);
    long version = created.getLong("version");
    assertEquals(created.getLong("index"), version);
    JsonObject again = ok(send(3, "PUT", "/api/collections/accounts/docs/a1", "{\"balance\":0}", "If-None-Match", "*"), 412);
    assertEquals(version, again.getLong("currentVersion"));
    ok(send(3, "PUT", "/api/collections/accounts/docs/a1", "{\"balance\":0}", "If-Match", "\"" + (version - 1) + "\""), 412);
    JsonObject updated = ok(send(3, "PUT", "/api/collections/accounts/docs/a1", "{\"balance\":20}", "If-Match", "\"" + version + "\""), 200);
    assertTrue(updated.getLong("version") > version);
    ok(send(3, "DELETE", "/api/collections/accounts/docs/a1", null, "If-Match", "\"" + version + "\""), 412);
    ok(send(3, "DELETE", "/api/collections/accounts/docs/a1", null, "If-Match", "\"" + updated.getLong("version") + "\""), 200);
    assertError(send(3, "DELETE", "/api/collections/accounts/docs/a1", null), 404, "not_found");
    assertError(send(3, "GET", "/api/collections/accounts/docs/a1", null), 404, "not_found");
    JsonObject generated = ok(send(3, "POST", "/api/collections/accounts/docs", "{\"balance\":5}"), 201);
    assertTrue(generated.getString("id").length() >= 32, generated.encode());
  }

  @Test
  void retriesWithTheSameIdempotencyKeyAreOneWrite() {
    JsonObject first = ok(send(3, "PUT", "/api/collections/orders/docs/o1", "{\"qty\":1}", "Idempotency-Key", "order-o1"), 200);
    JsonObject again = ok(send(3, "PUT", "/api/collections/orders/docs/o1", "{\"qty\":1}", "Idempotency-Key", "order-o1"), 200);
    assertEquals(first.getLong("index"), again.getLong("index"));
    assertEquals(first.getLong("index"), ok(send(1, "GET", "/api/collections/orders/docs/o1?minIndex=" + first.getLong("index"), null), 200)
        .getLong("version"));
  }

  @Test
  void readsWaitForWhatTheyAskAndFollowersRedirectLinearizableOnes() {
    long index = ok(send(3, "PUT", "/api/collections/config/docs/mode", "{\"mode\":\"fast\"}"), 200).getLong("index");
    JsonObject local = ok(send(1, "GET", "/api/collections/config/docs/mode?minIndex=" + index, null), 200);
    assertEquals("fast", local.getJsonObject("document").getString("mode"));
    assertTrue(local.getLong("appliedIndex") >= index);
    HttpResponse<String> redirected = send(1, "GET", "/api/collections/config/docs/mode?read=linearizable", null);
    assertEquals(307, redirected.statusCode(), redirected.body());
    assertEquals(cluster.node(3).baseUrl() + "/api/collections/config/docs/mode?read=linearizable",
        redirected.headers().firstValue("Location").orElseThrow());
    JsonObject linearizable = ok(send(3, "GET", "/api/collections/config/docs/mode?read=linearizable", null), 200);
    assertEquals("fast", linearizable.getJsonObject("document").getString("mode"));
    assertTrue(linearizable.getLong("appliedIndex") >= index, "the read sees the write acknowledged before it");
    JsonObject again = ok(send(3, "GET", "/api/collections/config/docs/mode?read=linearizable", null), 200);
    assertEquals(linearizable.getLong("appliedIndex"), again.getLong("appliedIndex"),
        "a linearizable read writes nothing to the log (a majority's heartbeat round confirms it)");
    // Those reads by id came from node 3's document cache, which its applier filled as it wrote: the same as its MongoDB.
    JsonObject queried = ok(send(3, "GET", "/api/collections/config/docs?filter=" + query("{\"_id\":\"mode\"}"), null), 200);
    assertEquals(queried.getJsonArray("documents").getJsonObject(0), again.getJsonObject("document"));
    String hits = send(3, "GET", "/metrics", null).body().lines().filter(line -> line.startsWith("bully_document_cache_hits"))
        .findFirst().orElseThrow();
    assertTrue(Double.parseDouble(hits.substring(hits.lastIndexOf(' ') + 1)) >= 2, hits);
    JsonObject found = ok(send(2, "GET", "/api/collections/people/docs?minIndex=" + index + "&filter=" + query("{\"n\":{\"$gte\":5}}")
        + "&sort=" + query("{\"n\":-1}") + "&limit=2", null), 200);
    assertTrue(found.getInteger("count") <= 2);
    JsonObject notYet = ok(send(2, "GET", "/api/collections/config/docs/mode?minIndex=" + (index + 1_000_000) + "&timeoutMs=200", null), 503);
    assertEquals("not_applied", notYet.getString("error"));
  }

  @Test
  void aNodeKilledUnderWritesAppliesOnFromItsAppliedIndex() throws Exception {
    List<Long> indexes = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      indexes.add(ok(send(3, "PUT", "/api/collections/counters/docs/c" + (i % 5), "{\"value\":" + i + "}"), 200).getLong("index"));
      if (i == 15) {
        cluster.node(2).killNow();
      }
    }
    cluster.node(2).kill();
    cluster.start(2).awaitReady(TIMEOUT);
    long last = indexes.get(indexes.size() - 1);
    Await.until(TIMEOUT, "node 2 applied " + last, () -> cluster.node(2).status().getLong("appliedIndex") >= last);
    assertTrue(cluster.node(2).logText().contains("Documents applied up to index"), "the applied index was read back");
    assertEquals(storeDocuments(3, "counters"), storeDocuments(2, "counters"));
    assertEquals(29, storeDocuments(2, "counters").get(4).getInteger("value"));
  }

  /**
   * The OpenAPI description the server serves, checked against real answers: each is at a
   * described path and method, with a described status, and holds its schema's required
   * properties with their types.
   */
  @Test
  void theOpenApiDescriptionMatchesRealAnswers() {
    JsonObject api = ok(send(2, "GET", "/api/openapi.json", null), 200);
    long index = ok(send(3, "PUT", "/api/collections/described/docs/d1", "{\"a\":1}"), 200).getLong("index");
    String[][] calls = {
        {"GET", "/api/status", "/api/status", null},
        {"POST", "/api/writes", "/api/writes", "{\"a\":1}"},
        {"GET", "/api/writes", "/api/writes?from=1&limit=2", null},
        {"GET", "/api/writes/{index}", "/api/writes/1", null},
        {"GET", "/api/writes/{index}", "/api/writes/99999999", null},
        {"GET", "/api/collections", "/api/collections", null},
        {"PUT", "/api/collections/{collection}/docs/{id}", "/api/collections/described/docs/d2", "{\"a\":2}"},
        {"PUT", "/api/collections/{collection}/docs/{id}", "/api/collections/described/docs/d1#If-None-Match", "{\"a\":3}"},
        {"POST", "/api/collections/{collection}/docs", "/api/collections/described/docs", "{\"a\":4}"},
        {"GET", "/api/collections/{collection}/docs/{id}", "/api/collections/described/docs/d1?minIndex=" + index, null},
        {"GET", "/api/collections/{collection}/docs/{id}", "/api/collections/described/docs/nope", null},
        {"GET", "/api/collections/{collection}/docs", "/api/collections/described/docs?limit=5", null},
        {"GET", "/api/collections/{collection}/docs", "/api/collections/described/docs?limit=0", null},
        {"DELETE", "/api/collections/{collection}/docs/{id}", "/api/collections/described/docs/d2", null},
        {"DELETE", "/api/collections/{collection}/docs/{id}", "/api/collections/described/docs/d2", null},
    };
    for (String[] call : calls) {
      String path = call[2].replace("#If-None-Match", "");
      HttpResponse<String> response = call[2].endsWith("#If-None-Match")
          ? send(3, call[0], path, call[3], "If-None-Match", "*") : send(3, call[0], path, call[3]);
      JsonObject operation = api.getJsonObject("paths").getJsonObject(call[1], new JsonObject()).getJsonObject(call[0].toLowerCase());
      assertTrue(operation != null, call[0] + " " + call[1] + " is described");
      JsonObject described = operation.getJsonObject("responses").getJsonObject(Integer.toString(response.statusCode()));
      assertTrue(described != null, call[0] + " " + path + " answered " + response.statusCode() + ", which is not described: "
          + response.body());
      JsonObject schema = resolve(api, resolve(api, described).getJsonObject("content").getJsonObject("application/json")
          .getJsonObject("schema"));
      JsonObject body = new JsonObject(response.body());
      for (Object required : schema.getJsonArray("required", new io.vertx.core.json.JsonArray())) {
        assertTrue(body.containsKey((String) required), call[0] + " " + path + ": " + required + " missing in " + response.body());
        String type = schema.getJsonObject("properties").getJsonObject((String) required).getString("type");
        Object value = body.getValue((String) required);
        boolean matches = value == null ? schema.getJsonObject("properties").getJsonObject((String) required).getBoolean("nullable", false)
            : switch (type) {
              case "integer" -> value instanceof Integer || value instanceof Long;
              case "string" -> value instanceof String;
              case "boolean" -> value instanceof Boolean;
              case "array" -> value instanceof io.vertx.core.json.JsonArray;
              default -> value instanceof JsonObject;
            };
        assertTrue(matches, call[0] + " " + path + ": " + required + " is not " + type + " in " + response.body());
      }
    }
  }

  /** {@code node} itself, or what its $ref names. */
  private static JsonObject resolve(JsonObject api, JsonObject node) {
    String ref = node.getString("$ref");
    if (ref == null) {
      return node;
    }
    JsonObject target = api;
    for (String part : ref.substring(2).split("/")) {
      target = target.getJsonObject(part);
    }
    return target;
  }

  @Test
  void badInputGetsAClearJsonErrorAndTheNodeKeepsServing() {
    assertError(send(3, "PUT", "/api/collections/_hidden/docs/x", "{}"), 400, "invalid_collection");
    assertError(send(3, "PUT", "/api/collections/ok/docs/" + "x".repeat(300), "{}"), 400, "invalid_id");
    assertError(send(3, "PUT", "/api/collections/writes/docs/1", "{}"), 405, "method_not_allowed");
    assertError(send(3, "PUT", "/api/collections/ok/docs/x", "{}", "If-Match", "latest"), 400, "invalid_condition");
    assertError(send(3, "PUT", "/api/collections/ok/docs/x", "{}", "If-None-Match", "\"3\""), 400, "invalid_condition");
    assertError(send(3, "PUT", "/api/collections/ok/docs/x", "{\"$set\":{\"a\":1}}"), 400, "invalid_field_name");
    assertError(send(3, "PUT", "/api/collections/ok/docs/x", "{\"a\":{\"$gt\":1}}"), 400, "invalid_field_name");
    assertError(send(3, "PUT", "/api/collections/ok/docs/x", "{\"_id\":\"other\"}"), 400, "invalid_field_name");
    assertError(send(3, "PUT", "/api/collections/ok/docs/x", "{\"big\":123456789012345678901234567890}"), 400, "invalid_number");
    assertError(send(3, "POST", "/api/writes", "{\"$where\":\"1\"}"), 400, "invalid_field_name");
    assertError(send(3, "PUT", "/api/collections/ok/docs/x", "[1]"), 400, "not_an_object");
    assertError(send(3, "GET", "/api/collections/ok/docs?filter=" + query("{\"a\":"), null), 400, "invalid_parameter");
    assertError(send(3, "GET", "/api/collections/ok/docs?filter=" + query("{\"$where\":\"sleep(1000)\"}"), null), 400, "invalid_filter");
    assertError(send(3, "GET", "/api/collections/ok/docs?filter=" + query("{\"a\":{\"$nosuch\":1}}"), null), 400, "invalid_filter");
    assertError(send(3, "GET", "/api/collections/ok/docs?sort=" + query("{\"a\":2}"), null), 400, "invalid_parameter");
    assertError(send(3, "GET", "/api/collections/ok/docs?limit=0", null), 400, "invalid_parameter");
    assertError(send(3, "GET", "/api/collections/ok/docs?limit=1001", null), 400, "invalid_parameter");
    assertError(send(3, "GET", "/api/collections/ok/docs/x?read=eventually", null), 400, "invalid_read_concern");
    assertError(send(3, "GET", "/api/collections/ok/docs/x?minIndex=-1", null), 400, "invalid_parameter");
    assertError(send(3, "PATCH", "/api/collections/ok/docs/x", "{}"), 405, "method_not_allowed");
    ok(send(3, "PUT", "/api/collections/ok/docs/x", "{\"still\":\"serving\"}"), 200);
  }
}
