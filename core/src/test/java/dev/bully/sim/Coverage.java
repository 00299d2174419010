package dev.bully.sim;

/**
 * What a history exercised, counted so that a sweep can fail when it stops exercising something it
 * claims to check: APPENDs filled from a coordinator's store, batches and pages cut by their budget
 * of text rather than their count, restarts that read only their log's tail, and batches of
 * documents applied again over what a crashed process had written of them.
 */
public final class Coverage {
  private long appendsFromStore;
  private long cutBySize;
  private long restartsFromStoredTail;
  private long batchesAppliedAgain;
  private long compactions;
  private long snapshotChunksRead;
  private long snapshotsInstalled;

  public long compactions() {
    return compactions;
  }

  public long snapshotChunksRead() {
    return snapshotChunksRead;
  }

  public long snapshotsInstalled() {
    return snapshotsInstalled;
  }

  void compacted() {
    compactions++;
  }

  void snapshotChunkRead() {
    snapshotChunksRead++;
  }

  void snapshotInstalled() {
    snapshotsInstalled++;
  }

  public long appendsFromStore() {
    return appendsFromStore;
  }

  public long cutBySize() {
    return cutBySize;
  }

  public long restartsFromStoredTail() {
    return restartsFromStoredTail;
  }

  public long batchesAppliedAgain() {
    return batchesAppliedAgain;
  }

  void appendFromStore() {
    appendsFromStore++;
  }

  void cutOneBySize() {
    cutBySize++;
  }

  void restartFromStoredTail() {
    restartsFromStoredTail++;
  }

  void batchAppliedAgain() {
    batchesAppliedAgain++;
  }
}
