package dev.bully.tools;

import dev.bully.store.EmbeddedMongo;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * {@code java -cp bully-node.jar dev.bully.tools.MongoWireServer --dir DIR [--host 127.0.0.1] [--port 27017]}:
 * the embedded store (mongo-java-server, H2 file {@code DIR/store.mv.db}) as a MongoDB-wire server
 * in its own process, for trying {@code mongo.connection_string} without a MongoDB installation
 * and for the tests of that mode. It commits its file every {@value #COMMIT_MS} ms and on SIGTERM;
 * it ignores write concerns, so it is not a durable database: use a real MongoDB in production.
 */
public final class MongoWireServer {
  private static final long COMMIT_MS = 100;

  private MongoWireServer() {
  }

  public static void main(String[] args) throws InterruptedException {
    String host = "127.0.0.1";
    int port = 27017;
    Path dir = null;
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--host" -> host = args[i + 1];
        case "--port" -> port = Integer.parseInt(args[i + 1]);
        case "--dir" -> dir = Path.of(args[i + 1]);
        default -> usage("unknown flag " + args[i]);
      }
    }
    if (dir == null || args.length % 2 != 0) {
      usage("--dir is required, and every flag takes a value");
    }
    EmbeddedMongo server = EmbeddedMongo.start(dir, host, port);
    CountDownLatch stopping = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      stopping.countDown();
      synchronized (server) {
        server.close();
      }
    }, "mongo-wire-stop"));
    System.out.println("MongoDB-wire server serving " + dir.resolve("store.mv.db") + " at " + server.connectionString());
    while (!stopping.await(COMMIT_MS, TimeUnit.MILLISECONDS)) {
      synchronized (server) {
        if (stopping.getCount() > 0) {
          server.commit();
        }
      }
    }
  }

  private static void usage(String problem) {
    System.err.println("MongoWireServer: " + problem);
    System.err.println("usage: java -cp bully-node.jar dev.bully.tools.MongoWireServer --dir DIR [--host 127.0.0.1] [--port 27017]");
    System.exit(2);
  }
}
