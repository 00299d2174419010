package dev.bully.apply;

/**
 * What applying one operation did, decided identically on every node.
 *
 * @param index   the entry's index
 * @param result  what happened
 * @param version the document's version afterwards: the index that last wrote it, 0 if it does not exist
 */
public record Outcome(long index, Result result, long version) {
  public enum Result {
    /** Created or replaced: {@link #version} is {@link #index}. */
    WRITTEN,
    /** Removed. */
    DELETED,
    /** The condition did not hold; nothing changed, {@link #version} is the document's. */
    PRECONDITION_FAILED,
    /** A delete of a document that does not exist; nothing changed. */
    NOT_FOUND,
    /** The entry writes no document (a no-op, a barrier). */
    NOTHING
  }
}
