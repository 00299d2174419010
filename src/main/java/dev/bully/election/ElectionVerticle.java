package dev.bully.election;

import dev.bully.config.NodeConfig;
import dev.bully.core.BrokenInvariant;
import dev.bully.core.Election;
import dev.bully.core.Envelope;
import dev.bully.core.Message;
import dev.bully.core.Output;
import dev.bully.core.Role;
import dev.bully.core.Status;
import dev.bully.core.Write;
import dev.bully.metrics.NodeMetrics;
import dev.bully.store.NodeStore;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drives the {@link Election} core on the event bus. It is the only thread that touches the core.
 * For every input (a peer's message, a tick, a membership hint, a chaos command) it asks the core
 * what to do, persists the term and promise the output depends on, then sends, then logs the
 * protocol events and publishes the node's status. Outputs are handled strictly in order: while a
 * persist is in flight, later outputs wait for it, since their messages may depend on it.
 */
public final class ElectionVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(ElectionVerticle.class);
  private static final Logger transcript = StatusReports.transcript;
  private static final long STATUS_PUBLISH_MS = 250;
  /** EX_SOFTWARE: the node stopped itself rather than act on a state its store does not hold. */
  static final int FAIL_STOP_EXIT_CODE = 70;
  private static final int HAND_OFF_WAIT_FACTOR = 10;

  private final NodeConfig config;
  private final Election election;
  private final MessageCodec codec;
  private final ChaosFaults faults = new ChaosFaults();
  private final ClientWrites writes;
  private final NodeMetrics metrics;

  private EventBus eventBus;
  private StatusReports reports;
  private PeerLinks links;
  private final Outbox outbox;
  private final CommittedLog committedLog;
  /** The configured nodes the cluster manager sees; messages to others are not sent. */
  private Set<Integer> members = Set.of();
  private final StoreQueue storeQueue;
  private final NodeStore store;
  private volatile boolean stopping;

  public ElectionVerticle(NodeConfig config, NodeStore store, Election election, NodeMetrics metrics) {
    this.config = config;
    this.election = election;
    this.metrics = metrics;
    this.store = store;
    Set<Integer> ids = new HashSet<>();
    config.members().forEach(m -> ids.add(m.id()));
    this.codec = new MessageCodec(config.clusterName(), ids);
    this.writes = new ClientWrites(config.nodeId(), election, this::handle);
    this.committedLog = new CommittedLog(election, store, () -> stopping, this::failStop,
        () -> writes.proposeQueued());
    this.outbox = new Outbox(config.nodeId(), store, id -> members.contains(id), this::send);
    this.storeQueue = new StoreQueue(store, new StoreQueue.Durable() {
      @Override
      public void written(List<StoreQueue.Queued> outputs, long lastIndex) {
        ElectionVerticle.this.written(outputs, lastIndex);
      }

      @Override
      public void sendNow(StoreQueue.Queued queued) {
        sendEarly(queued.output());
      }
    }, failure -> failStop("its store refused a write, and would refuse it again", failure));
  }

  @Override
  public Future<?> start() {
    eventBus = vertx.eventBus();
    reports = new StatusReports(config, election, store, metrics, eventBus);
    links = new PeerLinks(vertx, config);
    // A core invariant that throws means this node's state cannot be trusted: stop, do not retry on every tick.
    // Anything else (the event bus or a driver bug) is logged, and the node goes on.
    context.exceptionHandler(failure -> {
      if (thrownByCore(failure)) {
        failStop("the protocol core refused an input: " + failure, failure);
      } else {
        log.error("Node {}: unexpected failure outside the protocol core", config.nodeId(), failure);
      }
    });
    MessageConsumer<Object> protocol = eventBus.consumer(Addresses.node(config.clusterName(), config.nodeId()), this::onMessage);
    eventBus.localConsumer(Addresses.TICK, tick -> {
      handle(election.tick(nowMs()));
      committedLog.pageIfDue();
    });
    eventBus.<JsonArray>localConsumer(Addresses.MEMBERS, members -> {
      Set<Integer> ids = new HashSet<>();
      members.body().forEach(id -> ids.add((Integer) id));
      this.members = Set.copyOf(ids);
      links.membersChanged(ids);
      handle(election.membershipChanged(ids, nowMs()));
    });
    eventBus.localConsumer(Addresses.LOCAL_STATUS, request -> request.reply(reports.json()));
    eventBus.<JsonObject>localConsumer(Addresses.LOCAL_WRITE, this::onWrite);
    eventBus.<JsonObject>localConsumer(Addresses.LOCAL_READ, request -> committedLog.read(request.body())
        .onSuccess(request::reply)
        .onFailure(failure -> request.fail(500, "Reading the log from the store failed: " + failure.getMessage())));
    ChaosCommands chaos = new ChaosCommands(config, faults, vertx, () -> handle(election.startElectionNow(nowMs())));
    eventBus.<JsonObject>localConsumer(Addresses.LOCAL_CHAOS, command -> command.reply(chaos.apply(command.body())));
    eventBus.<JsonObject>localConsumer(Addresses.LOCAL_STEP_DOWN,
        request -> stepDown(request.body().getBoolean("leaving", false), request::reply));
    metrics.observe(election.status());
    vertx.setPeriodic(STATUS_PUBLISH_MS, id -> reports.publish());
    links.start();
    return protocol.completion();
  }

  /** A client write from the HTTP API: taken here if this node leads, else where to go instead. */
  private void onWrite(io.vertx.core.eventbus.Message<JsonObject> request) {
    JsonObject body = request.body();
    long arrivedNs = System.nanoTime();
    Consumer<JsonObject> answer = reply -> {
      String outcome = reply.getString(Outcome.KEY);
      if (Outcome.COMMITTED.equals(outcome)) {
        metrics.acknowledged(arrivedNs);
      } else if (Outcome.UNAVAILABLE.equals(outcome)) {
        metrics.unavailable();
      }
      request.reply(reply);
    };
    if (!election.acceptsWrites()) {
      int coordinator = election.status().coordinatorId();
      answer.accept(coordinator != 0 && coordinator != config.nodeId()
          ? Outcome.of(Outcome.REDIRECT).put("coordinatorId", coordinator)
          : Outcome.unavailable(coordinator == config.nodeId() ? "this node is handing over" : "there is no coordinator"));
      return;
    }
    Write write = new Write(body.getString("requestId"), body.getString("data"), System.currentTimeMillis());
    writes.submit(write, ClientWrites.Concern.valueOf(body.getString("w")), answer);
  }

  /**
   * A graceful hand-off ({@code leaving}: because this node stops). Answers
   * {@code {status: 200, successor, coordinatorId, term, tookMs}} once another node leads, 409 when
   * this node does not lead or has no caught-up follower to hand to, and 503 when the successor did
   * not take over in time (this node then leads on).
   */
  private void stepDown(boolean leaving, Consumer<JsonObject> answer) {
    long startedNs = System.nanoTime();
    Status before = election.status();
    handle(election.stepDown(nowMs(), leaving));
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

  private void onMessage(io.vertx.core.eventbus.Message<Object> delivery) {
    if (PeerLinks.isKeepAlive(delivery.body())) {
      PeerLinks.answer(delivery);
      return;
    }
    Message message;
    try {
      message = codec.decode(delivery.body());
    } catch (MessageCodec.InvalidMessage e) {
      log.warn("Node {} rejected a message: {} ({})", config.nodeId(), e.getMessage(), delivery.body());
      return;
    }
    if (faults.dropsFrom(message.from())) {
      return; // a chaos partition
    }
    if (faults.diesOnElectionMessage(message)) {
      transcript.info("Node {} dies during the election (chaos), on {} from node {}", config.nodeId(), message.type(), message.from());
      Runtime.getRuntime().halt(137);
    }
    handle(election.step(message, nowMs()));
  }

  /**
   * Persists, then sends, in order; the future completes once the output is durable and sent. An
   * output that {@link Output#sendsFirst() sends first} sends at once, unless a term or promise is
   * still on its way to the store; its events still wait for its write.
   */
  private Future<Void> handle(Output output) {
    if (output.isEmpty()) {
      return Future.succeededFuture();
    }
    if (!output.needsPersisting() && !storeQueue.statePending()) {
      // Nothing of its own to store, and no term or promise on its way: it may pass log writes still in flight
      // (a heartbeat's ACK must not wait behind a follower's slow store, or its coordinator would think it gone).
      sendMessages(output);
      record(output);
      return Future.succeededFuture();
    }
    boolean sentEarly = output.sendsFirst() && !storeQueue.statePending();
    if (sentEarly) {
      sendEarly(output);
    }
    return storeQueue.add(output, sentEarly);
  }

  /** An output that {@link Output#sendsFirst() sends first}, with no term or promise pending: its messages leave now. */
  private void sendEarly(Output output) {
    sendMessages(output);
    if (recordsEarly(output, true)) {
      reports.record(output);
    }
  }

  /** A store write is durable: the outputs it covered send (unless they did), record, and the core learns it. */
  private void written(List<StoreQueue.Queued> outputs, long lastIndex) {
    for (StoreQueue.Queued queued : outputs) {
      if (!queued.sentEarly()) {
        sendMessages(queued.output());
      }
      if (!recordsEarly(queued.output(), queued.sentEarly())) {
        reports.record(queued.output());
      }
    }
    writes.settle();
    if (lastIndex >= 0) {
      handle(election.localPersisted(lastIndex, nowMs()));
    }
    committedLog.pageIfDue();
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

  /** Sends the output's messages; once its state is durable, or before for an output that sends first. */
  private void sendMessages(Output output) {
    boolean dieAfterAnnouncing = faults.diesDuringAnnouncement(output);
    for (Envelope envelope : output.messages()) {
      outbox.send(envelope);
      if (dieAfterAnnouncing && envelope.message() instanceof Message.Heartbeat) {
        transcript.info("Node {} dies during its announcement (chaos), after telling node {}", config.nodeId(), envelope.to());
        Runtime.getRuntime().halt(137);
      }
    }
  }

  /**
   * A coordinator shipping entries of its own term before they are durable (a new term's no-op,
   * client writes) has no term or promise in the output: what its events say, such as that it now
   * leads, is already true and durable, so they are told at once rather than after the log write.
   */
  private static boolean recordsEarly(Output output, boolean sentEarly) {
    return sentEarly && output.persist() == null;
  }

  /** Records the output's events and status, and answers the client writes it settled. */
  private void record(Output output) {
    reports.record(output);
    writes.settle();
  }


  /**
   * Sends unless the cluster manager says the receiver is not a member: then no consumer can exist
   * for its address, the event bus would look it up in the cluster manager on every try and drop
   * the message anyway. The core treats it as a lost message, as it must any.
   */
  private void send(Envelope envelope) {
    Message message = envelope.message();
    if (!members.contains(envelope.to()) || faults.dropsTo(envelope.to())) {
      return;
    }
    reports.sent(message.type());
    try {
      eventBus.send(Addresses.node(config.clusterName(), envelope.to()), codec.encode(message));
    } catch (RuntimeException e) {
      // Seen from the clustered event bus when the connection to the receiver breaks under the send
      // ("Promise already completed"): for the protocol, a lost message.
      log.warn("Node {} could not send {} to node {}: {}", config.nodeId(), message.type(), envelope.to(), e.toString());
    }
  }


  @Override
  public Future<?> stop() {
    stopping = true;
    return Future.succeededFuture();
  }

  /** Monotonic milliseconds: the core only ever compares durations. */
  public static long nowMs() {
    return System.nanoTime() / 1_000_000;
  }
}
