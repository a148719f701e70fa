package io.coffre.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The metadata contract on both H2 variants Coffre ships: the embedded file database and the in-memory one. */
class H2MetadataStoreTest {

    @Nested
    class OnFile extends DurableMetadataStoreContract {
        @TempDir
        Path dir;

        @Override
        protected MetadataStore newStore() {
            return MetadataStores.h2(dir);
        }
    }

    @Nested
    class FileHousekeeping {
        private static final String BODY = "c".repeat(10_000);

        @TempDir
        Path dir;

        @Test
        void compactsWhileOpenAndStopsWithTheStore() throws InterruptedException {
            long before = housekeepers();
            MetadataStore store = MetadataStores.h2(dir);
            assertThat(housekeepers()).isEqualTo(before + 1);
            store.close();
            // the executor reports termination just before its thread ends
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (housekeepers() > before && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(housekeepers()).isEqualTo(before);
        }

        @Test
        void reclaimsTheSpaceOfDeadChunksWhileOpen() throws Exception {
            try (MetadataStore store = MetadataStores.h2(dir, 1 << 20)) {
                long largest = churn(store, 3_000);
                assertThat(largest).as("every commit appended").isGreaterThan(8L << 20);
                long deadline = System.nanoTime() + 20_000_000_000L;
                while (Files.size(file()) > 4L << 20 && System.nanoTime() < deadline) {
                    Thread.sleep(100);
                }
                assertThat(Files.size(file())).as("file after compaction (%d bytes at most before), 320 KB live",
                        largest).isLessThanOrEqualTo(4L << 20);
                assertThat(churnedRows(store)).isEqualTo(32);
            }
        }

        @Test
        void aCleanCloseLeavesACompactFile() throws Exception {
            MetadataStore store = MetadataStores.h2(dir, 1 << 20);
            churn(store, 1_000);
            store.close(); // at once: the housekeeper's first round is a second away
            assertThat(Files.size(file())).isLessThanOrEqualTo(4L << 20);
            try (MetadataStore reopened = MetadataStores.h2(dir)) {
                assertThat(churnedRows(reopened)).isEqualTo(32);
            }
        }

        /** Rewrites 32 rows of 10 KB {@code commits} times; returns the largest size the file reached meanwhile. */
        private long churn(MetadataStore store, int commits) throws IOException {
            store.withHandle(h -> h.execute("CREATE TABLE churn (id INT PRIMARY KEY, body VARCHAR)"));
            long largest = 0;
            for (int i = 0; i < commits; i++) {
                int id = i % 32;
                store.withHandle(h -> h.execute("MERGE INTO churn (id, body) KEY (id) VALUES (?, ?)", id, BODY));
                largest = Math.max(largest, Files.size(file()));
            }
            return largest;
        }

        private int churnedRows(MetadataStore store) {
            return store.withHandle(h -> h.createQuery("SELECT COUNT(*) FROM churn WHERE body = :b")
                    .bind("b", BODY).mapTo(Integer.class).one());
        }

        private Path file() {
            return dir.resolve("coffre.mv.db");
        }

        private long housekeepers() {
            return Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.isAlive() && t.getName().equals("coffre-h2-housekeeper")).count();
        }
    }

    @Nested
    class InMemory extends MetadataStoreContract {
        private final String name = "contract-" + UUID.randomUUID();

        @Override
        protected MetadataStore newStore() {
            return MetadataStores.h2InMemory(name);
        }

        @Test
        void closingDropsTheDatabase() {
            store.withHandle(h -> h.execute("INSERT INTO subscriptions (subscription_id, tenant_id, display_name)"
                    + " VALUES ('contract-gone', 't', 'Gone')"));
            store.close();
            store = newStore();
            assertThat(count("SELECT COUNT(*) FROM subscriptions WHERE subscription_id = 'contract-gone'")).isZero();
        }
    }
}
