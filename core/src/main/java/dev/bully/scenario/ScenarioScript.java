package dev.bully.scenario;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

/**
 * A scenario as data, one file per case in {@code scenarios/} (as etcd-io/raft's
 * {@code testdata/*.txt}): what it is about, the steps, and below a {@code ----} line the protocol
 * transcript the simulator must produce from the first step on, exactly. The simulator runs the
 * steps on simulated nodes and checks the transcript (and rewrites it with
 * {@code -Dscenarios.rewrite=true}); {@code bin/scenario.sh} runs the same steps on real node
 * processes and checks the outcomes the {@code expect} steps name.
 *
 * <pre>
 * # a comment
 * description: Best case: coordinator 5 is killed; node 4 notices first and becomes coordinator.
 * seed: 1                        the simulator's seed
 * set failureTimeoutMs 1000      for real processes only (their configuration)
 * kill 5                         the steps, one per line (see {@link Verb})
 * expect coordinator 4 newer-term
 * ----
 * Node 4 suspects coordinator 5 (no heartbeat for 200 ms)
 * ...
 * </pre>
 */
public record ScenarioScript(String name, String description, long seed, List<Setting> settings, List<Step> steps,
                             List<String> transcript) {
  /** The line that separates the steps from the expected transcript. */
  public static final String TRANSCRIPT_MARK = "----";

  /** What a step does; its arguments follow it on the line. */
  public enum Verb {
    /** {@code kill N}: kill -9 (the simulator: a crash, losing what was in flight). */
    KILL,
    /** {@code pause N} / {@code resume N}: SIGSTOP and SIGCONT (the simulator: nothing runs meanwhile). */
    PAUSE, RESUME,
    /** {@code restart N}: a killed node starts again on its data. */
    RESTART,
    /** {@code start-election N...}: these nodes start an election at the same moment, as if they had noticed a failure. */
    START_ELECTION,
    /** {@code die-during-announcement N}: node N dies once its first announcement of a new term reached one peer. */
    DIE_DURING_ANNOUNCEMENT,
    /** {@code die-during-election N}: node N dies on the first election message (ELECTION or claim) it receives. */
    DIE_DURING_ELECTION,
    /** {@code wait MS}. */
    WAIT,
    /**
     * {@code expect coordinator N [newer-term|same-term]}: every running node agrees on N, within the
     * scenario's timeout; its term is higher than, or equal to, the term of the previous expected
     * coordinator (or the first one's). {@code expect stays N MS}: N stays the agreed coordinator for
     * MS. {@code expect not-coordinator N}; {@code expect follows N M}; {@code expect said TEXT}: a
     * protocol line containing TEXT is logged, within the timeout.
     */
    EXPECT;

    static Verb of(String word) {
      return valueOf(word.toUpperCase().replace('-', '_'));
    }

    public String word() {
      return name().toLowerCase().replace('_', '-');
    }
  }

  /** One step: its verb, its arguments, and its line in the file (for messages). */
  public record Step(Verb verb, List<String> args, int line) {
    public int node(int at) {
      return Integer.parseInt(args.get(at));
    }

    /** The arguments from {@code from} on, joined by spaces (the text of {@code expect said}). */
    public String rest(int from) {
      return String.join(" ", args.subList(from, args.size()));
    }

    @Override
    public String toString() {
      return verb.word() + (args.isEmpty() ? "" : " " + String.join(" ", args));
    }
  }

  /** A configuration key set on every real node ({@code set KEY VALUE}); the simulator's timings are its own. */
  public record Setting(String key, String value) {
  }

  /** The folder of the scenario files: {@code scenarios/} here or in the parent folder (a module's). */
  public static Path directory() {
    Path here = Path.of("scenarios");
    return Files.isDirectory(here) ? here : Path.of("..", "scenarios");
  }

  /** Every scenario, in the order of their names. */
  public static List<ScenarioScript> all() {
    try (Stream<Path> files = Files.list(directory())) {
      return files.filter(f -> f.toString().endsWith(".txt")).sorted().map(ScenarioScript::read).toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list the scenarios in " + directory().toAbsolutePath(), e);
    }
  }

  public static ScenarioScript named(String name) {
    return read(directory().resolve(name + ".txt"));
  }

  public static ScenarioScript read(Path file) {
    String name = file.getFileName().toString().replaceFirst("\\.txt$", "");
    List<String> lines;
    try {
      lines = Files.readAllLines(file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read scenario " + file, e);
    }
    String description = "";
    long seed = 1;
    List<Setting> settings = new ArrayList<>();
    List<Step> steps = new ArrayList<>();
    int at = 0;
    for (; at < lines.size() && !lines.get(at).equals(TRANSCRIPT_MARK); at++) {
      String line = lines.get(at).strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      try {
        if (line.startsWith("description:")) {
          description = line.substring("description:".length()).strip();
        } else if (line.startsWith("seed:")) {
          seed = Long.parseLong(line.substring("seed:".length()).strip());
        } else {
          List<String> words = Arrays.asList(line.split("\\s+"));
          if (words.get(0).equals("set")) {
            settings.add(new Setting(words.get(1), words.get(2)));
          } else {
            steps.add(new Step(Verb.of(words.get(0)), List.copyOf(words.subList(1, words.size())), at + 1));
          }
        }
      } catch (RuntimeException e) {
        throw new IllegalArgumentException(file + " line " + (at + 1) + ": cannot read '" + line + "' (" + e + ")", e);
      }
    }
    List<String> transcript = at < lines.size() ? List.copyOf(lines.subList(at + 1, lines.size())) : List.of();
    return new ScenarioScript(name, description, seed, List.copyOf(settings), List.copyOf(steps), transcript);
  }

  /** The file's text with {@code newTranscript} below the mark instead of the one it had. */
  public String withTranscript(Path file, List<String> newTranscript) {
    try {
      List<String> lines = Files.readAllLines(file);
      int mark = lines.indexOf(TRANSCRIPT_MARK);
      List<String> head = new ArrayList<>(mark < 0 ? lines : lines.subList(0, mark));
      head.add(TRANSCRIPT_MARK);
      head.addAll(newTranscript);
      return String.join("\n", head) + "\n";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
