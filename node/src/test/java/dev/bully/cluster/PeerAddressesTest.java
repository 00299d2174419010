package dev.bully.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hazelcast.core.EntryEvent;
import com.hazelcast.core.EntryEventType;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxException;
import io.vertx.core.spi.cluster.NodeInfo;
import io.vertx.spi.cluster.hazelcast.impl.HazelcastNodeInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The event bus learns where a peer listens within a bounded time, whatever the cluster manager's map does. */
class PeerAddressesTest {
  private static final long BOUND_MS = 50;
  private static final NodeInfo NODE_1 = new NodeInfo("127.0.0.1", 40001, null);

  private final Vertx vertx = Vertx.vertx();
  private final PeerAddresses addresses = new PeerAddresses(BOUND_MS);
  /** Each read of the map the address book started, in order, left for the test to answer. */
  private final List<Promise<NodeInfo>> reads = new ArrayList<>();
  private final Function<String, Future<NodeInfo>> reader = id -> {
    Promise<NodeInfo> read = Promise.promise();
    reads.add(read);
    return read.future();
  };

  @AfterEach
  void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void aReadThatNeverAnswersFailsEachAttemptWithinTheBoundAndIsNotStartedTwice() throws Exception {
    ExecutionException first = assertThrows(ExecutionException.class, () -> lookUp("node-1"));
    ExecutionException second = assertThrows(ExecutionException.class, () -> lookUp("node-1"));

    assertTrue(first.getCause().getMessage().contains("did not say within 50 ms where node node-1 listens"), first.getMessage());
    assertTrue(second.getCause() instanceof VertxException, second.toString());
    assertEquals(1, reads.size(), "the second attempt waits for the read under way instead of starting one more");
    reads.get(0).complete(NODE_1);
    assertEquals(NODE_1, lookUp("node-1"), "what the late read found is kept");
    assertEquals(1, reads.size());
  }

  @Test
  void anAddressHeardFromTheMapIsAnsweredWithoutReadingItAndOutlivesItsEntry() throws Exception {
    addresses.entryAdded(event(EntryEventType.ADDED, "node-1", NODE_1));
    assertEquals(NODE_1, lookUp("node-1"));
    NodeInfo moved = new NodeInfo("127.0.0.1", 40002, null);
    addresses.entryUpdated(event(EntryEventType.UPDATED, "node-1", moved));
    assertEquals(moved, lookUp("node-1"));

    addresses.entryRemoved(event(EntryEventType.REMOVED, "node-1", null));
    assertEquals(moved, lookUp("node-1"), "a member split off by the cluster manager is still reached where it was");
    assertEquals(0, reads.size());
  }

  @Test
  void aFailedReadIsNotKept() {
    Future<NodeInfo> missing = answer("node-1");
    reads.get(0).fail(new VertxException("Not a member of the cluster", true));
    assertThrows(ExecutionException.class, () -> missing.toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS));

    Future<NodeInfo> next = answer("node-1");
    assertEquals(2, reads.size(), "the next attempt reads the map again");
    reads.get(1).complete(NODE_1);
    assertEquals(NODE_1, next.toCompletionStage().toCompletableFuture().join());
  }

  @Test
  void aPeerWhoseEntryIsNotThereYetIsReachedAsSoonAsItIsPut() throws Exception {
    Future<NodeInfo> joining = answer("node-1");
    reads.get(0).fail(new VertxException("Not a member of the cluster", true)); // joined, its entry not put yet
    addresses.entryAdded(event(EntryEventType.ADDED, "node-1", NODE_1));
    assertEquals(NODE_1, joining.toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS),
        "the attempt waited for the entry instead of failing");
  }

  @Test
  void aPeerWhoseEntryNeverComesFailsWithinTheBoundSayingWhatTheReadFound() {
    Future<NodeInfo> missing = answer("node-1");
    reads.get(0).fail(new VertxException("Not a member of the cluster", true));
    ExecutionException failed = assertThrows(ExecutionException.class,
        () -> missing.toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS));
    assertTrue(failed.getCause().getMessage().contains("within 50 ms") && failed.getCause().getMessage().contains("Not a member"),
        failed.getMessage());
  }

  private NodeInfo lookUp(String nodeId) throws Exception {
    return answer(nodeId).toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
  }

  private Future<NodeInfo> answer(String nodeId) {
    Promise<NodeInfo> answer = Promise.promise();
    addresses.lookUp(vertx, nodeId, reader, answer);
    return answer.future();
  }

  private static EntryEvent<String, HazelcastNodeInfo> event(EntryEventType type, String key, NodeInfo value) {
    return new EntryEvent<>("__vertx.nodeInfo", null, type.getType(), key, value == null ? null : new HazelcastNodeInfo(value));
  }
}
