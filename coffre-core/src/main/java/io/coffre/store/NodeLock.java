package io.coffre.store;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One active Coffre node per PostgreSQL database: a session-level advisory lock (scoped to the database, so
 * deployments sharing a server do not meet), held on a connection of its own for as long as the node runs. Nodes
 * cache what a disk holds and resume the operations a crash interrupted, so two active at once would serve stale
 * blocks and run the same work twice; until the work is split between nodes, the others wait. PostgreSQL frees the
 * lock when the holding session ends, however the node ends: at once for a killed process, whose socket closes;
 * within about 30 s for a vanished host, through the keepalives set on the session. No lease is home-made.
 *
 * <p>A node that finds the lock held fails to start, naming the holder, or as a standby waits and then takes over
 * (resuming what the other left in progress). A watchdog checks the session every few seconds; once it is gone
 * another node may already be active, so the node must stop at once rather than keep writing.
 */
final class NodeLock implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NodeLock.class);
    /** "Coff"; one bigint advisory lock key, so classid 0 and objid this in pg_locks. */
    private static final long KEY = 0x436f6666L;
    private static final Duration STANDBY_RETRY = Duration.ofSeconds(1);
    private static final Duration FREED_RETRY = Duration.ofMillis(50);

    private final Connection session;
    private final ScheduledExecutorService watchdog;
    /** Set once the node lets go on purpose: a check failing after that is no loss. */
    private volatile boolean closing;

    private NodeLock(Connection session, Duration checkEvery, Runnable onLost) {
        this.session = session;
        this.watchdog = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "coffre-node-lock");
            t.setDaemon(true);
            return t;
        });
        long millis = checkEvery.toMillis();
        watchdog.scheduleWithFixedDelay(() -> {
            if (!alive() && !closing) {
                watchdog.shutdown();
                onLost.run();
            }
        }, millis, millis, TimeUnit.MILLISECONDS);
    }

    /**
     * Takes the database's node lock.
     *
     * @param standby wait for the holder to stop instead of failing
     * @param onLost  what to do when the lock's session is gone (stop the node)
     * @throws IllegalStateException when another node holds it and {@code standby} is false
     */
    static NodeLock acquire(MetadataStores.Database database, boolean standby, Duration checkEvery, Runnable onLost) {
        Connection session = connect(database);
        try {
            boolean waiting = false;
            while (!tryLock(session)) {
                Optional<String> held = holder(session);
                if (held.isEmpty()) {
                    Thread.sleep(FREED_RETRY.toMillis()); // freed between the two queries: try again, not in a spin
                    continue;
                }
                String holder = held.get();
                if (!standby) {
                    throw new IllegalStateException("Another Coffre node (" + holder + ") is active on "
                            + database.url() + "; Coffre runs one active node per database. Stop that node, or start"
                            + " this one as a standby (coffre server --standby) to take over when it stops.");
                }
                if (!waiting) {
                    LOG.info("standing by: another Coffre node ({}) is active on {}; taking over when it stops",
                            holder, database.url());
                    waiting = true;
                }
                Thread.sleep(STANDBY_RETRY.toMillis());
            }
            return new NodeLock(session, checkEvery, onLost);
        } catch (SQLException e) {
            closeQuietly(session);
            throw new IllegalStateException("cannot take the node lock on " + database.url() + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            closeQuietly(session);
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while standing by for " + database.url(), e);
        } catch (RuntimeException e) {
            closeQuietly(session);
            throw e;
        }
    }

    /** What a lost lock does outside tests: the process stops, since another node may be active already. */
    static void halt() {
        LOG.error("the node lock's database session is gone: another Coffre node may be active now; stopping");
        Runtime.getRuntime().halt(75); // EX_TEMPFAIL: a supervisor may start it again, as a standby
    }

    @Override
    public void close() {
        closing = true;
        watchdog.shutdownNow();
        try {
            watchdog.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        // freed at once, so that a node started right after this one stopped gets it: ending the session frees it
        // too, but only once the server has ended the session, which may be after close() returned: once, under load,
        // NodeLockTest.aSecondNodeIsRefusedWithTheActiveOneNamed found the stopped node still holding it
        unlockQuietly(session);
        closeQuietly(session);
    }

    private static void unlockQuietly(Connection session) {
        try (PreparedStatement s = session.prepareStatement("SELECT pg_advisory_unlock(?)")) {
            s.setLong(1, KEY);
            s.executeQuery().close();
        } catch (SQLException e) {
            LOG.debug("unlocking the node lock: {}", e.getMessage());
        }
    }

    private boolean alive() {
        try (Statement s = session.createStatement(); ResultSet rs = s.executeQuery("SELECT 1")) {
            return rs.next();
        } catch (SQLException e) {
            LOG.warn("node lock session check failed: {}", e.getMessage());
            return false;
        }
    }

    private static Connection connect(MetadataStores.Database database) {
        Properties properties = new Properties();
        if (database.user() != null) {
            properties.setProperty("user", database.user());
        }
        if (database.password() != null) {
            properties.setProperty("password", database.password());
        }
        properties.setProperty("ApplicationName", "coffre node pid " + ProcessHandle.current().pid());
        properties.setProperty("socketTimeout", "20"); // a check that hangs counts as a lost session
        try {
            Connection session = DriverManager.getConnection(database.url(), properties);
            try (Statement s = session.createStatement()) {
                // the server notices a vanished client after 10 + 4 x 5 s instead of the system's hours
                s.execute("SET tcp_keepalives_idle = 10");
                s.execute("SET tcp_keepalives_interval = 5");
                s.execute("SET tcp_keepalives_count = 4");
            }
            return session;
        } catch (SQLException e) {
            throw new IllegalStateException("cannot connect to " + database.url() + " for the node lock: "
                    + e.getMessage(), e);
        }
    }

    private static boolean tryLock(Connection session) throws SQLException {
        try (PreparedStatement s = session.prepareStatement("SELECT pg_try_advisory_lock(?)")) {
            s.setLong(1, KEY);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() && rs.getBoolean(1);
            }
        }
    }

    /** Who holds the lock, as the database sees that session; empty once nobody does. */
    private static Optional<String> holder(Connection session) throws SQLException {
        try (PreparedStatement s = session.prepareStatement("SELECT a.application_name, a.client_addr, a.pid,"
                + " a.backend_start FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype ="
                + " 'advisory' AND l.granted AND l.classid::bigint = 0 AND l.objid::bigint = ? AND l.objsubid = 1"
                + " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())")) {
            s.setLong(1, KEY);
            try (ResultSet rs = s.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                String client = rs.getString(2);
                return Optional.of("'" + rs.getString(1) + "', connected from "
                        + (client == null ? "a local socket" : client) + " since " + rs.getTimestamp(4).toInstant()
                        + ", database pid " + rs.getInt(3));
            }
        }
    }

    private static void closeQuietly(Connection session) {
        try {
            session.close();
        } catch (SQLException e) {
            LOG.debug("closing the node lock session: {}", e.getMessage());
        }
    }
}
