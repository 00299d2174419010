package dev.bully.apply;

/**
 * What one committed log entry does to a document, as far as the rules of {@link ApplyRules} need
 * to know: the node's {@code dev.bully.data.Operation} decodes it from the entry's text and carries
 * the document's fields besides; the simulator has operations of its own.
 */
public interface Change {
  /** No condition. */
  long ANY = -1;
  /** The condition that the document does not exist ({@code If-None-Match: *}). */
  long ABSENT = 0;

  enum Kind {
    /** Create or replace the document. */
    PUT,
    /** Remove the document. */
    DELETE,
    /** A write of {@code POST /api/writes}: the document {@code writes/<index>}. */
    APPEND,
    /** Nothing: the entries a new coordinator appends, and the barriers of linearizable reads. */
    NONE
  }

  Kind kind();

  /** The collection it writes (null for {@link Kind#NONE}). */
  String collection();

  /** The document's id (for an append, the entry's index). */
  Object id();

  /** {@link #ANY}, {@link #ABSENT}, or the version the document must have ({@code If-Match}). */
  long expect();

  /**
   * Whether it is decided on the state of its document (a put or a delete): an append writes a
   * document of its own index, which nothing wrote before, and {@link Kind#NONE} writes none.
   */
  default boolean decidedOnState() {
    return kind() == Kind.PUT || kind() == Kind.DELETE;
  }
}
