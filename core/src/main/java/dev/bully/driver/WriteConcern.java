package dev.bully.driver;

/** When a client's write is answered: durable on the coordinator, committed (on a majority), or durable on every node. */
public enum WriteConcern { ONE, MAJORITY, ALL }
