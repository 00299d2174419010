package dev.bully.store;

import dev.bully.core.LogEntry;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.FindOptions;
import io.vertx.ext.mongo.MongoClient;
import java.util.List;

/**
 * A store written before the log files keeps its newest entries in segments in the collection
 * {@code log}: at the first start they move into the files (a segment is one record, so doing it
 * again after a crash changes nothing), then the collection goes.
 */
final class LegacySegments {
  /** Where stores before the log files kept the log's segments. */
  static final String COLLECTION = "log";

  private LegacySegments() {
  }

  static Future<Void> move(MongoClient mongo, LogFile logFile) {
    FindOptions options = new FindOptions().setSort(new JsonObject().put("_id", 1));
    return mongo.findWithOptions(COLLECTION, new JsonObject(), options).compose(segments -> {
      if (segments.isEmpty()) {
        return Future.succeededFuture();
      }
      Future<Void> moved = Future.succeededFuture();
      for (JsonObject segment : segments) {
        List<LogEntry> entries = EntryCodec.fromStored(segment.getValue("entries"));
        long commit = segment.getLong("commit", 0L);
        moved = moved.compose(v -> logFile.write(entries.get(0).index(), entries, commit));
      }
      return moved.compose(v -> mongo.dropCollection(COLLECTION));
    });
  }
}
