package io.coffre.store;

import java.nio.file.Path;
import java.time.Duration;

/** Opens the metadata store named by the configuration; the only place that knows the implementations. */
public final class MetadataStores {
    private MetadataStores() {
    }

    /**
     * PostgreSQL behaviour where H2 differs by default. H2 gives up on a row lock after 1 s, PostgreSQL waits;
     * serialized writers (the audit head, counters under SELECT ... FOR UPDATE) must queue, not fail.
     */
    private static final String H2_OPTIONS = ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH"
            + ";LOCK_TIMEOUT=30000";

    /**
     * The embedded default: an H2 file database under {@code dir}, in PostgreSQL compatibility mode. WRITE_DELAY=0
     * writes each commit to the file before the commit returns: by default H2 writes them up to a second later, so a
     * killed process lost commits it had acknowledged (and blob deletes that followed them were not undone).
     * REUSE_SPACE=FALSE appends every commit's chunk at the end of the file, where recovery finds the newest one. In
     * reused space H2 (2.5.252) records a chunk written away from its predicted place in the file header only as the
     * chunk before it, so after a kill it went back to that one and lost the acknowledged commits written since
     * ({@code H2MetadataKillTest} fails with reuse on). {@link H2Housekeeper} gets the space back while holding the
     * store lock (2.3.232 and 2.4.240 fail an assertion of their own in that compaction). {@link H2LeftoverCommits}
     * finishes, at the open, the commits a killed process left half-applied. {@link H2Sync} then forces the file to
     * the disk before a unit of work returns, so an acknowledged commit survives a power loss too.
     */
    public static MetadataStore h2(Path dir) {
        return h2(dir, H2Housekeeper.DEFAULT_RECLAIM_FROM_BYTES);
    }

    /** {@link #h2(Path)} whose housekeeper compacts the file once it reaches {@code reclaimFromBytes} (tests). */
    static MetadataStore h2(Path dir, long reclaimFromBytes) {
        String url = "jdbc:h2:file:" + dir.toAbsolutePath().resolve("coffre") + H2_OPTIONS
                + ";WRITE_DELAY=0;REUSE_SPACE=FALSE";
        return new JdbcMetadataStore(url, "sa", "", 8, null,
                dataSource -> {
                    H2LeftoverCommits.finish(dataSource);
                    return H2Housekeeper.start(dataSource, reclaimFromBytes);
                },
                dataSource -> H2Sync.of(dataSource)::awaitDurable);
    }

    /** An H2 database held in memory until {@link MetadataStore#close} drops it (tests); names must be unique. */
    public static MetadataStore h2InMemory(String name) {
        // DB_CLOSE_DELAY keeps it alive while the pool recycles connections; SHUTDOWN on close frees it
        String url = "jdbc:h2:mem:" + name + H2_OPTIONS + ";DB_CLOSE_DELAY=-1";
        return new JdbcMetadataStore(url, "sa", "", 8, "SHUTDOWN", null, null);
    }

    /**
     * A database server to keep the metadata in instead of the embedded H2 (PostgreSQL for scale-out).
     *
     * @param standby when another node is active on the database, wait for it to stop instead of failing
     */
    public record Database(String url, String user, String password, boolean standby) {
        public Database(String url, String user, String password) {
            this(url, user, password, false);
        }

        @Override
        public String toString() {
            return "Database[" + url + " as " + user + (standby ? ", standby" : "") + "]"; // never the password
        }
    }

    /** How often an active node checks that it still holds its database's node lock. */
    private static final Duration NODE_LOCK_CHECK = Duration.ofSeconds(5);

    /**
     * The metadata of a node in PostgreSQL: one active node per database ({@link NodeLock}, taken before the schema
     * is migrated, so a newer node cannot change it under an active older one; released when the store closes).
     * Losing the lock stops the process.
     *
     * @throws IllegalStateException when another node is active and {@link Database#standby} is false
     */
    public static MetadataStore server(Database database) {
        return server(database, NODE_LOCK_CHECK, NodeLock::halt);
    }

    static MetadataStore server(Database database, Duration checkEvery, Runnable onLockLost) {
        NodeLock lock = NodeLock.acquire(database, database.standby(), checkEvery, onLockLost);
        try {
            return new JdbcMetadataStore(database.url(), database.user(), database.password(), 16, null,
                    dataSource -> lock, null);
        } catch (RuntimeException e) {
            lock.close();
            throw e;
        }
    }

    /** Any JDBC URL the driver set understands, without the node lock: several stores on one database (tests). */
    static MetadataStore jdbc(String url, String user, String password) {
        return new JdbcMetadataStore(url, user, password, 16);
    }
}
