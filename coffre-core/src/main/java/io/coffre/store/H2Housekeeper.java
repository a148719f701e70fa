package io.coffre.store;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.h2.engine.SessionLocal;
import org.h2.jdbc.JdbcConnection;
import org.h2.mvstore.MVStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reclaims the space of an H2 file database while it runs. H2 writes every commit as a new chunk and does its own
 * compaction (rewriting the few live pages of mostly dead chunks, so the chunks can be dropped) in the background
 * writer thread, which WRITE_DELAY=0 stops: without this the file only grows until it is closed (measured: 100,000
 * one-row commits left a 4 GB file holding 15 MB of data). With it the file levels off: H2 reuses space only after
 * its RETENTION_TIME (45 s, its guard against an OS crash losing unsynced writes), so it holds about that long's
 * worth of commits (measured at 400 one-row commits/s: after 100 s the file grew 1 MB/s, against 6.5 MB/s without).
 */
final class H2Housekeeper implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(H2Housekeeper.class);
    /** Chunks filled below this share of live data are rewritten: H2's own default (autoCompactFillRate). */
    private static final int TARGET_FILL_RATE = 90;
    /** Bytes rewritten at most per round, so a round stays short next to the commits it runs between. */
    private static final int WRITE_LIMIT = 16 << 20;
    private static final long PERIOD_MILLIS = 1000;

    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "coffre-h2-housekeeper");
        t.setDaemon(true);
        return t;
    });

    private final DataSource dataSource;

    private H2Housekeeper(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    static H2Housekeeper start(DataSource dataSource) {
        H2Housekeeper housekeeper = new H2Housekeeper(dataSource);
        housekeeper.store(); // fails at once, not every second, if this is no H2 database
        housekeeper.scheduler.scheduleWithFixedDelay(housekeeper::round, PERIOD_MILLIS, PERIOD_MILLIS,
                TimeUnit.MILLISECONDS);
        return housekeeper;
    }

    private void round() {
        try {
            MVStore store = store();
            if (!store.isClosed()) {
                store.compact(TARGET_FILL_RATE, WRITE_LIMIT);
            }
        } catch (RuntimeException e) {
            LOG.warn("H2 compaction failed; the database file may grow until the next start", e);
        }
    }

    /** The store of the database open now, asked each round: H2 reopens it should the pool ever let it close. */
    private MVStore store() {
        try (Connection c = dataSource.getConnection()) {
            SessionLocal session = (SessionLocal) c.unwrap(JdbcConnection.class).getSession();
            return session.getDatabase().getStore().getMvStore();
        } catch (SQLException e) {
            throw new IllegalStateException("cannot reach the H2 store to keep its file compact: " + e.getMessage(),
                    e);
        }
    }

    /** Waits for a running round: an interrupt in the middle of H2's file I/O would close the database file. */
    @Override
    public void close() {
        scheduler.shutdown();
        try {
            scheduler.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
