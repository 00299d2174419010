package dev.bully.core;

/** A node's role in its current term. Changed only through {@link Election}'s become methods. */
public enum Role {
  FOLLOWER, CANDIDATE, COORDINATOR
}
