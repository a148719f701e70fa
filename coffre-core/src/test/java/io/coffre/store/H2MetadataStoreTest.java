package io.coffre.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The metadata contract on both H2 variants Coffre ships: the embedded file database and the in-memory one. */
class H2MetadataStoreTest {

    @Nested
    class OnFile extends MetadataStoreContract {
        @TempDir
        Path dir;

        @Override
        protected MetadataStore newStore() {
            return MetadataStores.h2(dir);
        }

        @Test
        void committedRowsSurviveReopeningAndMigrationsDoNotRerun() {
            store.withHandle(h -> h.execute("INSERT INTO subscriptions (subscription_id, tenant_id, display_name)"
                    + " VALUES ('contract-durable', 't', 'Durable')"));
            store.close();
            store = newStore();
            assertThat(count("SELECT COUNT(*) FROM subscriptions WHERE subscription_id = 'contract-durable'"))
                    .isEqualTo(1);
        }
    }

    @Nested
    class FileHousekeeping {
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
            Path file = dir.resolve("coffre.mv.db");
            try (MetadataStore store = MetadataStores.h2(dir, 1 << 20)) {
                store.withHandle(h -> h.execute("CREATE TABLE churn (id INT PRIMARY KEY, body VARCHAR)"));
                String body = "c".repeat(10_000);
                for (int i = 0; i < 3_000; i++) {
                    int id = i % 32;
                    store.withHandle(h -> h.execute("MERGE INTO churn (id, body) KEY (id) VALUES (?, ?)", id, body));
                }
                long written = Files.size(file);
                assertThat(written).as("every commit appended").isGreaterThan(8L << 20);
                long deadline = System.nanoTime() + 20_000_000_000L;
                while (Files.size(file) > 4L << 20 && System.nanoTime() < deadline) {
                    Thread.sleep(100);
                }
                assertThat(Files.size(file)).as("file of %d bytes after compaction (%d before), 320 KB live",
                        Files.size(file), written).isLessThanOrEqualTo(4L << 20);
                int rows = store.withHandle(h -> h.createQuery("SELECT COUNT(*) FROM churn WHERE body = :b")
                        .bind("b", body).mapTo(Integer.class).one());
                assertThat(rows).isEqualTo(32);
            }
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
