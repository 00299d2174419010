package dev.bully.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The protocol core, the driver and the apply rules that the node and the simulator share stay plain Java: no IO
 * frameworks, no clock, no unseeded randomness, no sleeping (the driver gets its clock and IO from
 * whoever runs it).
 */
class CorePurityTest {
  private static final Pattern FORBIDDEN = Pattern.compile(
      "import (io\\.vertx|com\\.mongodb|de\\.bwaldvogel|com\\.hazelcast|org\\.slf4j)|System\\.currentTimeMillis"
          + "|System\\.nanoTime|new Random\\(|Thread\\.sleep|Instant\\.now|LocalDateTime\\.now");

  @Test
  void coreAndDriverSourcesTouchNoIoClockOrRandomness() throws IOException {
    List<String> offenders;
    try (Stream<Path> files = Stream.of("core", "driver", "apply").flatMap(CorePurityTest::sources)) {
      offenders = files.filter(f -> f.toString().endsWith(".java")).filter(f -> {
        try {
          return FORBIDDEN.matcher(Files.readString(f)).find();
        } catch (IOException e) {
          throw new IllegalStateException(e);
        }
      }).map(Path::toString).toList();
    }
    assertEquals(List.of(), offenders);
  }

  private static Stream<Path> sources(String pkg) {
    try {
      return Files.walk(Path.of("src/main/java/dev/bully", pkg));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
