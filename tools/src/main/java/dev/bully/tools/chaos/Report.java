package dev.bully.tools.chaos;

import dev.bully.tools.chaos.ChaosRun.Sample;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The chaos run's report: {@code report.html} (the summary, violations, a timeline of each node's
 * role and term with the faults marked, and writes acknowledged per second) and {@code history.json}
 * (what the checker read).
 */
final class Report {
  private static final int WIDTH = 1000;
  private static final int ROW = 28;

  private Report() {
  }

  static void write(Path dir, ChaosOptions options, History history, Checker.Result result,
                    Map<Integer, List<Sample>> samples) throws IOException {
    Files.writeString(dir.resolve("history.json"), json(history).encodePrettily());
    long endMs = Math.max(1, history.requests().stream().mapToLong(History.Request::endMs).max().orElse(1));
    StringBuilder html = new StringBuilder();
    html.append("<!doctype html><html lang=en><meta charset=utf-8><meta name=viewport content='width=device-width'>")
        .append("<title>chaos run, seed ").append(options.seed()).append("</title><style>")
        .append("body{font-family:system-ui,sans-serif;background:#0f1419;color:#e6e9ed;margin:1rem}")
        .append("code,li{font-family:ui-monospace,monospace;font-size:.85rem}.ok{color:#6fcf97}.bad{color:#e0565b}")
        .append("svg{background:#1a212b;width:100%;height:auto}text{fill:#8b96a3;font-size:11px}</style>");
    html.append("<h1>Chaos run <small>seed ").append(options.seed()).append(", ").append(options.nodes()).append(" nodes, ")
        .append(options.durationS()).append(" s</small></h1>");
    html.append("<p class=").append(result.passed() ? "ok" : "bad").append("><code>").append(escape(result.summary()))
        .append("</code> — ").append(result.passed() ? "every check passed" : "FAILED").append("</p>");
    if (!result.passed()) {
      html.append("<h2>Violations</h2><ol>");
      result.violations().forEach(v -> html.append("<li>").append(escape(v)).append("</li>"));
      html.append("</ol>");
    }
    html.append("<h2>Roles and terms</h2>").append(timeline(samples, history.faults(), endMs));
    html.append("<p><small>amber: coordinator, blue: follower, violet: candidate, red: down or unreachable; the label is the term."
        + " Dashed lines: faults.</small></p>");
    html.append("<h2>Writes acknowledged per second</h2>").append(writesChart(history.requests(), endMs));
    html.append("<h2>Faults</h2><ol>");
    history.faults().forEach(f -> html.append("<li>").append(String.format("%.1f s  ", f.atMs() / 1000.0))
        .append(escape(f.description())).append("</li>"));
    html.append("</ol></html>");
    Files.writeString(dir.resolve("report.html"), html);
  }

  /** The history as JSON, field by field (records have no JSON binding without Jackson's databind). */
  static JsonObject json(History history) {
    JsonArray requests = new JsonArray();
    history.requests().forEach(r -> requests.add(new JsonObject().put("key", r.key()).put("startMs", r.startMs())
        .put("endMs", r.endMs()).put("index", r.index()).put("term", r.term())));
    JsonArray faults = new JsonArray();
    history.faults().forEach(f -> faults.add(new JsonObject().put("atMs", f.atMs()).put("fault", f.description())));
    JsonArray coordinators = new JsonArray();
    history.coordinators().forEach(c -> coordinators.add(new JsonObject().put("node", c.node()).put("term", c.term())));
    JsonObject terms = new JsonObject();
    history.terms().forEach((node, samples) -> {
      JsonArray list = new JsonArray();
      synchronized (samples) {
        samples.forEach(t -> list.add(new JsonArray().add(t.atMs()).add(t.term())));
      }
      terms.put(String.valueOf(node), list);
    });
    return new JsonObject().put("requests", requests).put("committed", entries(history.committed()))
        .put("rolledBack", entries(history.rolledBack())).put("coordinators", coordinators).put("terms", terms)
        .put("faults", faults);
  }

  private static JsonObject entries(Map<Integer, List<History.Entry>> logs) {
    JsonObject json = new JsonObject();
    logs.forEach((node, log) -> {
      JsonArray list = new JsonArray();
      log.forEach(e -> list.add(new JsonObject().put("index", e.index()).put("term", e.term()).put("key", e.key())));
      json.put(String.valueOf(node), list);
    });
    return json;
  }

  private static String timeline(Map<Integer, List<Sample>> samples, List<History.Fault> faults, long endMs) {
    Map<Integer, List<Sample>> sorted = new TreeMap<>(samples);
    int height = sorted.size() * ROW + 20;
    StringBuilder svg = new StringBuilder("<svg viewBox='0 0 " + (WIDTH + 60) + " " + height + "'>");
    int row = 0;
    for (var node : sorted.entrySet()) {
      int y = row++ * ROW + 4;
      svg.append("<text x=2 y=").append(y + 16).append(">node ").append(node.getKey()).append("</text>");
      List<Sample> list = node.getValue();
      synchronized (list) {
        for (int i = 0; i < list.size(); i++) {
          Sample s = list.get(i);
          long next = i + 1 < list.size() ? list.get(i + 1).atMs() : endMs;
          double x = 60 + s.atMs() * (double) WIDTH / endMs;
          double w = Math.max(0.5, (next - s.atMs()) * (double) WIDTH / endMs);
          svg.append(String.format("<rect x='%.1f' y='%d' width='%.1f' height='%d' fill='%s'/>", x, y, w, ROW - 8, color(s.role())));
          boolean termChanged = i == 0 || list.get(i - 1).term() != s.term();
          if (termChanged && !"DOWN".equals(s.role())) {
            svg.append(String.format("<text x='%.1f' y='%d' style='fill:#000'>%d</text>", x + 2, y + 14, s.term()));
          }
        }
      }
    }
    for (History.Fault fault : faults) {
      double x = 60 + fault.atMs() * (double) WIDTH / endMs;
      svg.append(String.format("<line x1='%.1f' x2='%.1f' y1='0' y2='%d' stroke='#e6e9ed' stroke-dasharray='3,3' opacity='.5'>"
          + "<title>%s</title></line>", x, x, height - 20, escape(fault.description())));
    }
    svg.append("<text x=60 y=").append(height - 4).append(">0 s</text><text x=").append(WIDTH).append(" y=").append(height - 4)
        .append(">").append(endMs / 1000).append(" s</text></svg>");
    return svg.toString();
  }

  private static String writesChart(List<History.Request> requests, long endMs) {
    int seconds = (int) (endMs / 1000) + 1;
    int[] perSecond = new int[seconds];
    requests.stream().filter(History.Request::acknowledged).forEach(r -> perSecond[(int) Math.min(seconds - 1, r.endMs() / 1000)]++);
    int peak = 1;
    for (int v : perSecond) {
      peak = Math.max(peak, v);
    }
    StringBuilder svg = new StringBuilder("<svg viewBox='0 0 " + (WIDTH + 60) + " 140'>");
    double w = (double) WIDTH / seconds;
    for (int s = 0; s < seconds; s++) {
      double h = perSecond[s] * 110.0 / peak;
      svg.append(String.format("<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='#6fcf97'/>", 60 + s * w, 120 - h,
          Math.max(0.5, w - 1), h));
    }
    svg.append("<text x=2 y=14>").append(peak).append("/s</text><text x=2 y=120>0</text></svg>");
    return svg.toString();
  }

  private static String color(String role) {
    return switch (role) {
      case "COORDINATOR" -> "#f5b942";
      case "FOLLOWER" -> "#4fa3e0";
      case "CANDIDATE" -> "#b283f0";
      default -> "#e0565b";
    };
  }

  private static String escape(String text) {
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("'", "&#39;");
  }
}
