package dev.bully.tools.chaos;

import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/** The chaos run's command line: {@code bin/chaos.sh [--nodes N] [--duration S] ...}, checked before anything starts. */
record ChaosOptions(int nodes, int durationS, long seed, Set<String> faults, double rate, int clients, List<String> attach,
                    String token, Writer.Payload payload) {
  static ChaosOptions parse(String[] args) {
    int nodes = 5;
    int duration = 90;
    long seed = new SplittableRandom().nextLong(1, 1_000_000);
    Set<String> faults = Set.of("kill", "pause", "partition", "restart");
    double rate = 200;
    int clients = 8;
    List<String> attach = List.of();
    String token = System.getenv("BULLY_ADMIN_TOKEN");
    Writer.Payload payload = Writer.Payload.SMALL;
    for (int i = 0; i < args.length; i++) {
      String flag = args[i];
      if (flag.equals("--help") || flag.equals("-h")) {
        throw new Usage(null);
      }
      if (i + 1 >= args.length) {
        throw new Usage(flag + " needs a value");
      }
      String value = args[++i];
      try {
        switch (flag) {
          case "--nodes" -> nodes = Integer.parseInt(value);
          case "--duration" -> duration = Integer.parseInt(value);
          case "--seed" -> seed = Long.parseLong(value);
          case "--faults" -> faults = Set.of(value.split(","));
          case "--rate" -> rate = Double.parseDouble(value);
          case "--clients" -> clients = Integer.parseInt(value);
          case "--attach" -> attach = List.of(value.split(","));
          case "--token" -> token = value;
          case "--payload" -> payload = switch (value) {
            case "small" -> Writer.Payload.SMALL;
            case "mixed" -> Writer.Payload.MIXED;
            default -> throw new Usage("--payload is small or mixed, not '" + value + "'");
          };
          default -> throw new Usage("unknown flag " + flag);
        }
      } catch (NumberFormatException e) {
        throw new Usage(flag + " needs a number, not '" + value + "'");
      }
    }
    for (String fault : faults) {
      if (!Set.of("kill", "pause", "partition", "restart", "stepdown", "rolling").contains(fault)) {
        throw new Usage("unknown fault '" + fault + "' (kill, pause, partition, restart, stepdown, rolling)");
      }
    }
    if (faults.contains("rolling") && faults.size() > 1) {
      throw new Usage("--faults rolling runs alone: a rolling restart is maintenance, not a fault mix");
    }
    if (faults.contains("rolling") && !attach.isEmpty()) {
      throw new Usage("--faults rolling needs nodes this run starts (it stops them with SIGTERM); not --attach");
    }
    if (nodes < 3 || duration < 10 || clients < 1 || rate <= 0) {
      throw new Usage("need --nodes >= 3, --duration >= 10, --clients >= 1, --rate > 0");
    }
    if (!attach.isEmpty() && (token == null || token.isBlank())) {
      throw new Usage("--attach needs the cluster's admin token: --token TOKEN or BULLY_ADMIN_TOKEN");
    }
    return new ChaosOptions(attach.isEmpty() ? nodes : attach.size(), duration, seed, faults, rate, clients, attach, token, payload);
  }

  /** A command line that cannot run: the message says why (null: help was asked for). */
  static final class Usage extends RuntimeException {
    Usage(String message) {
      super(message);
    }
  }
}
