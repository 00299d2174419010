package dev.bully.config;

/**
 * A configuration that cannot be used. The message always names where the value came from
 * (a file path or an environment variable) and the key, so an operator can fix it without
 * reading code.
 */
public final class ConfigException extends RuntimeException {
  public ConfigException(String message) {
    super(message);
  }
}
