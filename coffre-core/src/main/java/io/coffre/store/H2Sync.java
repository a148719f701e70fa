package io.coffre.store;

import javax.sql.DataSource;
import org.h2.mvstore.MVStore;

/**
 * Makes an H2 file database's commits survive a power loss, not only a killed process. H2 writes each commit to the
 * file before it returns ({@code WRITE_DELAY=0}) but leaves it in the operating system's cache; this forces the file
 * to the disk before the caller acknowledges anything. One fsync serves every commit that returned before it began
 * (group commit), and a call that follows no new commit (a read) costs none.
 */
final class H2Sync {
    /** The store's side: a version counter that every written commit advances, and the fsync. */
    interface Store {
        /** The version being written now: every commit that has returned is in a lower one. */
        long currentVersion();

        void sync();
    }

    private final Store store;
    /** Every version below this one is on the disk. */
    private long syncedBelow;
    private boolean syncing;

    H2Sync(Store store) {
        this.store = store;
    }

    static H2Sync of(DataSource dataSource) {
        return new H2Sync(new OpenStore(dataSource));
    }

    /** Returns once every commit that returned before this call is on the disk. */
    void awaitDurable() {
        long needed = store.currentVersion();
        boolean interrupted = false;
        try {
            synchronized (this) {
                while (syncedBelow < needed && syncing) {
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        interrupted = true; // the commit happened: its caller must not be told it failed
                    }
                }
                if (syncedBelow >= needed) {
                    return;
                }
                syncing = true;
            }
            long covers = store.currentVersion(); // read before the fsync, so everything below it is in the file
            boolean synced = false;
            try {
                store.sync();
                synced = true;
            } finally {
                synchronized (this) {
                    syncing = false;
                    if (synced) {
                        syncedBelow = Math.max(syncedBelow, covers);
                    }
                    notifyAll();
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * The store of the database open now: H2 reopens the database, with a new store, should the pool ever let it
     * close (its versions continue from the file's).
     */
    private static final class OpenStore implements Store {
        private final DataSource dataSource;
        private volatile MVStore store;

        OpenStore(DataSource dataSource) {
            this.dataSource = dataSource;
            this.store = H2Housekeeper.mvStore(dataSource);
        }

        @Override
        public long currentVersion() {
            return open().getCurrentVersion();
        }

        @Override
        public void sync() {
            open().sync();
        }

        private MVStore open() {
            MVStore current = store;
            if (current.isClosed()) {
                current = H2Housekeeper.mvStore(dataSource);
                store = current;
            }
            return current;
        }
    }
}
