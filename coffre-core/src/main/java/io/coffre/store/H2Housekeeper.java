package io.coffre.store;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.h2.engine.SessionLocal;
import org.h2.jdbc.JdbcConnection;
import org.h2.mvstore.FileStore;
import org.h2.mvstore.MVStore;
import org.h2.mvstore.db.Store;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reclaims the space of an H2 file database while it runs. H2 writes every commit as a new chunk, and
 * {@link MetadataStores#h2} makes it append every chunk at the end of the file (see there why), so dead chunks are
 * never overwritten and the file only grows (measured: 100,000 one-row commits left a 4 GB file holding 15 MB of
 * data). When the file is large and mostly dead, a round lets H2 reuse space for up to two bounded compactions — live
 * pages rewritten, chunks moved down into the holes, the tail cut off — while it holds the store lock, so no commit
 * lands in reused space; then appending resumes. Measured: 100,000 restore-point commits in 34 s kept the file under
 * 370 MB (3.1 GB with one pass of 200 ms a round), at the price of commits waiting up to ~0.7 s for a round.
 */
final class H2Housekeeper implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(H2Housekeeper.class);
    /** Files below this are left alone: compacting them would cost more than the space is worth. */
    static final long DEFAULT_RECLAIM_FROM_BYTES = 64L << 20;
    /** A file used below this share (in percent) by live data is compacted. */
    private static final int MIN_FILL_RATE = 50;
    /** Longest a compaction pass holds the store lock, so the commits waiting on it see a short pause. */
    private static final int MAX_COMPACT_MILLIS = 200;
    private static final int PASSES = 2;
    private static final long PERIOD_MILLIS = 1000;

    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "coffre-h2-housekeeper");
        t.setDaemon(true);
        return t;
    });

    private final DataSource dataSource;
    private final long reclaimFromBytes;

    private H2Housekeeper(DataSource dataSource, long reclaimFromBytes) {
        this.dataSource = dataSource;
        this.reclaimFromBytes = reclaimFromBytes;
    }

    static H2Housekeeper start(DataSource dataSource, long reclaimFromBytes) {
        H2Housekeeper housekeeper = new H2Housekeeper(dataSource, reclaimFromBytes);
        housekeeper.store(); // fails at once, not every second, if this is no H2 database
        housekeeper.scheduler.scheduleWithFixedDelay(housekeeper::round, PERIOD_MILLIS, PERIOD_MILLIS,
                TimeUnit.MILLISECONDS);
        return housekeeper;
    }

    private void round() {
        try {
            MVStore store = store();
            FileStore<?> file = store.getFileStore();
            if (store.isClosed() || !needsCompaction(file)) {
                return;
            }
            int retention = store.getRetentionTime();
            store.executeFilestoreOperation(() -> {
                file.setReuseSpace(true);
                try {
                    // A pass may only rewrite the live pages into new chunks (measured: under a burst of 4,000
                    // commits/s every other round left the file as large); the next moves them down, cuts the tail.
                    for (int pass = 0; pass < PASSES && needsCompaction(file); pass++) {
                        store.compactFile(MAX_COMPACT_MILLIS);
                    }
                } finally {
                    file.setReuseSpace(false);
                    store.setRetentionTime(retention); // compactFile drops it to 0 for good
                }
            });
        } catch (RuntimeException e) {
            LOG.warn("H2 compaction failed; the database file may grow until the next start", e);
        }
    }

    private boolean needsCompaction(FileStore<?> file) {
        return file.size() >= reclaimFromBytes
                && Math.min(file.getFillRate(), file.getChunksFillRate()) < MIN_FILL_RATE;
    }

    /** The store of the database open now, asked each round: H2 reopens it should the pool ever let it close. */
    private MVStore store() {
        return mvStore(dataSource);
    }

    /** The MVStore under an H2 file database's connections. */
    static MVStore mvStore(DataSource dataSource) {
        return databaseStore(dataSource).getMvStore();
    }

    /** H2's store (MVStore and transaction store) of the database under {@code dataSource}'s connections. */
    static Store databaseStore(DataSource dataSource) {
        try (Connection c = dataSource.getConnection()) {
            SessionLocal session = (SessionLocal) c.unwrap(JdbcConnection.class).getSession();
            return session.getDatabase().getStore();
        } catch (SQLException e) {
            throw new IllegalStateException("cannot reach the H2 store: " + e.getMessage(), e);
        }
    }

    /**
     * Waits for a running round (an interrupt in the middle of H2's file I/O would close the database file), then
     * runs a last one: H2's own compaction at close moves no chunk while space is not reused.
     */
    @Override
    public void close() {
        scheduler.shutdown();
        try {
            scheduler.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        round();
    }
}
