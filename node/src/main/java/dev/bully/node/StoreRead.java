package dev.bully.node;

import dev.bully.config.NodeConfig;
import dev.bully.core.DurableState;
import dev.bully.driver.LogRestore;
import dev.bully.store.EmbeddedMongo;
import dev.bully.store.NodeStore;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.file.FileSystemOptions;

/**
 * What a start reads from the node's store before the protocol may run: the term and promise, the
 * log as a restart holds it with the directory of the store's pages, and this start's incarnation
 * (durable once read).
 *
 * <p>It is read on a Vert.x instance of its own while the clustered one joins the cluster, and that
 * instance is closed once it is read: a store's futures complete on the instance that made its
 * client, and the node's verticles must never see another instance's threads.
 */
record StoreRead(DurableState durable, LogRestore log, NodeStore.PageDirectory pages, long incarnation, long tookMs) {
  /** The node's store as {@code config} says, on {@code vertx}: for the read and for the node once it joined. */
  static Future<NodeStore> openStore(Vertx vertx, NodeConfig config, EmbeddedMongo embedded) {
    return NodeStore.open(vertx, config.mongoConnectionString(), config.mongoDatabase(), embedded, config.storeSync(),
        config.dataDir().resolve("log"), config.dataCacheMegabytes() * 1024L * 1024);
  }

  static Future<StoreRead> read(NodeConfig config, EmbeddedMongo embedded) {
    long startNs = System.nanoTime();
    Vertx reader = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(2)
        .setFileSystemOptions(new FileSystemOptions().setClassPathResolvingEnabled(false).setFileCachingEnabled(false)));
    // Context-less: it completes on the reader's loop before that loop is closed, and nothing waits on the close.
    Promise<StoreRead> done = Promise.promise();
    openStore(reader, config, embedded)
        .compose(store -> Future.all(store.loadState(), store.loadLog(config.logLimits()), store.nextIncarnation())
            .map(all -> new StoreRead(all.resultAt(0), all.resultAt(1), store.pageDirectory(), all.<Long>resultAt(2),
                (System.nanoTime() - startNs) / 1_000_000))
            .eventually(() -> {
              store.close();
              return Future.succeededFuture();
            }))
        .onComplete(outcome -> {
          done.handle(outcome);
          reader.close();
        });
    return done.future();
  }
}
