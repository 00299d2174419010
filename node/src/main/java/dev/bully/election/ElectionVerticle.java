package dev.bully.election;

import dev.bully.config.NodeConfig;
import dev.bully.core.BrokenInvariant;
import dev.bully.core.Election;
import dev.bully.core.Message;
import dev.bully.core.Output;
import dev.bully.core.Role;
import dev.bully.core.Status;
import dev.bully.core.Write;
import dev.bully.driver.Driver;
import dev.bully.driver.Host;
import dev.bully.driver.ReadOutcome;
import dev.bully.driver.Storage;
import dev.bully.driver.Transport;
import dev.bully.driver.WriteConcern;
import dev.bully.driver.WriteOutcome;
import dev.bully.metrics.NodeMetrics;
import dev.bully.store.NodeStore;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.util.HashSet;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the {@link Election} replica on the event bus, through the {@link Driver} that the simulator
 * runs too: peers' messages, ticks, membership hints, client writes, step-downs and chaos commands
 * come in on the bus and go to the driver, on this verticle's thread alone; the driver persists
 * through the store side ({@code ReplicationVerticle}, on its own event loop), sends over the
 * clustered event bus ({@link EventBusTransport}, behind the chaos faults when they are enabled),
 * and this verticle logs and publishes what it records.
 * Client writes and step-downs are answered with typed outcomes ({@link Outcome}) on the local bus.
 */
public final class ElectionVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(ElectionVerticle.class);
  private static final Logger transcript = StatusReports.transcript;
  private static final long STATUS_PUBLISH_MS = 250;
  /**
   * How often the data folder is measured, on a worker: a walk of its folders, which the status
   * published every 250 ms and each {@code /api/status} once did on this verticle's event loop.
   */
  private static final long STORE_SIZE_EVERY_MS = 1_000;
  /** EX_SOFTWARE: the node stopped itself rather than act on a state its store does not hold. */
  static final int FAIL_STOP_EXIT_CODE = 70;
  private static final int HAND_OFF_WAIT_FACTOR = 10;

  private final NodeConfig config;
  private final Election election;
  private final NodeStore store;
  private final NodeMetrics metrics;
  private final LongSupplier clock;
  private final long incarnation;
  private final ChaosFaults faults = new ChaosFaults();
  private final Function<Context, Storage> storageFor;
  private final CommittedFeed feed;
  private CommittedLog committedLog;
  private Driver driver;
  private StatusReports reports;
  private PeerLinks links;
  private volatile boolean stopping;
  private Runnable stopPauses;

  /**
   * {@code storage}: the store side, for this verticle's event loop ({@code ReplicationVerticle});
   * {@code store}: the same store, for its status only; {@code incarnation}: this start's number,
   * which numbers its protocol messages; {@code clock}: monotonic milliseconds, the replica's time.
   */
  public ElectionVerticle(NodeConfig config, Function<Context, Storage> storage, NodeStore store, Election election,
                          long incarnation, NodeMetrics metrics, LongSupplier clock, CommittedFeed feed) {
    this.config = config;
    this.feed = feed;
    this.incarnation = incarnation;
    this.election = election;
    this.metrics = metrics;
    this.storageFor = storage;
    this.store = store;
    this.clock = clock;
  }

  @Override
  public Future<?> start() {
    EventBus eventBus = vertx.eventBus();
    Rejections rejections = new Rejections(config.nodeId(), metrics, clock);
    reports = new StatusReports(config, election, store, metrics, rejections, eventBus, clock, feed::appliedIndex,
        feed::snapshotIndex);
    metrics.gauge("bully_log_first_index", "The first index this node's log still holds: entries before it were applied and"
        + " compacted, or a snapshot took their place", () -> election.logView().baseIndex() + 1);
    metrics.gauge("bully_snapshot_index", "The last snapshot this node's documents came from (0: none)", feed::snapshotIndex);
    metrics.gauge("bully_store_bytes", "Bytes this node's data folder holds: its store and its log files", reports::storeBytes);
    links = new PeerLinks(vertx, config);
    EventBusTransport network = new EventBusTransport(eventBus, config, incarnation, rejections, reports::sent);
    FaultyTransport faulty = config.chaosEnabled() ? new FaultyTransport(config.nodeId(), network, faults) : null;
    Transport transport = faulty != null ? faulty : network;
    Storage storage = storageFor.apply(context);
    committedLog = new CommittedLog(election, storage);
    feed.attach(task -> context.runOnContext(v -> task.run()), committedLog);
    driver = new Driver(election, storage, transport, new NodeHost(), clock, config.logLimits(), NodeStore.PAGE_ENTRIES);
    // A core invariant that throws means this node's state cannot be trusted: stop, do not retry on every tick.
    // Anything else (the event bus or a driver bug) is logged, and the node goes on.
    context.exceptionHandler(failure -> {
      if (thrownByCore(failure)) {
        failStop("the protocol core refused an input: " + failure, failure);
      } else if (StatusReports.isPublishCompletedTwice(failure)) {
        log.debug("Node {}: a publication to the dashboards reached not every node", config.nodeId());
      } else {
        log.error("Node {}: unexpected failure outside the protocol core", config.nodeId(), failure);
      }
    });
    stopPauses = RuntimePauses.watch().listen(pauseMs -> context.runOnContext(v -> driver.paused(pauseMs)));
    Consumer<Message> receiver = driver::step;
    MessageConsumer<Object> protocol = network.listen(faulty != null ? faulty.receiving(receiver) : receiver);
    eventBus.localConsumer(Addresses.TICK, tick -> {
      driver.tick();
      feed.poke();
    });
    eventBus.<JsonObject>localConsumer(Addresses.MEMBERS, members -> {
      Set<Integer> ids = new HashSet<>();
      members.body().getJsonArray("members").forEach(id -> ids.add((Integer) id));
      reports.strangers(members.body().getJsonArray("strangers"));
      network.membersChanged(ids);
      links.membersChanged(ids);
      driver.membershipChanged(ids);
    });
    eventBus.localConsumer(Addresses.LOCAL_STATUS, request -> request.reply(reports.json()));
    eventBus.<JsonObject>localConsumer(Addresses.LOCAL_WRITE, this::onWrite);
    eventBus.localConsumer(Addresses.LOCAL_READ_INDEX, request -> {
      long arrivedNs = System.nanoTime();
      driver.read(outcome -> {
        if (outcome instanceof ReadOutcome.Ready) {
          metrics.readConfirmed(arrivedNs);
        }
        request.reply(Outcome.of(outcome));
      });
    });
    eventBus.<JsonObject>localConsumer(Addresses.LOCAL_READ, request -> committedLog.read(request.body())
        .onSuccess(request::reply)
        .onFailure(failure -> {
          if (failure instanceof io.vertx.core.eventbus.ReplyException reply && reply.failureCode() == Outcome.COMPACTED) {
            request.fail(Outcome.COMPACTED, reply.getMessage());
          } else {
            request.fail(Outcome.STORE_UNREADABLE, "Reading the log from the store failed: " + failure.getMessage());
          }
        }));
    ChaosCommands chaos = new ChaosCommands(config, faults, vertx, driver::startElectionNow);
    eventBus.<JsonObject>localConsumer(Addresses.LOCAL_CHAOS, command -> command.reply(chaos.apply(command.body())));
    eventBus.<JsonObject>localConsumer(Addresses.LOCAL_STEP_DOWN,
        request -> stepDown(request.body().getBoolean("leaving", false), request::reply));
    metrics.observe(election.status());
    vertx.setPeriodic(STATUS_PUBLISH_MS, id -> reports.publish());
    measureStore();
    vertx.setPeriodic(STORE_SIZE_EVERY_MS, id -> measureStore());
    links.start();
    return protocol.completion();
  }

  private void measureStore() {
    vertx.executeBlocking(() -> StatusReports.folderBytes(config.dataDir()), false)
        .onComplete(size -> reports.storeBytes(size.succeeded() ? size.result() : -1));
  }

  /** A client write from the HTTP API: taken here if this node leads, else where to go instead. */
  private void onWrite(io.vertx.core.eventbus.Message<JsonObject> request) {
    JsonObject body = request.body();
    long arrivedNs = System.nanoTime();
    Write write = new Write(body.getString("requestId"), body.getString("data"), System.currentTimeMillis());
    driver.write(write, WriteConcern.valueOf(body.getString("w")), outcome -> {
      if (outcome instanceof WriteOutcome.Committed) {
        metrics.acknowledged(arrivedNs);
      } else if (outcome instanceof WriteOutcome.KeyReused) {
        metrics.keyReused();
      } else if (outcome instanceof WriteOutcome.Unavailable) {
        metrics.unavailable();
      }
      request.reply(Outcome.of(outcome));
    });
  }

  /**
   * A graceful hand-off ({@code leaving}: because this node stops). Answers {@code handed_over}
   * with {@code successor, coordinatorId, term, tookMs} once another node leads, {@code refused}
   * when this node does not lead or has no caught-up follower to hand to, and {@code unavailable}
   * when the successor did not take over in time (this node then leads on).
   */
  private void stepDown(boolean leaving, Consumer<JsonObject> answer) {
    long startedNs = System.nanoTime();
    Status before = election.status();
    driver.stepDown(leaving);
    if (before.role() != Role.COORDINATOR) {
      answer.accept(Outcome.of(Outcome.REFUSED).put("error", "not_coordinator")
          .put("message", "Node " + config.nodeId() + " is not the coordinator"
              + (before.coordinatorId() != 0 ? "; node " + before.coordinatorId() + " is" : ""))
          .put("coordinatorId", before.coordinatorId() == 0 ? null : before.coordinatorId()));
      return;
    }
    int successor = election.handingOverTo();
    if (successor == 0) {
      answer.accept(Outcome.of(Outcome.REFUSED).put("error", "no_successor")
          .put("message", "No follower is reachable and caught up; node " + config.nodeId() + " leads on"));
      return;
    }
    Predicate<Status> handedOver = status -> {
      if (status.role() != Role.COORDINATOR && status.coordinatorId() != 0) {
        answer.accept(Outcome.of(Outcome.HANDED_OVER).put("node", config.nodeId()).put("successor", successor)
            .put("coordinatorId", status.coordinatorId()).put("term", status.term())
            .put("tookMs", (System.nanoTime() - startedNs) / 1_000_000));
        return true;
      }
      if (status.role() == Role.COORDINATOR && election.handingOverTo() == 0) {
        answer.accept(Outcome.unavailable("node " + successor + " did not take over in time; node "
            + config.nodeId() + " leads on").put("error", "handoff_failed"));
        return true;
      }
      return false;
    };
    reports.watch(handedOver);
    // The core gives up on the successor by itself; this only bounds the wait for news of a new coordinator.
    vertx.setTimer(HAND_OFF_WAIT_FACTOR * config.failureTimeoutMs(), id -> {
      if (reports.unwatch(handedOver)) {
        answer.accept(Outcome.unavailable("no coordinator was heard of after the hand-off to node " + successor)
            .put("error", "handoff_failed"));
      }
    });
  }

  /**
   * Whether {@code failure} is the core's: every failure escaping an input of the core leaves it as
   * a {@link BrokenInvariant}. Sends and stores run after the core returned, so theirs never are.
   */
  private static boolean thrownByCore(Throwable failure) {
    for (Throwable cause = failure; cause != null; cause = cause.getCause() == cause ? null : cause.getCause()) {
      if (cause instanceof BrokenInvariant) {
        return true;
      }
    }
    return false;
  }

  /**
   * The protocol's state and the store no longer agree (a write failed), or the core refused an
   * input as impossible: going on could break what the node promised, so it stops as if it had
   * crashed, and a restart recovers from what the store holds.
   */
  private void failStop(String why, Throwable cause) {
    if (stopping) {
      // The node is shutting down and closing its store under writes still in flight: nothing to protect.
      log.warn("Node {}: {} while stopping ({})", config.nodeId(), why, cause.toString());
      return;
    }
    log.error("Node {} stops: {}", config.nodeId(), why, cause);
    transcript.info("Node {} stops: {}", config.nodeId(), why);
    Runtime.getRuntime().halt(FAIL_STOP_EXIT_CODE);
  }

  /** What the driver tells this verticle: events to log and publish, a store that failed, a read that did. */
  private final class NodeHost implements Host {
    @Override
    public void record(Output output) {
      reports.record(output);
      feed.poke();
    }

    @Override
    public void failStop(String why, Throwable cause) {
      ElectionVerticle.this.failStop(why, cause);
    }

    @Override
    public void warn(String message) {
      log.warn("Node {} {}", config.nodeId(), message);
    }
  }

  @Override
  public Future<?> stop() {
    stopping = true;
    if (stopPauses != null) {
      stopPauses.run();
    }
    if (driver != null) {
      driver.stop();
    }
    return Future.succeededFuture();
  }
}
