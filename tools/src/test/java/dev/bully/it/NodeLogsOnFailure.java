package dev.bully.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterTestExecutionCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.io.TempDir;

/**
 * When an integration test fails, the node logs in its temporary folder would be deleted with it:
 * this keeps them under {@code target/it-logs/<test class>/<method>/} and prints the end of each,
 * so that a failure on a clean clone (CI) can be read afterwards. It runs after the test method and
 * before the folder is removed.
 */
public final class NodeLogsOnFailure implements AfterTestExecutionCallback {
  private static final int TAIL_LINES = 60;

  @Override
  public void afterTestExecution(ExtensionContext context) throws Exception {
    if (context.getExecutionException().isEmpty() || context.getTestInstance().isEmpty()) {
      return;
    }
    Path keep = Paths.get("target", "it-logs", context.getRequiredTestClass().getSimpleName(), context.getRequiredTestMethod().getName());
    for (Path dir : tempDirs(context.getTestInstance().get())) {
      try (Stream<Path> files = Files.walk(dir)) {
        for (Path log : files.filter(path -> path.getFileName().toString().endsWith(".log")).toList()) {
          Files.createDirectories(keep);
          Path copy = keep.resolve(log.getFileName());
          Files.copy(log, copy, StandardCopyOption.REPLACE_EXISTING);
          List<String> lines = Files.readAllLines(copy);
          System.out.println("---- last " + TAIL_LINES + " lines of " + log.getFileName() + " (whole log kept in " + copy + ") ----");
          lines.subList(Math.max(0, lines.size() - TAIL_LINES), lines.size()).forEach(System.out::println);
        }
      } catch (IOException | UncheckedIOException e) {
        System.out.println("could not keep the node logs of " + dir + ": " + e);
      }
    }
  }

  private static List<Path> tempDirs(Object test) throws IllegalAccessException {
    List<Path> dirs = new java.util.ArrayList<>();
    for (Class<?> type = test.getClass(); type != null; type = type.getSuperclass()) {
      for (Field field : type.getDeclaredFields()) {
        if (field.isAnnotationPresent(TempDir.class) && Path.class.equals(field.getType())) {
          field.setAccessible(true);
          Object value = field.get(test);
          if (value != null) {
            dirs.add((Path) value);
          }
        }
      }
    }
    return dirs;
  }
}
