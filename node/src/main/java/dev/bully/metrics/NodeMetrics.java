package dev.bully.metrics;

import dev.bully.core.ProtocolEvent;
import dev.bully.core.Role;
import dev.bully.core.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.micrometer.MetricsDomain;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.ToDoubleFunction;

/**
 * The node's Prometheus metrics, served at {@code GET /metrics}: the JVM's
 * meters (through vertx-micrometer-metrics), and the protocol's: writes by outcome, the commit
 * latency histogram, protocol events by kind (elections among them), and gauges for term, role,
 * log and commit index, and each follower's replication lag on the coordinator.
 *
 * <p>Gauges read the status the election verticle last handed over with {@link #observe}, so a
 * scrape on another thread never touches the protocol's state.
 */
public final class NodeMetrics {
  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final Counter acknowledged;
  private final Counter unavailable;
  private final Counter keyReused;
  private final Timer commitLatency;
  private final Timer readConfirmLatency;
  private final Map<ProtocolEvent.Kind, Counter> events = new EnumMap<>(ProtocolEvent.Kind.class);
  private final Map<String, Counter> rejected = new java.util.concurrent.ConcurrentHashMap<>();
  private volatile Status status;
  private final Map<String, Timer> applyStages = new java.util.concurrent.ConcurrentHashMap<>();
  private final io.micrometer.core.instrument.DistributionSummary applyBatches;
  // What the function meters read, held here: Micrometer keeps only a weak reference to a meter's object, so a
  // supplier passed to it alone was collected, and the meter read NaN (a gauge) or stayed at 0 (a counter).
  private volatile LongSupplier logForceCount = () -> 0;
  private volatile LongSupplier logForceNanos = () -> 0;
  private volatile LongSupplier appliedIndex;
  private final Map<String, LongSupplier> suppliers = new java.util.concurrent.ConcurrentHashMap<>();

  public NodeMetrics(int nodeId, Iterable<Integer> peers) {
    // No common "node" tag: Vert.x's own gauges are keyed without it and would be registered twice. A scraper
    // labels each target (instance) anyway; bully_node_info says which node answered.
    Gauge.builder("bully_node_info", () -> 1).tag("node", String.valueOf(nodeId))
        .description("Which node this is").register(registry);
    acknowledged = Counter.builder("bully_writes").tag("outcome", "acknowledged")
        .description("Client writes answered 201 (their write concern was met)").register(registry);
    unavailable = Counter.builder("bully_writes").tag("outcome", "unavailable")
        .description("Client writes answered 503 (no coordinator, or it stopped leading first)").register(registry);
    keyReused = Counter.builder("bully_writes").tag("outcome", "key_reused")
        .description("Client writes answered 422 (their Idempotency-Key names an entry written for another request)")
        .register(registry);
    commitLatency = Timer.builder("bully_write_commit")
        .description("From a write's arrival at the coordinator to its acknowledgement")
        .publishPercentileHistogram()
        .minimumExpectedValue(Duration.ofMillis(1))
        .maximumExpectedValue(Duration.ofSeconds(10))
        .register(registry);
    readConfirmLatency = Timer.builder("bully_read_confirm")
        .description("From a linearizable read's arrival at the coordinator to a majority confirming that it leads")
        .publishPercentileHistogram()
        .minimumExpectedValue(Duration.ofMillis(1))
        .maximumExpectedValue(Duration.ofSeconds(10))
        .register(registry);
    applyBatches = io.micrometer.core.instrument.DistributionSummary.builder("bully_apply_batch_entries")
        .description("Committed entries per batch applied to the documents").register(registry);
    for (ProtocolEvent.Kind kind : ProtocolEvent.Kind.values()) {
      events.put(kind, Counter.builder("bully_protocol_events").tag("kind", kind.name())
          .description("Protocol events by kind; kind=ELECTION counts elections this node started").register(registry));
    }
    gauge("bully_term", "The node's current term", Status::term);
    gauge("bully_last_index", "Index of the last entry in the node's log", s -> s.log().index());
    gauge("bully_commit_index", "Highest index the node knows to be committed", Status::commitIndex);
    gauge("bully_behind_entries", "On a follower, entries of its coordinator it does not have yet", Status::behind);
    for (Role role : Role.values()) {
      Gauge.builder("bully_role", this, m -> m.status != null && m.status.role() == role ? 1 : 0)
          .tag("role", role.name()).description("1 for the node's current role").register(registry);
    }
    for (int peer : peers) {
      Gauge.builder("bully_follower_lag_entries", this, m -> followerLag(m.status, peer))
          .tag("follower", String.valueOf(peer))
          .description("On the coordinator, entries a follower is known to lack; NaN elsewhere").register(registry);
    }
  }

  /** Vert.x options that report Vert.x's HTTP server and JVM meters into this registry. */
  public MicrometerMetricsOptions vertxOptions() {
    MicrometerMetricsOptions options = new MicrometerMetricsOptions().setEnabled(true).setJvmMetricsEnabled(true);
    // The protocol's event-bus traffic and the store's client connection are measured by the protocol meters, and
    // writes by bully_writes and bully_write_commit; Vert.x's per-message and per-request meters would cost more
    // than they tell (its HTTP server meters were 4 to 7% of a loaded coordinator's CPU samples, a tag lookup per request).
    for (MetricsDomain domain : new MetricsDomain[] {MetricsDomain.EVENT_BUS, MetricsDomain.NET_CLIENT,
        MetricsDomain.NET_SERVER, MetricsDomain.HTTP_SERVER, MetricsDomain.HTTP_CLIENT, MetricsDomain.DATAGRAM_SOCKET,
        MetricsDomain.NAMED_POOLS}) {
      options.addDisabledMetricsCategory(domain);
    }
    return options;
  }

  public MicrometerMetricsFactory vertxMetricsFactory() {
    return new MicrometerMetricsFactory(registry);
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  /** The latest status, for the gauges. */
  public void observe(Status latest) {
    status = latest;
  }

  public void event(ProtocolEvent event) {
    events.get(event.kind()).increment();
  }

  public void acknowledged(long sinceNanos) {
    acknowledged.increment();
    commitLatency.record(System.nanoTime() - sinceNanos, TimeUnit.NANOSECONDS);
  }

  /** A linearizable read that arrived at {@code sinceNanos} was confirmed by a majority's heartbeat round. */
  public void readConfirmed(long sinceNanos) {
    readConfirmLatency.record(System.nanoTime() - sinceNanos, TimeUnit.NANOSECONDS);
  }

  public void unavailable() {
    unavailable.increment();
  }

  /** A protocol message refused before it reached the replica, for {@code reason} (unauthenticated, replayed, malformed). */
  public void keyReused() {
    keyReused.increment();
  }

  public void rejected(String reason) {
    rejected.computeIfAbsent(reason, r -> Counter.builder("bully_messages_rejected").tag("reason", r)
        .description("Protocol messages refused before they reached the protocol: unauthenticated, replayed or malformed")
        .register(registry)).increment();
  }

  /**
   * The forces of the log files to the device: how many ({@code bully_log_forces_total}) and how
   * long they took together ({@code bully_log_force_seconds_total}), read at each scrape.
   */
  public void logForces(LongSupplier count, LongSupplier nanos) {
    logForceCount = count;
    logForceNanos = nanos;
    FunctionCounter.builder("bully_log_forces", this, m -> m.logForceCount.getAsLong())
        .description("fdatasync calls on the log files, one per group of log writes").register(registry);
    FunctionCounter.builder("bully_log_force_seconds", this, m -> m.logForceNanos.getAsLong() / 1e9)
        .description("Time spent in fdatasync on the log files").register(registry);
  }

  /**
   * One stage of applying a batch of committed entries to the documents ({@code bully_apply_seconds},
   * tag {@code stage}: {@code read} the states of the documents it touches, {@code write} its store
   * writes, {@code force} the documents' force to the device, which nothing waits for), and the
   * entries of each batch ({@code bully_apply_batch_entries}).
   */
  public void applyStage(String stage, long nanos) {
    applyStages.computeIfAbsent(stage, s -> Timer.builder("bully_apply").tag("stage", s)
        .description("Applying committed entries to the documents, by stage").register(registry))
        .record(nanos, TimeUnit.NANOSECONDS);
  }

  public void applyBatch(int entries) {
    applyBatches.record(entries);
  }

  /** How far this node's documents include the committed log ({@code bully_applied_index}), read at each scrape. */
  public void appliedIndex(LongSupplier applied) {
    appliedIndex = applied;
    Gauge.builder("bully_applied_index", this, m -> m.appliedIndex.getAsLong())
        .description("Index up to which this node applied the committed log to its documents").register(registry);
  }

  /**
   * A gauge read from {@code value} at each scrape; the supplier is held here, since the registry
   * holds its gauges' state only weakly.
   */
  public void gauge(String name, String description, LongSupplier value) {
    suppliers.put(name, value);
    Gauge.builder(name, this, m -> m.suppliers.get(name).getAsLong()).description(description).register(registry);
  }

  private void gauge(String name, String description, ToDoubleFunction<Status> value) {
    Gauge.builder(name, this, m -> m.status == null ? Double.NaN : value.applyAsDouble(m.status))
        .description(description).register(registry);
  }

  private static double followerLag(Status status, int follower) {
    if (status == null || status.role() != Role.COORDINATOR || !status.followerMatch().containsKey(follower)) {
      return Double.NaN;
    }
    return Math.max(0, status.log().index() - status.followerMatch().get(follower));
  }
}
