package dev.bully.tools;

import dev.bully.store.EmbeddedMongo;
import dev.bully.store.StoreSync;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code java -cp node/target/bully-node.jar:tools/target/bully-tools.jar dev.bully.tools.MongoWireServer --dir DIR [--host 127.0.0.1] [--port 27017]}:
 * the embedded store (mongo-java-server, H2 file {@code DIR/store.mv.db}) as a MongoDB-wire server
 * in its own process, for trying {@code mongo.connection_string} without a MongoDB installation
 * and for the tests of that mode. It commits its file every {@value #COMMIT_MS} ms and on SIGTERM;
 * it ignores write concerns, so it is not a durable database: use a real MongoDB in production.
 */
@Command(name = "MongoWireServer", mixinStandardHelpOptions = true,
    description = "The embedded store as a MongoDB-wire server in its own process (not durable: for trying and tests).")
public final class MongoWireServer implements Callable<Integer> {
  private static final long COMMIT_MS = 100;

  private MongoWireServer() {
  }

  @Option(names = "--dir", required = true, paramLabel = "DIR", description = "the folder of the store's file")
  private Path dir;

  @Option(names = "--host", defaultValue = "127.0.0.1", description = "the address to listen on (default: ${DEFAULT-VALUE})")
  private String host;

  @Option(names = "--port", defaultValue = "27017", description = "the port to listen on (default: ${DEFAULT-VALUE})")
  private int port;

  public static void main(String[] args) {
    System.exit(new CommandLine(new MongoWireServer()).execute(args));
  }

  @Override
  public Integer call() throws InterruptedException {
    EmbeddedMongo server = EmbeddedMongo.start(dir, host, port, StoreSync.FSYNC);
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
    return 0;
  }
}
