package dev.bully.election;

import dev.bully.config.NodeConfig;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin API's chaos commands, on the election verticle's thread: start an election, arm a
 * fault ({@link ChaosFaults}), cut or heal protocol traffic, die or pause. Each is logged on the
 * protocol transcript, so a scenario's log shows where its faults came in.
 */
final class ChaosCommands {
  private static final Logger transcript = LoggerFactory.getLogger("Protocol");
  /** Chaos that stops this process waits this long, so the admin request is answered first. */
  private static final long DIE_AFTER_REPLY_MS = 50;
  private static final long DEFAULT_PAUSE_MS = 3_000;

  private final NodeConfig config;
  private final ChaosFaults faults;
  private final Vertx vertx;
  private final Runnable startElection;

  ChaosCommands(NodeConfig config, ChaosFaults faults, Vertx vertx, Runnable startElection) {
    this.config = config;
    this.faults = faults;
    this.vertx = vertx;
    this.startElection = startElection;
  }

  /** A chaos command from the admin API: {@code {fault, to?, from?}}; answers what it did. */
  JsonObject apply(JsonObject command) {
    String fault = command.getString("fault");
    JsonObject reply = new JsonObject().put("node", config.nodeId()).put("fault", fault);
    switch (fault) {
      case "start-election" -> startElection.run();
      case "die-during-announcement" -> faults.armDieDuringAnnouncement();
      case "die-during-election" -> faults.armDieDuringElection();
      case "isolate" -> {
        Set<Integer> everyone = new TreeSet<>();
        config.peers().forEach(peer -> everyone.add(peer.id()));
        faults.drop(everyone, everyone);
        reply.put("network", faults.describeDrops());
      }
      case "drop" -> {
        faults.drop(ids(command.getJsonArray("to")), ids(command.getJsonArray("from")));
        reply.put("network", faults.describeDrops());
      }
      case "heal" -> {
        faults.heal();
        reply.put("network", faults.describeDrops());
      }
      case "die" -> vertx.setTimer(DIE_AFTER_REPLY_MS, id -> {
        transcript.info("Node {} dies (chaos)", config.nodeId());
        Runtime.getRuntime().halt(137);
      });
      case "pause" -> {
        long ms = command.getLong("ms", DEFAULT_PAUSE_MS);
        vertx.setTimer(DIE_AFTER_REPLY_MS, id -> ChaosFaults.pauseThisProcess(ms));
        reply.put("pausedMs", ms);
      }
      default -> {
        return new JsonObject().put("error", "unknown_fault").put("message", "No chaos fault named '" + fault + "'");
      }
    }
    transcript.info("Node {} received chaos command '{}'{}", config.nodeId(), fault,
        reply.containsKey("network") ? ": " + reply.getString("network") : "");
    return reply;
  }

  private static Set<Integer> ids(JsonArray array) {
    Set<Integer> ids = new TreeSet<>();
    if (array != null) {
      array.forEach(id -> ids.add(((Number) id).intValue()));
    }
    return ids;
  }
}
