package io.coffre.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.coffre.server.ConfidentialVmEndToEndTest.KeyKind;
import io.coffre.store.BlobStore;
import io.coffre.store.BlobStores;
import io.coffre.store.MetadataStores;
import io.coffre.store.PostgresCluster;
import io.coffre.store.S3Server;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The platform's main flow (a Managed HSM key and DES, a confidential VM, NBD writes, snapshot, restore points,
 * restores, manual and automatic rotation, stop / start) on scale-out storage: the metadata in a real PostgreSQL
 * server ({@code coffre server --database-url}), the blobs in a real S3 server ({@code --s3-endpoint}, s3proxy); and
 * one active node per database, a standby ({@code --standby}) taking over when it stops.
 */
class ScaleOutEndToEndTest {
    private static final String MGMT = "management.coffre.localhost";

    @Test
    void theMainFlowRunsOnPostgresAndS3() throws Exception {
        MetadataStores.Database database = new MetadataStores.Database(PostgresCluster.newDatabase(),
                PostgresCluster.USER, "");
        BlobStores.S3Location bucket = S3Server.newBucket("coffre/");
        try (TestServer server = TestServer.startOn(database, bucket)) {
            ConfidentialVmEndToEndTest.runMainFlow(server, KeyKind.MANAGED_HSM);
            assertThat(server.dataDir().resolve("db")).as("no embedded database beside it").doesNotExist();
            assertThat(server.dataDir().resolve("blobs")).as("no blob files beside it").doesNotExist();
        }
        try (BlobStore blobs = BlobStores.s3(bucket)) {
            List<String> keys = new ArrayList<>();
            blobs.list("", keys::add);
            assertThat(keys).as("the flow's block objects, in the bucket").hasSizeGreaterThan(10);
        }
        try (Connection c = DriverManager.getConnection(database.url(), database.user(), database.password());
             ResultSet disks = c.createStatement().executeQuery("SELECT COUNT(*) FROM compute_disks")) {
            assertThat(disks.next()).isTrue();
            assertThat(disks.getInt(1)).as("the flow's disks and snapshots, in PostgreSQL").isGreaterThan(5);
        }
    }

    @Test
    void oneNodeIsActivePerDatabaseAndAStandbyTakesOverWhenItStops() throws Exception {
        MetadataStores.Database database = new MetadataStores.Database(PostgresCluster.newDatabase(),
                PostgresCluster.USER, "");
        MetadataStores.Database standbyDatabase = new MetadataStores.Database(database.url(), database.user(),
                database.password(), true);
        BlobStores.S3Location bucket = S3Server.newBucket("coffre/");
        TestServer first = TestServer.startOn(database, bucket);
        Path masterKey = first.dataDir().resolve("master.key");
        String group = "/subscriptions/" + first.server().core().identity().defaultSubscriptionId()
                + "/resourcegroups/made-on-the-first-node?api-version=2021-04-01";
        CompletableFuture<TestServer> standby = null;
        try {
            assertThat(first.send("PUT", MGMT, group, first.adminToken(), "{\"location\":\"uaenorth\"}")
                    .statusCode()).isIn(200, 201);
            assertThatThrownBy(() -> TestServer.startOn(database, bucket, masterKey))
                    .hasMessageContaining("Another Coffre node")
                    .hasMessageContaining("coffre server --standby");
            standby = CompletableFuture.supplyAsync(() -> TestServer.startOn(standbyDatabase, bucket, masterKey));
            Thread.sleep(1_500);
            assertThat(standby).as("the standby waits while the first node is active").isNotDone();
        } catch (RuntimeException | Error e) {
            if (standby != null) {
                standby.thenAccept(TestServer::close);
            }
            throw e;
        } finally {
            first.close();
        }
        try (TestServer second = standby.get(60, TimeUnit.SECONDS)) {
            assertThat(second.get(MGMT, group, second.adminToken()).statusCode())
                    .as("the first node's resource group, seen by the node that took over").isEqualTo(200);
        }
    }
}
