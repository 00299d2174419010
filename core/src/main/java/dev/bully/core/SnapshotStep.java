package dev.bully.core;

/**
 * A step of installing a snapshot of the coordinator's documents on a follower, which the driver
 * makes durable before it sends what depends on it ({@link Output#install()}).
 *
 * <ul>
 *   <li>{@code chunk == null}: the install of the snapshot up to entry {@code index} begins. The
 *       node's documents are no longer the image of its log from now on: the store marks them as
 *       being installed (a restart then knows they are not to be read or applied to) and drops them.
 *   <li>otherwise: the chunk's documents and tombstones go into the store. After the {@code last}
 *       chunk the documents are marked installed, applied up to {@code index}, and the image of a
 *       prefix of the log again once applied up to the chunk's {@code consistentAt}.
 * </ul>
 */
public record SnapshotStep(long index, Message.SnapshotChunk chunk) {
  public static SnapshotStep begin(long index) {
    return new SnapshotStep(index, null);
  }

  public boolean begins() {
    return chunk == null;
  }

  /** Whether this step ends the install. */
  public boolean finishes() {
    return chunk != null && chunk.last();
  }
}
