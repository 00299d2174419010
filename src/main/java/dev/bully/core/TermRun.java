package dev.bully.core;

/**
 * A run of consecutive log entries of one term, from {@code firstIndex} up to the next run's first
 * index (or the log's end). A log's terms are a handful of runs, one per coordinator that appended
 * to it, so a node knows the term of every entry without holding the entries.
 */
public record TermRun(long firstIndex, long term) {
}
