package dev.bully.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import ch.qos.logback.core.spi.FilterReply;
import java.net.ConnectException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** A peer that cannot be reached is a line now and then, not sixty lines of stack a second. */
class PeerConnectionWarningsTest {
  private final LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
  private final Logger eventBus = context.getLogger("io.vertx.core.eventbus.impl.clustered.ClusteredEventBus");
  private final Logger written = context.getLogger("EventBus");
  private final ListAppender<ILoggingEvent> lines = new ListAppender<>();
  private final PeerConnectionWarnings filter = new PeerConnectionWarnings();

  PeerConnectionWarningsTest() {
    lines.start();
    written.addAppender(lines);
  }

  @AfterEach
  void detach() {
    written.detachAppender(lines);
  }

  @Test
  void theFirstFailureToReachAPeerIsOneLineAndTheRepeatsAreHeldBack() {
    ConnectException refused = new ConnectException("Connection refused");
    for (int attempt = 0; attempt < 40; attempt++) {
      assertEquals(FilterReply.DENY, filter.decide(null, eventBus, Level.WARN, "Connecting to server peer-a failed", null, refused));
    }
    assertEquals(FilterReply.DENY, filter.decide(null, eventBus, Level.WARN, "Connecting to server peer-b failed", null, refused));

    assertEquals(2, lines.list.size(), lines.list.toString());
    ILoggingEvent first = lines.list.get(0);
    assertEquals(Level.WARN, first.getLevel());
    assertEquals("Connecting to server peer-a failed: java.net.ConnectException: Connection refused", first.getFormattedMessage());
    assertEquals(null, first.getThrowableProxy(), "no stack");
    assertTrue(lines.list.get(1).getFormattedMessage().startsWith("Connecting to server peer-b failed"));
  }

  @Test
  void otherWarningsPassAsTheyAre() {
    assertEquals(FilterReply.NEUTRAL, filter.decide(null, eventBus, Level.WARN, "Something else", null, null));
    assertEquals(FilterReply.NEUTRAL,
        filter.decide(null, context.getLogger("dev.bully.Other"), Level.WARN, "Connecting to server x failed", null, null));
    assertEquals(FilterReply.NEUTRAL, filter.decide(null, eventBus, Level.ERROR, "Connecting to server x failed", null, null));
    assertEquals(0, lines.list.size());
  }
}
