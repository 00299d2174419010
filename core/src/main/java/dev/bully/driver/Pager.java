package dev.bully.driver;

import dev.bully.core.LogEntry;
import dev.bully.core.LogView;
import java.util.List;
import java.util.function.Supplier;

/**
 * Writes committed entries into the store's pages, one page at a time, off the path of client
 * writes; once a page is durable the replica lets its entries leave memory. A page write that fails
 * has failed for good (its entries are still in memory and in the log): the node stops.
 */
final class Pager {
  private final Supplier<LogView> log;
  private final Storage storage;
  private final int pageEntries;
  private final Host host;
  /** A page is durable: writes held back while paging was behind may go on. */
  private final Runnable paged;
  private boolean paging;
  private boolean stopped;

  Pager(Supplier<LogView> log, Storage storage, int pageEntries, Host host, Runnable paged) {
    this.log = log;
    this.storage = storage;
    this.pageEntries = pageEntries;
    this.host = host;
    this.paged = paged;
  }

  void pageIfDue() {
    if (paging || stopped) {
      return;
    }
    List<LogEntry> page = log.get().entriesToPage(pageEntries);
    if (page.isEmpty()) {
      return;
    }
    paging = true;
    long first = page.get(0).index();
    long last = page.get(page.size() - 1).index();
    storage.writePage(page, (ignored, failure) -> {
      paging = false;
      if (failure != null) {
        host.failStop("its store refused to write entries " + first + ".." + last + " into a page", failure);
        return;
      }
      log.get().paged(last);
      paged.run();
      pageIfDue();
    });
  }

  /** No more pages: the node is stopping and closing its store. */
  void stop() {
    stopped = true;
  }
}
