package dev.bully.cluster;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hazelcast.config.Config;
import io.vertx.core.Promise;
import io.vertx.core.spi.cluster.RegistrationInfo;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A consumer on a protocol address registers without the cluster manager's maps, which can make a
 * start wait for minutes on one member; every other address still goes through them.
 */
class RoutedClusterManagerTest {
  private static final RegistrationInfo MINE = new RegistrationInfo("vertx-node-1", 0, false);

  /** Not joined: any use of Hazelcast fails, so a registration that completes touched none of it. */
  private final RoutedClusterManager manager =
      new RoutedClusterManager(new Config(), "c", Map.of(1, "127.0.0.1:5701", 2, "127.0.0.1:5702"));

  @Test
  void aProtocolAddressRegistersAndUnregistersWithoutTheClusterManager() {
    Promise<Void> added = Promise.promise();
    manager.addRegistration("bully.c.node.1", MINE, added);
    assertTrue(added.future().succeeded(), "registered at once: " + added.future().cause());

    Promise<Void> removed = Promise.promise();
    manager.removeRegistration("bully.c.node.1", MINE, removed);
    assertTrue(removed.future().succeeded(), "unregistered at once: " + removed.future().cause());
  }

  @Test
  void anyOtherAddressStillGoesThroughTheClusterManager() {
    for (String address : new String[] {"cluster.status", "bully.other.node.1", "bully.c.node.1.x"}) {
      Promise<Void> added = Promise.promise();
      try {
        manager.addRegistration(address, MINE, added);
      } catch (RuntimeException notJoined) {
        continue; // Hazelcast's maps were asked for, as they must be
      }
      assertFalse(added.future().succeeded(), address + " must be registered in the cluster manager, which is not joined");
    }
  }
}
