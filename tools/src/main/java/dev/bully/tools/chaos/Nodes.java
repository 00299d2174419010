package dev.bully.tools.chaos;

import dev.bully.tools.LocalCluster;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The cluster a chaos run works on: its own local processes (faults by signal), or a running
 * cluster it attaches to by URL (faults through the admin chaos endpoints; a killed node comes back
 * only if something outside restarts it, such as a container's restart policy).
 */
interface Nodes extends AutoCloseable {
  List<Integer> ids();

  String url(int id);

  /** Sends a request to a node, waiting at most {@code timeout}; throws if it does not answer. */
  HttpResponse<String> send(int id, HttpRequest.Builder request, Duration timeout);

  void kill(int id);

  /** SIGTERM, as an operator stops a node: a coordinator hands over first. Returns once the process is gone. */
  void terminate(int id);

  boolean canRestart();

  void restart(int id);

  /** Stops the node's process for {@code ms}, then lets it run again; returns when it runs. */
  void pause(int id, long ms) throws InterruptedException;

  /** The nodes' own network namespaces, where this run made them ({@code --netns}): partitions are then real cuts. */
  default java.util.Optional<NetNamespaces> network() {
    return java.util.Optional.empty();
  }

  /**
   * Every node loses its power at the same instant: all stop at once, are killed, and what each had
   * not forced to the device is undone ({@link PowerLoss}). Returns, by node id, what was undone.
   */
  default Map<Integer, PowerLoss.Undone> powerLoss() {
    throw new UnsupportedOperationException("only nodes this run started can lose their power");
  }

  /** The node's own log lines, where the run can read them; empty otherwise. */
  List<String> logLines(int id);

  String token();

  @Override
  void close();

  default JsonObject status(int id, Duration timeout) {
    HttpResponse<String> response = send(id, HttpRequest.newBuilder(URI.create(url(id) + "/api/status")).GET(), timeout);
    if (response.statusCode() != 200) {
      throw new IllegalStateException("node " + id + " answered " + response.statusCode());
    }
    return new JsonObject(response.body());
  }

  default JsonObject get(int id, String path) {
    return new JsonObject(send(id, HttpRequest.newBuilder(URI.create(url(id) + path)).GET(), Duration.ofSeconds(10)).body());
  }

  /** A chaos command ({@code POST /admin/chaos/PATH}); throws unless the node answers 200. */
  default void admin(int id, String path) {
    HttpResponse<String> response = postAdmin(id, "/admin/chaos/" + path, Duration.ofSeconds(5));
    if (response.statusCode() != 200) {
      throw new IllegalStateException("node " + id + " answered " + response.statusCode() + " to " + path + ": " + response.body());
    }
  }

  /** An empty POST to an admin endpoint with the token, waiting at most {@code timeout}. */
  default HttpResponse<String> postAdmin(int id, String path, Duration timeout) {
    return send(id, HttpRequest.newBuilder(URI.create(url(id) + path))
        .header("Authorization", "Bearer " + token()).POST(HttpRequest.BodyPublishers.noBody()), timeout);
  }

  /** The nodes of a {@link LocalCluster} this run started. */
  final class Local implements Nodes {
    private final LocalCluster cluster;
    private final String token;
    /** The nodes' network namespaces, with {@code --netns}; else null. */
    private final NetNamespaces net;

    Local(LocalCluster cluster, String token, NetNamespaces net) {
      this.cluster = cluster;
      this.token = token;
      this.net = net;
    }

    public java.util.Optional<NetNamespaces> network() {
      return java.util.Optional.ofNullable(net);
    }

    LocalCluster cluster() {
      return cluster;
    }

    public List<Integer> ids() {
      return cluster.ids();
    }

    public String url(int id) {
      return cluster.node(id).baseUrl();
    }

    public HttpResponse<String> send(int id, HttpRequest.Builder request, Duration timeout) {
      return cluster.node(id).send(request.timeout(timeout));
    }

    public void kill(int id) {
      cluster.node(id).kill();
    }

    public void terminate(int id) {
      cluster.node(id).terminate(Duration.ofSeconds(30));
    }

    public boolean canRestart() {
      return true;
    }

    public void restart(int id) {
      cluster.start(id);
    }

    public void pause(int id, long ms) throws InterruptedException {
      cluster.node(id).pause();
      try {
        Thread.sleep(ms);
      } finally {
        cluster.node(id).resume();
      }
    }

    public Map<Integer, PowerLoss.Undone> powerLoss() {
      cluster.signalAll("STOP"); // one kill(1) for all: nothing any node does after this instant reaches its disk
      cluster.ids().forEach(id -> cluster.node(id).kill());
      Map<Integer, PowerLoss.Undone> undone = new TreeMap<>();
      cluster.ids().forEach(id -> undone.put(id, PowerLoss.rollBack(cluster.dataDir(id))));
      return undone;
    }

    public List<String> logLines(int id) {
      return cluster.logLines(id);
    }

    public String token() {
      return token;
    }

    public void close() {
      try {
        cluster.close();
      } finally {
        if (net != null) {
          net.close();
        }
      }
    }
  }

  /** A running cluster reached by URL: {@code bin/chaos.sh --attach URL,URL,...}. */
  final class Remote implements Nodes {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final Map<Integer, String> urls = new TreeMap<>();
    private final String token;

    /** Asks each URL which node it is. */
    Remote(List<String> baseUrls, String token) {
      this.token = token;
      for (String url : baseUrls) {
        String base = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
        HttpResponse<String> response = call(HttpRequest.newBuilder(URI.create(base + "/api/status")).GET(), Duration.ofSeconds(5));
        urls.put(new JsonObject(response.body()).getInteger("nodeId"), base);
      }
    }

    public List<Integer> ids() {
      return List.copyOf(urls.keySet());
    }

    public String url(int id) {
      return urls.get(id);
    }

    public HttpResponse<String> send(int id, HttpRequest.Builder request, Duration timeout) {
      return call(request, timeout);
    }

    private static HttpResponse<String> call(HttpRequest.Builder request, Duration timeout) {
      try {
        return HTTP.send(request.timeout(timeout).build(), HttpResponse.BodyHandlers.ofString());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }

    public void kill(int id) {
      admin(id, "die");
    }

    public void terminate(int id) {
      throw new UnsupportedOperationException("an attached cluster's nodes are stopped by whatever runs them");
    }

    public boolean canRestart() {
      return false;
    }

    public void restart(int id) {
      throw new UnsupportedOperationException("an attached cluster's nodes are restarted by whatever runs them");
    }

    public void pause(int id, long ms) throws InterruptedException {
      admin(id, "pause?ms=" + ms);
      Thread.sleep(ms);
    }

    public List<String> logLines(int id) {
      return List.of();
    }

    public String token() {
      return token;
    }

    public void close() {
      // not ours to stop
    }
  }
}
