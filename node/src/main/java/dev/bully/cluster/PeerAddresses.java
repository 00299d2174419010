package dev.bully.cluster;

import com.hazelcast.core.EntryEvent;
import com.hazelcast.map.IMap;
import com.hazelcast.map.MapEvent;
import com.hazelcast.map.listener.EntryAddedListener;
import com.hazelcast.map.listener.EntryRemovedListener;
import com.hazelcast.map.listener.EntryUpdatedListener;
import com.hazelcast.map.listener.MapClearedListener;
import io.vertx.core.Completable;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxException;
import io.vertx.core.spi.cluster.NodeInfo;
import io.vertx.spi.cluster.hazelcast.impl.HazelcastNodeInfo;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

/**
 * Where each member's event bus listens, as this member last heard it, answering the event bus
 * within a bounded time when it opens a connection to a peer.
 *
 * <p>The event bus holds every message for a peer behind its one attempt to connect, and that
 * attempt starts with a lookup of the peer's address in the cluster manager's map. Read from the
 * map, that lookup waits for as long as the operation does not come back: once, right after three
 * nodes joined together, about a minute, during which one node heard nothing from its coordinator
 * and the election could not end (docs/testing.md). Here the map's changes are followed as they
 * happen, so a known peer's address is answered at once; an unknown one is read from the map, one
 * read per peer at a time, and a read without an answer within the bound fails that attempt, so
 * that the event bus drops what waited and tries again with its next message. A read that finds no
 * entry does not fail the attempt at once: a member that has just joined puts its entry a moment
 * after the member list shows it, and peers reach for it at once (every restart logged "Not a member
 * of the cluster" on the others, and their next attempt came after a probe's timeout). The attempt
 * waits for the entry to be heard of, within the same bound.
 *
 * <p>An address stays known when its entry leaves the map: the cluster manager removes the entry of
 * a member it splits off, which a cut of a few seconds can make it do while the event bus still
 * reaches that member ({@link RoutedClusterManager}). An event-bus node id is one process's, so the
 * address of one that is gone leads nowhere, and a node that restarts comes with a new id.
 */
final class PeerAddresses implements EntryAddedListener<String, HazelcastNodeInfo>,
    EntryUpdatedListener<String, HazelcastNodeInfo>, EntryRemovedListener<String, HazelcastNodeInfo>, MapClearedListener {
  private final Map<String, NodeInfo> known = new ConcurrentHashMap<>();
  /** The read of the map under way for a peer, which every attempt to connect to it waits for. */
  private final Map<String, Future<NodeInfo>> reading = new ConcurrentHashMap<>();
  /** The lookups under way for each peer, answered as soon as its entry is heard of. */
  private final Map<String, Set<Promise<NodeInfo>>> waiters = new ConcurrentHashMap<>();
  private final long boundMs;

  PeerAddresses(long boundMs) {
    this.boundMs = boundMs;
  }

  /** Follows every change of {@code map} from now on; what it held before is read when asked for. */
  void follow(IMap<String, HazelcastNodeInfo> map) {
    map.addEntryListener(this, true);
  }

  /**
   * Answers {@code answer} with the address of event-bus node {@code nodeId}: the one last heard of,
   * else what {@code reader} finds in the map or the map's changes bring first, else a failure once
   * {@code boundMs} passed.
   */
  void lookUp(Vertx vertx, String nodeId, Function<String, Future<NodeInfo>> reader, Completable<NodeInfo> answer) {
    NodeInfo address = known.get(nodeId);
    if (address != null) {
      answer.succeed(address);
      return;
    }
    Future<NodeInfo> underWay = reading.get(nodeId);
    if (underWay == null) {
      Promise<NodeInfo> read = Promise.promise();
      underWay = reading.putIfAbsent(nodeId, read.future());
      if (underWay == null) {
        underWay = read.future();
        reader.apply(nodeId).onComplete(done -> {
          reading.remove(nodeId, read.future());
          if (done.succeeded()) {
            known.putIfAbsent(nodeId, done.result());
          }
          read.handle(done);
        });
      }
    }
    Promise<NodeInfo> bounded = Promise.promise();
    waiters.compute(nodeId, (id, set) -> {
      Set<Promise<NodeInfo>> waiting = set != null ? set : ConcurrentHashMap.newKeySet();
      waiting.add(bounded);
      return waiting;
    });
    NodeInfo heard = known.get(nodeId); // heard while this lookup was set up
    if (heard != null) {
      bounded.tryComplete(heard);
    }
    AtomicReference<Throwable> readFailed = new AtomicReference<>();
    long timer = vertx.setTimer(boundMs, expired -> bounded.tryFail(new VertxException(
        "the cluster manager did not say within " + boundMs + " ms where node " + nodeId + " listens"
            + (readFailed.get() == null ? "" : " (" + readFailed.get().getMessage() + ")"), true)));
    underWay.onComplete(done -> {
      if (done.succeeded()) {
        bounded.tryComplete(done.result());
      } else {
        readFailed.set(done.cause()); // its entry may be on its way: waits for it, within the bound
      }
    });
    bounded.future().onComplete(done -> {
      vertx.cancelTimer(timer);
      waiters.computeIfPresent(nodeId, (id, set) -> {
        set.remove(bounded);
        return set.isEmpty() ? null : set;
      });
      answer.complete(done.result(), done.cause());
    });
  }

  /** Answers the lookups waiting for {@code nodeId}'s address. */
  private void heard(String nodeId, NodeInfo address) {
    known.put(nodeId, address);
    Set<Promise<NodeInfo>> waiting = waiters.get(nodeId);
    if (waiting != null) {
      waiting.forEach(promise -> promise.tryComplete(address));
    }
  }

  @Override
  public void entryAdded(EntryEvent<String, HazelcastNodeInfo> event) {
    heard(event.getKey(), event.getValue().unwrap());
  }

  @Override
  public void entryUpdated(EntryEvent<String, HazelcastNodeInfo> event) {
    heard(event.getKey(), event.getValue().unwrap());
  }

  @Override
  public void entryRemoved(EntryEvent<String, HazelcastNodeInfo> event) {
    // Kept: see the class's comment.
  }

  @Override
  public void mapCleared(MapEvent event) {
    // Kept: see the class's comment.
  }
}
