package io.coffre.cli;

import java.io.PrintWriter;
import java.util.concurrent.atomic.AtomicLong;

/** A one-line progress bar on standard error, redrawn at most once per percent. */
final class Progress {
    private static final int WIDTH = 40;
    private static final double MIB = 1024.0 * 1024.0;

    private final PrintWriter err;
    private final String label;
    private final AtomicLong done = new AtomicLong();
    private long total;
    private int shownPercent = -1;

    Progress(PrintWriter err, String label) {
        this.err = err;
        this.label = label;
    }

    void start(long totalBytes) {
        total = totalBytes;
        done.set(0);
        draw(0);
    }

    void advance(long bytes) {
        draw(done.addAndGet(bytes));
    }

    void finish() {
        draw(total);
        err.println();
        err.flush();
    }

    private synchronized void draw(long bytes) {
        int percent = total == 0 ? 100 : (int) (bytes * 100 / total);
        if (percent == shownPercent) {
            return;
        }
        shownPercent = percent;
        int filled = percent * WIDTH / 100;
        err.printf("\r%s [%s%s] %3d%% %.1f/%.1f MiB", label, "#".repeat(filled), " ".repeat(WIDTH - filled), percent,
                bytes / MIB, total / MIB);
        err.flush();
    }
}
