package dev.bully.sim;

import dev.bully.apply.Change;
import dev.bully.core.LogEntry;

/**
 * The simulated clients' operations on a few documents, as the simulator writes them into its
 * entries: {@code "put <id> <expect> <fields>"} or {@code "delete <id> <expect>"}, in collection
 * {@link #COLLECTION}. The node's {@code Operation} reads its own JSON text the same way; what the
 * simulator checks is what the rules of {@link dev.bully.apply.ApplyRules} do with the operations.
 */
record SimOp(Kind kind, String collection, Object id, String fields, long expect) implements Change {
  static final String COLLECTION = "sim";
  private static final SimOp NOTHING = new SimOp(Kind.NONE, null, null, null, ANY);

  static String put(String id, long expect, String fields) {
    return "put " + id + " " + expect + " " + fields;
  }

  static String delete(String id, long expect) {
    return "delete " + id + " " + expect;
  }

  /** What {@code entry} does: a put or a delete, or nothing (a new coordinator's no-op, say). */
  static SimOp of(LogEntry entry) {
    String data = entry.data();
    if (data == null) {
      return NOTHING;
    }
    String[] parts = data.split(" ", 4);
    if (parts[0].equals("put") && parts.length == 4) {
      return new SimOp(Kind.PUT, COLLECTION, parts[1], parts[3], Long.parseLong(parts[2]));
    }
    if (parts[0].equals("delete") && parts.length == 3) {
      return new SimOp(Kind.DELETE, COLLECTION, parts[1], null, Long.parseLong(parts[2]));
    }
    return NOTHING;
  }
}
