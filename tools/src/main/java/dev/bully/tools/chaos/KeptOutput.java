package dev.bully.tools.chaos;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** What a run prints, written to standard output as it comes and kept, for the lines to be read afterwards. */
public final class KeptOutput {
  private final ByteArrayOutputStream kept = new ByteArrayOutputStream();
  private final PrintStream stream = new PrintStream(new OutputStream() {
    @Override
    public void write(int b) {
      kept.write(b);
      System.out.write(b);
    }
  }, true, StandardCharsets.UTF_8);

  /** Where the run prints. */
  public PrintStream stream() {
    return stream;
  }

  /** Everything printed so far. */
  public String text() {
    return kept.toString(StandardCharsets.UTF_8);
  }
}
