package dev.bully.it;

import dev.bully.store.EmbeddedMongo;
import dev.bully.store.NodeStore;
import dev.bully.store.StoreSync;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/** Opens a node's embedded store in the test's own JVM, to seed it before a node starts or inspect it after. */
public final class StoreFixture {
  private StoreFixture() {
  }

  public static <T> T withStore(Path dataDir, Function<NodeStore, Future<T>> work) {
    // No file cache: it would be a folder under /tmp, left behind when the process is killed.
    Vertx vertx = Vertx.vertx(new io.vertx.core.VertxOptions().setFileSystemOptions(
        new io.vertx.core.file.FileSystemOptions().setClassPathResolvingEnabled(false).setFileCachingEnabled(false)));
    try (EmbeddedMongo embedded = EmbeddedMongo.start(dataDir, StoreSync.FSYNC)) {
      return NodeStore.open(vertx, Optional.empty(), "bully", embedded, StoreSync.FSYNC, dataDir.resolve("log"))
          .compose(store -> work.apply(store).eventually(() -> {
            store.close();
            return Future.succeededFuture();
          }))
          .toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("store work on " + dataDir + " failed", e);
    } finally {
      vertx.close();
    }
  }
}
