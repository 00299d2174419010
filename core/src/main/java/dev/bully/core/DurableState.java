package dev.bully.core;

/**
 * The election state a node keeps on disk before it acts on it.
 *
 * @param term       the highest term this node has seen
 * @param promisedTo the node this node acknowledged as coordinator in {@code term}, or 0 for none
 */
public record DurableState(long term, int promisedTo) {
  public static final DurableState INITIAL = new DurableState(0, 0);
}
