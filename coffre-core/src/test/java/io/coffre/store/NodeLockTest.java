package io.coffre.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** One active node per PostgreSQL database, a standby taking over, and a node stopped when it loses the lock. */
class NodeLockTest {
    private static final Duration CHECK_EVERY = Duration.ofMillis(200);
    private static final Runnable NEVER_LOST = () -> {
        throw new AssertionError("the node lock was lost");
    };

    private String url;

    @BeforeEach
    void newDatabase() {
        url = PostgresCluster.newDatabase();
    }

    @Test
    void aSecondNodeIsRefusedWithTheActiveOneNamed() {
        try (MetadataStore active = open(false, NEVER_LOST)) {
            assertThatThrownBy(() -> open(false, NEVER_LOST))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("Another Coffre node ('coffre node pid " + ProcessHandle.current().pid())
                    .hasMessageContaining("--standby");
            assertThat(active.tables()).contains("async_operations");
        }
        try (MetadataStore next = open(false, NEVER_LOST)) {
            assertThat(next.tables()).contains("async_operations");
        }
    }

    @Test
    void anotherDatabaseOnTheSameServerHasItsOwnActiveNode() {
        String other = PostgresCluster.newDatabase();
        try (MetadataStore active = open(false, NEVER_LOST);
             MetadataStore elsewhere = MetadataStores.server(database(other, false), CHECK_EVERY, NEVER_LOST)) {
            assertThat(elsewhere.tables()).isEqualTo(active.tables());
        }
    }

    @Test
    void aStandbyTakesOverWhenTheActiveNodeStops() throws Exception {
        MetadataStore active = open(false, NEVER_LOST);
        CompletableFuture<MetadataStore> standby = CompletableFuture.supplyAsync(() -> open(true, NEVER_LOST));
        try {
            Thread.sleep(1_500);
            assertThat(standby).as("the standby waits while the active node runs").isNotDone();
            active.close();
            try (MetadataStore taken = standby.get(20, TimeUnit.SECONDS)) {
                assertThat(taken.tables()).contains("async_operations");
            }
        } finally {
            active.close();
        }
    }

    @Test
    void aNodeWhoseLockSessionEndsIsStoppedAndAnotherCanStart() throws Exception {
        CountDownLatch lost = new CountDownLatch(1);
        try (MetadataStore active = open(false, lost::countDown)) {
            assertThat(active.tables()).isNotEmpty();
            try (Connection admin = DriverManager.getConnection(url, PostgresCluster.USER, "");
                 Statement s = admin.createStatement();
                 ResultSet rs = s.executeQuery("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                         + " WHERE application_name LIKE 'coffre node pid %' AND datname = current_database()")) {
                assertThat(rs.next()).as("the lock's session exists").isTrue();
            }
            assertThat(lost.await(10, TimeUnit.SECONDS)).as("the watchdog noticed").isTrue();
            try (MetadataStore next = open(false, NEVER_LOST)) {
                assertThat(next.tables()).contains("async_operations");
            }
        }
    }

    private MetadataStore open(boolean standby, Runnable onLost) {
        return MetadataStores.server(database(url, standby), CHECK_EVERY, onLost);
    }

    private static MetadataStores.Database database(String url, boolean standby) {
        return new MetadataStores.Database(url, PostgresCluster.USER, "", standby);
    }
}
