package dev.bully.http;

import dev.bully.data.Operation;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.Set;

/**
 * What a request of the document API names and asks, read and checked: the collection, the id,
 * the condition of a write, a query's JSON parameters and the operators its filter may use. Each
 * method answers the request with a 400 (or 405) and returns null when what it reads is wrong.
 */
final class DocumentRequests {
  /**
   * The query operators a filter may use: comparison, logic, element and array ones. Any other is
   * refused before the store sees it, among them those that run code ({@code $where}, {@code
   * $function}), which no client may run in a node.
   */
  static final Set<String> OPERATORS = Set.of("$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$and", "$or",
      "$nor", "$not", "$exists", "$type", "$regex", "$options", "$size", "$all", "$elemMatch", "$mod");

  private DocumentRequests() {
  }

  static String collection(RoutingContext ctx) {
    String collection = ctx.pathParam("collection");
    if (!Operation.COLLECTION.matcher(collection).matches()) {
      HttpErrors.send(ctx, 400, "invalid_collection", "A collection's name is 1 to 64 letters, digits, _ or -, starting with"
          + " a letter or digit");
      return null;
    }
    return collection;
  }

  static String writableCollection(RoutingContext ctx) {
    String collection = collection(ctx);
    if (Operation.WRITES.equals(collection)) {
      HttpErrors.send(ctx, 405, "method_not_allowed", "The collection writes is written by POST /api/writes only");
      return null;
    }
    return collection;
  }

  static String id(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    if (!Operation.ID.matcher(id).matches()) {
      HttpErrors.send(ctx, 400, "invalid_id", "A document's id is 1 to 256 letters, digits or ._~:@+=-");
      return null;
    }
    return id;
  }

  /** A document of {@code writes} has its entry's index as id; every other, its id as given. */
  static Object key(String collection, String id) {
    if (Operation.WRITES.equals(collection)) {
      try {
        return Long.parseLong(id);
      } catch (NumberFormatException e) {
        return id;
      }
    }
    return id;
  }

  /** The condition of If-Match or If-None-Match, {@link Operation#ANY} without one, or null after answering 400. */
  static Long condition(RoutingContext ctx) {
    String ifMatch = ctx.request().getHeader("If-Match");
    String ifNoneMatch = ctx.request().getHeader("If-None-Match");
    if (ifMatch != null && ifNoneMatch != null) {
      HttpErrors.send(ctx, 400, "invalid_condition", "Send If-Match or If-None-Match, not both");
      return null;
    }
    if (ifNoneMatch != null) {
      if (!ifNoneMatch.trim().equals("*")) {
        HttpErrors.send(ctx, 400, "invalid_condition", "If-None-Match takes * only (create if absent)");
        return null;
      }
      return Operation.ABSENT;
    }
    if (ifMatch == null) {
      return Operation.ANY;
    }
    String version = ifMatch.trim();
    if (version.length() >= 2 && version.startsWith("\"") && version.endsWith("\"")) {
      version = version.substring(1, version.length() - 1);
    }
    try {
      long v = Long.parseLong(version);
      if (v >= 1) {
        return v;
      }
    } catch (NumberFormatException e) {
      // answered below
    }
    HttpErrors.send(ctx, 400, "invalid_condition", "If-Match takes a document's version (a positive integer, as its ETag"
        + " gives it), not '" + abbreviated(ifMatch) + "'");
    return null;
  }

  /** A query parameter holding a JSON object ({} when absent), or null after answering 400. */
  static JsonObject jsonParam(RoutingContext ctx, String name) {
    String raw = ctx.request().getParam(name);
    if (raw == null || raw.isBlank()) {
      return new JsonObject();
    }
    try {
      return new JsonObject(raw);
    } catch (DecodeException | ClassCastException e) {
      HttpErrors.send(ctx, 400, "invalid_parameter", name + " must be a JSON object, not '" + abbreviated(raw) + "'");
      return null;
    }
  }

  /** The first operator in {@code value} that a filter may not use, or null. */
  static String refusedOperator(Object value) {
    if (value instanceof JsonObject object) {
      for (String field : object.fieldNames()) {
        if (field.startsWith("$") && !OPERATORS.contains(field)) {
          return field;
        }
        String inner = refusedOperator(object.getValue(field));
        if (inner != null) {
          return inner;
        }
      }
    } else if (value instanceof JsonArray array) {
      for (Object each : array) {
        String inner = refusedOperator(each);
        if (inner != null) {
          return inner;
        }
      }
    }
    return null;
  }

  /** A find the store refused (an unknown operator, a bad value): the client's filter, answered 400. */
  static void storeRefused(RoutingContext ctx, Throwable failure) {
    if (failure instanceof com.mongodb.MongoException) {
      String message = failure.getMessage() == null ? "refused" : failure.getMessage().lines().findFirst().orElse("refused");
      HttpErrors.send(ctx, 400, "invalid_filter", "The store refused the query: " + abbreviated(message));
    } else {
      ctx.fail(failure);
    }
  }

  static String abbreviated(String text) {
    return text.length() > 200 ? text.substring(0, 200) + "…" : text;
  }
}
