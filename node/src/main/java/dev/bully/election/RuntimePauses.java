package dev.bully.election;

import com.sun.management.GarbageCollectionNotificationInfo;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.LongConsumer;
import javax.management.Notification;
import javax.management.NotificationEmitter;
import javax.management.openmbean.CompositeData;

/**
 * The collections that stopped this JVM, as its collectors report them, handed to the failure
 * detector, which learns from a pause of its own node that its coordinator may pause as long (see
 * the core's {@code FailureDetector}). Watched from the start of the process: the collections of a
 * JVM just started, while the cluster joins, are among the longest it makes, and happen before the
 * election runs, so the first listener is handed the longest pause it missed.
 *
 * <p>Only stop-the-world pauses count: a concurrent collector's cycle ({@code "end of GC cycle"})
 * runs beside the application. Listeners are called on the runtime's notification thread.
 */
public final class RuntimePauses {
  private static RuntimePauses watcher;

  private final List<LongConsumer> listeners = new CopyOnWriteArrayList<>();
  private long longestMissedMs;

  private RuntimePauses() {
  }

  /** The JVM's watcher, which starts watching on the first call. */
  public static synchronized RuntimePauses watch() {
    if (watcher == null) {
      watcher = new RuntimePauses();
      for (GarbageCollectorMXBean collector : ManagementFactory.getGarbageCollectorMXBeans()) {
        if (collector instanceof NotificationEmitter emitter) {
          emitter.addNotificationListener(watcher::collected,
              n -> GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(n.getType()), null);
        }
      }
    }
    return watcher;
  }

  /**
   * Hands {@code listener} each pause in milliseconds from now on, after the longest one no
   * listener heard; running the result stops it.
   */
  public synchronized Runnable listen(LongConsumer listener) {
    if (longestMissedMs > 0) {
      listener.accept(longestMissedMs);
      longestMissedMs = 0;
    }
    listeners.add(listener);
    return () -> listeners.remove(listener);
  }

  private void collected(Notification notification, Object handback) {
    GarbageCollectionNotificationInfo info = GarbageCollectionNotificationInfo.from((CompositeData) notification.getUserData());
    if (info.getGcAction().contains("cycle")) {
      return;
    }
    long pauseMs = info.getGcInfo().getDuration();
    synchronized (this) {
      if (listeners.isEmpty()) {
        longestMissedMs = Math.max(longestMissedMs, pauseMs);
        return;
      }
    }
    listeners.forEach(listener -> listener.accept(pauseMs));
  }
}
