package dev.bully.it;

import dev.bully.store.EmbeddedMongo;
import dev.bully.store.NodeStore;
import dev.bully.store.StoreSync;
import dev.bully.core.LogEntry;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A process for the kill -9 durability test: appends entries to a node store with many writes in
 * flight and prints {@code durable <index>} for each one once the store reports it durable. The
 * test kills this process at an arbitrary moment and then checks that every printed index is on
 * disk.
 */
public final class DurableWriter {
  public static void main(String[] args) {
    Path dataDir = Path.of(args[0]);
    int inFlight = Integer.parseInt(args[1]);
    // No file cache: it would be a folder under /tmp, left behind when the process is killed.
    Vertx vertx = Vertx.vertx(new io.vertx.core.VertxOptions().setFileSystemOptions(
        new io.vertx.core.file.FileSystemOptions().setClassPathResolvingEnabled(false).setFileCachingEnabled(false)));
    EmbeddedMongo embedded = EmbeddedMongo.start(dataDir, StoreSync.FSYNC);
    NodeStore.open(vertx, Optional.empty(), "bully", embedded, StoreSync.FSYNC, dataDir.resolve("log")).onSuccess(store -> {
      AtomicLong nextIndex = new AtomicLong(1);
      for (int i = 0; i < inFlight; i++) {
        writeLoop(store, nextIndex);
      }
    }).onFailure(e -> {
      e.printStackTrace();
      System.exit(1);
    });
  }

  private static void writeLoop(NodeStore store, AtomicLong nextIndex) {
    long index = nextIndex.getAndIncrement();
    LogEntry entry = new LogEntry(index, 1, "req-" + index, "{\"value\":" + index + "}", System.currentTimeMillis());
    store.append(List.of(entry)).onSuccess(v -> {
      System.out.println("durable " + index);
      System.out.flush();
      writeLoop(store, nextIndex);
    }).onFailure(e -> {
      e.printStackTrace();
      System.exit(1);
    });
  }
}
