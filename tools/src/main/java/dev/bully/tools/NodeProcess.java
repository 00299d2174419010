package dev.bully.tools;

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
  /** The node's runnable jar: {@code -Dbully.jar}, or where the build puts it, from the repository's root. */
  public static final Path JAR = Path.of(System.getProperty("bully.jar", "node/target/bully-node.jar"));
  /** The tools' jar (with picocli in it): {@code -Dbully.toolsJar}, or where the build puts it. */
  public static final Path TOOLS_JAR = Path.of(System.getProperty("bully.toolsJar", "tools/target/bully-tools.jar"));

  /** The class path of a tool run in its own process (the MongoDB-wire server): the node's jar and the tools' jar. */
  public static String toolsClassPath() {
    return JAR.toAbsolutePath() + java.io.File.pathSeparator + TOOLS_JAR.toAbsolutePath();
  }
  private static final List<String> JVM_OPTIONS = List.of("-Xms256m", "-Xmx256m", "-XX:+UseSerialGC", "-XX:+ExitOnOutOfMemoryError");
  /**
   * The {@code java} that runs the nodes: {@code -Dbully.node.java}, or the one running this
   * harness (so {@code JAVA=.../jdk-25/bin/java bin/bench.sh ...} runs every node on JDK 25 too).
   */
  public static final String JAVA = System.getProperty("bully.node.java",
      ProcessHandle.current().info().command().orElse("java"));
  private static int javaFeatureVersion;

  /** The feature version (17, 25, ...) of {@link #JAVA}. */
  static synchronized int javaFeatureVersion() {
    if (javaFeatureVersion == 0) {
      javaFeatureVersion = System.getProperty("bully.node.java") == null ? Runtime.version().feature() : probedVersion();
    }
    return javaFeatureVersion;
  }

  private static int probedVersion() {
    try {
      Process probe = new ProcessBuilder(JAVA, "-version").redirectErrorStream(true).start();
      String banner = new String(probe.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      probe.waitFor();
      java.util.regex.Matcher version = java.util.regex.Pattern.compile("version \"(\\d+)").matcher(banner);
      return version.find() ? Integer.parseInt(version.group(1)) : Runtime.version().feature();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Runtime.version().feature();
    }
  }
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private final HttpClient http;
  private final String scheme;

  private final int id;
  private final String host;
  private final int httpPort;
  private final Path log;
  private final Process process;

  private NodeProcess(int id, String host, int httpPort, Path log, Process process, javax.net.ssl.SSLContext tls) {
    this.http = tls == null ? HTTP : HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).sslContext(tls).build();
    this.scheme = tls == null ? "http" : "https";
    this.host = host;
    this.id = id;
    this.httpPort = httpPort;
    this.log = log;
    this.process = process;
  }

  /** Starts {@code java -jar bully-node.jar -conf conf} in {@code workDir}, appending output to {@code log}. */
  public static NodeProcess start(int id, String host, int httpPort, Path conf, Path workDir, Path log) {
    return start(id, host, httpPort, conf, workDir, log, null);
  }

  /** As {@link #start(int, String, int, Path, Path, Path)}, for a node serving https that {@code tls} trusts (null: http). */
  public static NodeProcess start(int id, String host, int httpPort, Path conf, Path workDir, Path log,
                                  javax.net.ssl.SSLContext tls) {
    return start(id, host, httpPort, conf, workDir, log, tls, java.util.Map.of(), List.of());
  }

  /**
   * As above, with {@code environment} added to the process's environment (e.g. a library to
   * preload) and the JVM started through {@code launcher} (e.g. {@code ip netns exec NS}, which
   * execs it, so the PID is the JVM's).
   */
  public static NodeProcess start(int id, String host, int httpPort, Path conf, Path workDir, Path log,
                                  javax.net.ssl.SSLContext tls, java.util.Map<String, String> environment,
                                  List<String> launcher) {
    List<String> command = new ArrayList<>(launcher);
    command.add(JAVA);
    // e.g. -Dbully.node.jvmOptions=-Xms256m,-Xmx256m,-XX:+UseG1GC (commas or spaces) to try another heap or collector
    String options = System.getProperty("bully.node.jvmOptions", "").trim();
    List<String> jvmOptions = options.isEmpty() ? JVM_OPTIONS : List.of(options.split("[\\s,]+"));
    command.addAll(jvmOptions);
    if (javaFeatureVersion() >= 24) {
      command.add("--sun-misc-unsafe-memory-access=allow"); // Hazelcast's, else a warning at every start
    }
    command.addAll(ClassDataArchive.options(JAR, jvmOptions));
    // e.g. -Dbully.node.jvmArgs="-XX:StartFlightRecording=settings=profile,filename=node.jfr" to profile every node
    String extra = System.getProperty("bully.node.jvmArgs", "").trim();
    if (!extra.isEmpty()) {
      command.addAll(List.of(extra.split("\\s+")));
    }
    command.addAll(List.of("-jar", JAR.toAbsolutePath().toString(), "-conf", conf.toString()));
    try {
      ProcessBuilder builder = new ProcessBuilder(command);
      builder.environment().putAll(environment);
      Process process = builder
          .directory(workDir.toFile())
          .redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
          .start();
      return new NodeProcess(id, host, httpPort, log, process, tls);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The process ended while something waited for it; waiting longer cannot help. */
  public static final class Exited extends RuntimeException {
    Exited(String message) {
      super(message);
    }
  }

  public int id() {
    return id;
  }

  public long pid() {
    return process.pid();
  }

  /** Sends a signal by PID (STOP and CONT pause and resume: Java has no API for them). */
  public void signal(String name) {
    signal(name, List.of(pid()));
  }

  /** Sends one signal to every process of {@code pids} with one kill(1): they all get it at the same instant. */
  static void signal(String name, List<Long> pids) {
    List<String> command = new ArrayList<>(List.of("kill", "-" + name));
    pids.forEach(pid -> command.add(Long.toString(pid)));
    try {
      Process kill = new ProcessBuilder(command).inheritIO().start();
      if (kill.waitFor() != 0) {
        throw new IllegalStateException(String.join(" ", command) + " failed");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  public void pause() {
    signal("STOP");
  }

  public void resume() {
    signal("CONT");
  }

  /** POSTs to an admin endpoint with the token. */
  public HttpResponse<String> admin(String path, String token) {
    return send(HttpRequest.newBuilder(URI.create(baseUrl() + path))
        .header("Authorization", "Bearer " + token)
        .POST(HttpRequest.BodyPublishers.noBody()));
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  public String baseUrl() {
    return scheme + "://" + host + ":" + httpPort;
  }

  public void awaitReady(Duration timeout) {
    Await.until(timeout, "node " + id + " ready (log: " + log + ")", () -> {
      if (!process.isAlive()) {
        throw new Exited("node " + id + " exited with " + process.exitValue() + "; log:\n" + logText());
      }
      return get("/health/ready").statusCode() == 200;
    });
  }

  public JsonObject status() {
    return status(Duration.ofSeconds(5));
  }

  /** This node's status, waiting at most {@code timeout} (a paused node never answers). */
  public JsonObject status(Duration timeout) {
    HttpResponse<String> response = send(HttpRequest.newBuilder(URI.create(baseUrl() + "/api/status")).GET().timeout(timeout));
    if (response.statusCode() != 200) {
      throw new IllegalStateException("GET /api/status answered " + response.statusCode() + ": " + response.body());
    }
    return new JsonObject(response.body());
  }

  /** Posts {@code body} to this node's {@code /api/writes} with an Idempotency-Key, following no redirect. */
  public HttpResponse<String> write(String idempotencyKey, String body) {
    return send(HttpRequest.newBuilder(URI.create(baseUrl() + "/api/writes"))
        .header("Content-Type", "application/json").header("Idempotency-Key", idempotencyKey)
        .POST(HttpRequest.BodyPublishers.ofString(body)));
  }

  public HttpResponse<String> get(String path) {
    return send(HttpRequest.newBuilder(URI.create(baseUrl() + path)).GET());
  }

  public HttpResponse<String> send(HttpRequest.Builder request) {
    try {
      HttpRequest built = request.build();
      if (built.timeout().isEmpty()) {
        built = request.timeout(Duration.ofSeconds(5)).build();
      }
      return http.send(built, HttpResponse.BodyHandlers.ofString());
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

  /** SIGKILL: a crash with no chance to flush anything. Returns once the process is gone. */
  public void kill() {
    killNow();
    awaitExit(Duration.ofSeconds(10));
  }

  /** SIGKILL without waiting for the process to disappear, for faults that must follow at once. */
  public void killNow() {
    process.destroyForcibly();
  }

  private int awaitExit(Duration timeout) {
    try {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly();
        throw new IllegalStateException("node " + id + " (pid " + pid() + ") did not exit within " + timeout.toMillis() + " ms");
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
      resume(); // a paused process cannot die until it runs again
      process.destroyForcibly();
      awaitExit(Duration.ofSeconds(10));
    }
  }
}
