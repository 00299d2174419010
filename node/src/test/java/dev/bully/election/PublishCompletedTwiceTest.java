package dev.bully.election;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Vert.x's second completion of a publish's promise is told apart from every other failure. */
class PublishCompletedTwiceTest {
  @Test
  void theSecondCompletionByAPeersConnectionIsRecognised() {
    assertTrue(StatusReports.isPublishCompletedTwice(failure("Promise already completed",
        "io.vertx.core.Promise", "io.vertx.core.net.impl.VertxConnection$InternalMessageChannel")));
    assertTrue(StatusReports.isPublishCompletedTwice(failure("Promise already completed",
        "io.vertx.core.Promise", "io.vertx.core.eventbus.impl.clustered.OutboundConnection")));
  }

  @Test
  void anythingElseIsNot() {
    assertFalse(StatusReports.isPublishCompletedTwice(failure("Promise already completed",
        "io.vertx.core.Promise", "dev.bully.election.ElectionVerticle")), "a promise of the node's own, completed twice");
    assertFalse(StatusReports.isPublishCompletedTwice(failure("something else",
        "io.vertx.core.net.impl.VertxConnection")));
    assertFalse(StatusReports.isPublishCompletedTwice(new IllegalArgumentException("Promise already completed")));
  }

  private static IllegalStateException failure(String message, String... frames) {
    IllegalStateException failure = new IllegalStateException(message);
    StackTraceElement[] stack = new StackTraceElement[frames.length];
    for (int i = 0; i < frames.length; i++) {
      stack[i] = new StackTraceElement(frames[i], "run", null, -1);
    }
    failure.setStackTrace(stack);
    return failure;
  }
}
