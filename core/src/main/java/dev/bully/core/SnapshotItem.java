package dev.bully.core;

/**
 * One document of a snapshot as a store held it: its collection and id, the version it was at (the
 * index of the entry that last wrote it), and its fields as JSON text; or, when {@code deleted}, the
 * tombstone of a document deleted at {@code version} (no fields), which applying the log again over
 * the snapshot needs to decide conditions as the coordinator did.
 *
 * @param id a string, or a number for the documents of {@code writes} (their log index)
 */
public record SnapshotItem(String collection, Object id, long version, boolean deleted, String fields) {
  public SnapshotItem {
    if (!(id instanceof String) && !(id instanceof Long)) {
      throw new IllegalArgumentException("a document id is a string or a number, not " + id);
    }
  }
}
