package dev.bully.core;

/** A message and the node it goes to. */
public record Envelope(int to, Message message) {
}
