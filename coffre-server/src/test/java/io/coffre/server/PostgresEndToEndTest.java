package io.coffre.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.coffre.server.ConfidentialVmEndToEndTest.KeyKind;
import io.coffre.store.MetadataStores;
import io.coffre.store.PostgresCluster;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import org.junit.jupiter.api.Test;

/**
 * The platform's main flow (a Managed HSM key and DES, a confidential VM, NBD writes, snapshot, restore points,
 * restores, manual and automatic rotation, stop / start) on a server whose metadata is in a real PostgreSQL server
 * ({@code coffre server --database-url}) instead of the embedded H2.
 */
class PostgresEndToEndTest {
    @Test
    void theMainFlowRunsOnPostgres() throws Exception {
        MetadataStores.Database database = new MetadataStores.Database(PostgresCluster.newDatabase(),
                PostgresCluster.USER, "");
        try (TestServer server = TestServer.startOn(database)) {
            ConfidentialVmEndToEndTest.runMainFlow(server, KeyKind.MANAGED_HSM);
            assertThat(server.dataDir().resolve("db")).as("no embedded database beside it").doesNotExist();
        }
        try (Connection c = DriverManager.getConnection(database.url(), database.user(), database.password());
             ResultSet disks = c.createStatement().executeQuery("SELECT COUNT(*) FROM compute_disks")) {
            assertThat(disks.next()).isTrue();
            assertThat(disks.getInt(1)).as("the flow's disks and snapshots, in PostgreSQL").isGreaterThan(5);
        }
    }
}
