package dev.bully.it;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** One node started from the built jar as a real operating-system process, stopped by its PID. */
public final class NodeProcess implements AutoCloseable {
  static final Path JAR = Path.of(System.getProperty("bully.jar", "target/bully-node.jar"));
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private final int id;
  private final int httpPort;
  private final Path log;
  private final Process process;

  private NodeProcess(int id, int httpPort, Path log, Process process) {
    this.id = id;
    this.httpPort = httpPort;
    this.log = log;
    this.process = process;
  }

  /** Starts {@code java -jar bully-node.jar -conf conf} in {@code workDir}, appending output to {@code log}. */
  public static NodeProcess start(int id, int httpPort, Path conf, Path workDir, Path log) {
    List<String> command = new ArrayList<>(List.of("java", "-Xms64m", "-Xmx256m", "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1", "-jar", JAR.toAbsolutePath().toString(), "-conf", conf.toString()));
    try {
      Process process = new ProcessBuilder(command)
          .directory(workDir.toFile())
          .redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
          .start();
      return new NodeProcess(id, httpPort, log, process);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public int id() {
    return id;
  }

  public long pid() {
    return process.pid();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  public String baseUrl() {
    return "http://127.0.0.1:" + httpPort;
  }

  public void awaitReady(Duration timeout) {
    Await.until(timeout, "node " + id + " ready (log: " + log + ")", () -> {
      if (!process.isAlive()) {
        throw new AssertionError("node " + id + " exited with " + process.exitValue() + "; log:\n" + logText());
      }
      return get("/health/ready").statusCode() == 200;
    });
  }

  public JsonObject status() {
    HttpResponse<String> response = get("/api/status");
    if (response.statusCode() != 200) {
      throw new IllegalStateException("GET /api/status answered " + response.statusCode() + ": " + response.body());
    }
    return new JsonObject(response.body());
  }

  public HttpResponse<String> get(String path) {
    return send(HttpRequest.newBuilder(URI.create(baseUrl() + path)).GET());
  }

  public HttpResponse<String> send(HttpRequest.Builder request) {
    try {
      return HTTP.send(request.timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** SIGTERM, then waits for the process to end; returns its exit code. */
  public int terminate(Duration timeout) {
    process.destroy();
    return awaitExit(timeout);
  }

  /** SIGKILL: a crash with no chance to flush anything. */
  public void kill() {
    process.destroyForcibly();
    awaitExit(Duration.ofSeconds(10));
  }

  private int awaitExit(Duration timeout) {
    try {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly();
        throw new AssertionError("node " + id + " (pid " + pid() + ") did not exit within " + timeout.toMillis() + " ms");
      }
      return process.exitValue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  public String logText() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroyForcibly();
      awaitExit(Duration.ofSeconds(10));
    }
  }
}
