package io.coffre.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.jdbi.v3.core.Handle;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The {@link MetadataStore} contract, run against every engine: a store's test extends this class and supplies
 * {@link #newStore()}. The tests use a scratch table they create and drop with portable SQL, plus the real V1
 * tables (only rows whose ids start with {@code contract-}, removed afterwards), so a shared database survives.
 */
public abstract class MetadataStoreContract {
    private static final String SCRATCH = "contract_scratch";
    private static final int MIB = 1 << 20;

    protected MetadataStore store;

    /** A migrated store; called once per test. */
    protected abstract MetadataStore newStore();

    /** Removes whatever {@link #newStore()} left behind, after the store was closed. */
    protected void cleanup(MetadataStore closed) {
    }

    @BeforeEach
    final void openStore() {
        store = newStore();
        store.withHandle(h -> {
            h.execute("DROP TABLE IF EXISTS " + SCRATCH);
            h.execute("CREATE TABLE " + SCRATCH + " (id VARCHAR(64) PRIMARY KEY, name VARCHAR(256) UNIQUE,"
                    + " counter BIGINT, flag BOOLEAN, payload BYTEA, note VARCHAR)");
            return null;
        });
    }

    @AfterEach
    final void closeStore() {
        try {
            store.withHandle(h -> {
                h.execute("DROP TABLE IF EXISTS " + SCRATCH);
                h.execute("DELETE FROM resource_groups WHERE subscription_id LIKE 'contract-%'");
                h.execute("DELETE FROM subscriptions WHERE subscription_id LIKE 'contract-%'");
                return null;
            });
        } finally {
            store.close();
            cleanup(store);
        }
    }

    // ---- migrations ----

    @Test
    void migrationsHaveRunBeforeTheStoreIsHandedOut() {
        List<String> tables = store.tables().stream().map(t -> t.toLowerCase(Locale.ROOT)).toList();
        assertThat(tables).contains("subscriptions", "resource_groups", "async_operations", SCRATCH);
        insertSubscription(store, "contract-s1");
        assertThat(countSubscriptions("contract-s1")).isEqualTo(1);
    }

    // ---- transactions ----

    @Test
    void inTransactionCommitsWhenTheCallbackReturns() {
        String result = store.inTransaction(h -> {
            insert(h, "a", "alpha");
            insert(h, "b", "beta");
            insertSubscription(h, "contract-s1");
            return "done";
        });
        assertThat(result).isEqualTo("done");
        assertThat(ids()).containsExactly("a", "b");
        assertThat(countSubscriptions("contract-s1")).isEqualTo(1);
    }

    @Test
    void inTransactionRollsBackEveryStatementWhenTheCallbackThrows() {
        store.withHandle(h -> insert(h, "kept", "kept-name"));
        store.withHandle(h -> insert(h, "doomed", "doomed-name"));
        RuntimeException failure = new IllegalStateException("callback failed after five statements");
        assertThatThrownBy(() -> store.inTransaction(h -> {
            insert(h, "new", "new-name");
            h.execute("UPDATE " + SCRATCH + " SET counter = 99, note = 'changed' WHERE id = 'kept'");
            h.execute("DELETE FROM " + SCRATCH + " WHERE id = 'doomed'");
            insertSubscription(h, "contract-s1");
            h.execute("INSERT INTO resource_groups (subscription_id, name_lower, name, location)"
                    + " VALUES ('contract-s1', 'rg', 'RG', 'westeurope')");
            throw failure;
        })).isSameAs(failure);
        assertThat(ids()).containsExactly("doomed", "kept");
        Row kept = read("kept").orElseThrow();
        assertThat(kept.counter()).isZero();
        assertThat(kept.note()).isNull();
        assertThat(countSubscriptions("contract-s1")).isZero();
        assertThat(count("SELECT COUNT(*) FROM resource_groups WHERE subscription_id = 'contract-s1'")).isZero();
    }

    @Test
    void uncommittedWritesAreInvisibleToOtherConnections() throws Exception {
        ExecutorService other = Executors.newSingleThreadExecutor();
        try {
            store.inTransaction(h -> {
                insert(h, "pending", "pending-name");
                assertThat(h.createQuery("SELECT COUNT(*) FROM " + SCRATCH).mapTo(Long.class).one()).isEqualTo(1);
                // another thread gets another connection: it must not see this transaction's row yet
                assertThat(await(other.submit(() -> count("SELECT COUNT(*) FROM " + SCRATCH)))).isZero();
                return null;
            });
            assertThat(await(other.submit(() -> count("SELECT COUNT(*) FROM " + SCRATCH)))).isEqualTo(1);
        } finally {
            other.shutdownNow();
        }
    }

    @Test
    void nestedCallsOnTheSameThreadJoinTheOuterTransaction() {
        RuntimeException failure = new IllegalStateException("outer fails after the nested calls returned");
        assertThatThrownBy(() -> store.inTransaction(h -> {
            insert(h, "outer", "outer-name");
            store.inTransaction(nested -> insert(nested, "nested-tx", "nested-tx-name"));
            store.withHandle(nested -> insert(nested, "nested-handle", "nested-handle-name"));
            assertThat(h.createQuery("SELECT COUNT(*) FROM " + SCRATCH).mapTo(Long.class).one()).isEqualTo(3);
            throw failure;
        })).isSameAs(failure);
        assertThat(ids()).isEmpty();
    }

    @Test
    void withHandleAutoCommitsEachStatement() {
        assertThatThrownBy(() -> store.withHandle(h -> {
            insert(h, "first", "first-name");
            throw new IllegalStateException("after the first statement");
        })).isInstanceOf(IllegalStateException.class);
        assertThat(ids()).containsExactly("first");
    }

    @Test
    void failedTransactionsLeaveNoConnectionInATransaction() {
        // more failures than pooled connections: every connection goes through a rollback
        for (int i = 0; i < 20; i++) {
            int n = i;
            assertThatThrownBy(() -> store.inTransaction(h -> {
                insert(h, "failed" + n, "failed-name" + n);
                throw new IllegalStateException("fail " + n);
            })).hasMessage("fail " + n);
        }
        for (int i = 0; i < 20; i++) {
            String id = "auto" + i;
            store.withHandle(h -> insert(h, id, id + "-name"));
            assertThat(count("SELECT COUNT(*) FROM " + SCRATCH + " WHERE id = ?", id)).as(id).isEqualTo(1);
        }
        assertThat(ids()).hasSize(20).allMatch(id -> id.startsWith("auto"));
    }

    // ---- conflicts ----

    @Test
    void duplicateKeyOutsideATransactionIsAStoreConflict() {
        store.withHandle(h -> insert(h, "dup", "dup-name"));
        assertThatThrownBy(() -> store.withHandle(h -> insert(h, "dup", "other-name")))
                .isInstanceOf(StoreConflictException.class);
        assertThatThrownBy(() -> store.withHandle(h -> insert(h, "other", "dup-name")))
                .as("a UNIQUE column, not only the primary key").isInstanceOf(StoreConflictException.class);
        insertSubscription(store, "contract-s1");
        assertThatThrownBy(() -> insertSubscription(store, "contract-s1")).isInstanceOf(StoreConflictException.class);
        assertThat(ids()).containsExactly("dup");
    }

    @Test
    void duplicateKeyInsideATransactionIsAStoreConflictAndRollsBack() {
        store.withHandle(h -> insert(h, "dup", "dup-name"));
        insertSubscription(store, "contract-s1");
        store.withHandle(h -> h.execute("INSERT INTO resource_groups (subscription_id, name_lower, name, location)"
                + " VALUES ('contract-s1', 'rg', 'RG', 'westeurope')"));
        assertThatThrownBy(() -> store.inTransaction(h -> {
            insert(h, "before", "before-name");
            return insert(h, "dup", "another-name");
        })).isInstanceOf(StoreConflictException.class);
        assertThatThrownBy(() -> store.inTransaction(h -> {
            insert(h, "before", "before-name");
            return h.execute("INSERT INTO resource_groups (subscription_id, name_lower, name, location)"
                    + " VALUES ('contract-s1', 'rg', 'Rg', 'northeurope')");
        })).as("composite primary key").isInstanceOf(StoreConflictException.class);
        assertThat(ids()).containsExactly("dup");
    }

    @Test
    void otherFailuresAreNotConflicts() {
        store.withHandle(h -> insert(h, "x", "x-name"));
        assertThatThrownBy(() -> store.withHandle(h -> h.execute("INSERT INTO subscriptions (subscription_id)"
                + " VALUES ('contract-s1')"))).as("NOT NULL violation")
                .isInstanceOf(RuntimeException.class).isNotInstanceOf(StoreConflictException.class);
        assertThatThrownBy(() -> store.withHandle(h -> h.execute("INSERT INTO no_such_table VALUES (1)")))
                .isInstanceOf(RuntimeException.class).isNotInstanceOf(StoreConflictException.class);
        assertThatThrownBy(() -> store.withHandle(h -> h.execute("INSERT INTO resource_groups"
                + " (subscription_id, name_lower, name, location) VALUES ('contract-none', 'rg', 'RG', 'x')")))
                .as("foreign key violation").isInstanceOf(RuntimeException.class)
                .isNotInstanceOf(StoreConflictException.class);
    }

    // ---- types ----

    @Test
    void bytesRoundTripExactly() {
        byte[] everyValue = new byte[256];
        for (int i = 0; i < everyValue.length; i++) {
            everyValue[i] = (byte) i;
        }
        byte[] mebibyte = new byte[MIB];
        new Random(7).nextBytes(mebibyte);
        for (byte[] value : List.of(new byte[0], new byte[] {0}, everyValue, mebibyte)) {
            String id = "bytes" + value.length;
            store.inTransaction(h -> h.createUpdate("INSERT INTO " + SCRATCH + " (id, payload) VALUES (:id, :p)")
                    .bind("id", id).bind("p", value).execute());
            assertThat(read(id).orElseThrow().payload()).as(id).isEqualTo(value);
        }
    }

    @Test
    void textRoundTripsIncludingUnicode() {
        String unicode = "é ß 日本語 한국어 العربية \uD83D\uDD10 e\u0301 \u200B 'quoted' \"double\" \\ % _";
        String mebichars = "x".repeat(MIB);
        for (String value : List.of("", " ", unicode, mebichars)) {
            String id = "text" + value.length();
            store.withHandle(h -> h.createUpdate("INSERT INTO " + SCRATCH + " (id, note) VALUES (:id, :n)")
                    .bind("id", id).bind("n", value).execute());
            assertThat(read(id).orElseThrow().note()).as(id).isEqualTo(value);
        }
        // the engine compares, not just stores, the text faithfully
        assertThat(count("SELECT COUNT(*) FROM " + SCRATCH + " WHERE note = ? AND id = ?", unicode,
                "text" + unicode.length())).isEqualTo(1);
    }

    @Test
    void numbersAndBooleansRoundTrip() {
        long[] values = {Long.MIN_VALUE, -1, 0, 1, 1L << 53, Long.MAX_VALUE};
        for (int i = 0; i < values.length; i++) {
            String id = "n" + i;
            long value = values[i];
            boolean flag = i % 2 == 0;
            store.withHandle(h -> h.createUpdate("INSERT INTO " + SCRATCH + " (id, counter, flag)"
                    + " VALUES (:id, :c, :f)").bind("id", id).bind("c", value).bind("f", flag).execute());
            Row row = read(id).orElseThrow();
            assertThat(row.counter()).as(id).isEqualTo(value);
            assertThat(row.flag()).as(id).isEqualTo(flag);
        }
        assertThat(count("SELECT COUNT(*) FROM " + SCRATCH + " WHERE flag = ?", true)).isEqualTo(3);
    }

    @Test
    void nullsRoundTripInEveryType() {
        store.withHandle(h -> h.createUpdate("INSERT INTO " + SCRATCH + " (id, name, counter, flag, payload, note)"
                        + " VALUES (:id, :name, :c, :f, :p, :n)")
                .bind("id", "nulls").bind("name", (String) null).bind("c", (Long) null).bind("f", (Boolean) null)
                .bind("p", (byte[]) null).bind("n", (String) null).execute());
        Row row = read("nulls").orElseThrow();
        assertThat(row).usingRecursiveComparison().isEqualTo(new Row("nulls", null, null, null, null, null));
        assertThat(count("SELECT COUNT(*) FROM " + SCRATCH
                + " WHERE name IS NULL AND counter IS NULL AND flag IS NULL AND payload IS NULL AND note IS NULL"))
                .isEqualTo(1);
        // NULL is not a value a UNIQUE column compares equal to
        store.withHandle(h -> h.execute("INSERT INTO " + SCRATCH + " (id) VALUES ('nulls2')"));
        assertThat(ids()).containsExactly("nulls", "nulls2");
    }

    @Test
    void missingRowReadsAsEmpty() {
        assertThat(read("absent")).isEmpty();
    }

    // ---- concurrency ----

    @Test
    @Timeout(120)
    void lockedReadModifyWriteTransactionsDoNotLoseUpdates() throws Exception {
        store.withHandle(h -> h.execute("INSERT INTO " + SCRATCH + " (id, counter) VALUES ('c', 0)"));
        int threads = 8;
        int increments = 40;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<Void>> results = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                Callable<Void> worker = () -> {
                    for (int i = 0; i < increments; i++) {
                        store.inTransaction(h -> {
                            long value = h.createQuery("SELECT counter FROM " + SCRATCH
                                    + " WHERE id = 'c' FOR UPDATE").mapTo(Long.class).one();
                            Thread.yield(); // widen the window a lost update would need
                            return h.createUpdate("UPDATE " + SCRATCH + " SET counter = :v WHERE id = 'c'")
                                    .bind("v", value + 1).execute();
                        });
                    }
                    return null;
                };
                results.add(pool.submit(worker));
            }
            for (Future<Void> result : results) {
                result.get(100, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(read("c").orElseThrow().counter()).isEqualTo((long) threads * increments);
    }

    // ---- helpers ----

    /** One scratch row; boxed columns are null when SQL NULL. */
    private record Row(String id, String name, Long counter, Boolean flag, byte[] payload, String note) {
    }

    private Optional<Row> read(String id) {
        return store.withHandle(h -> h.createQuery("SELECT id, name, counter, flag, payload, note FROM " + SCRATCH
                + " WHERE id = :id").bind("id", id).map((rs, ctx) -> row(rs)).findOne());
    }

    private static Row row(ResultSet rs) throws SQLException {
        long counter = rs.getLong("counter");
        Long boxedCounter = rs.wasNull() ? null : counter;
        boolean flag = rs.getBoolean("flag");
        Boolean boxedFlag = rs.wasNull() ? null : flag;
        return new Row(rs.getString("id"), rs.getString("name"), boxedCounter, boxedFlag, rs.getBytes("payload"),
                rs.getString("note"));
    }

    private List<String> ids() {
        return store.withHandle(h -> h.createQuery("SELECT id FROM " + SCRATCH + " ORDER BY id")
                .mapTo(String.class).list());
    }

    private static int insert(Handle h, String id, String name) {
        return h.createUpdate("INSERT INTO " + SCRATCH + " (id, name, counter) VALUES (:id, :name, 0)")
                .bind("id", id).bind("name", name).execute();
    }

    private static int insertSubscription(Handle h, String id) {
        return h.createUpdate("INSERT INTO subscriptions (subscription_id, tenant_id, display_name)"
                + " VALUES (:id, 'contract-tenant', 'Contract')").bind("id", id).execute();
    }

    private static void insertSubscription(MetadataStore store, String id) {
        store.withHandle(h -> insertSubscription(h, id));
    }

    private long countSubscriptions(String id) {
        return count("SELECT COUNT(*) FROM subscriptions WHERE subscription_id = ?", id);
    }

    private static <T> T await(Future<T> future) {
        try {
            return future.get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Runs a one-number query with positional arguments on a connection of its own. */
    protected final long count(String sql, Object... args) {
        return store.withHandle(h -> {
            var query = h.createQuery(sql);
            for (int i = 0; i < args.length; i++) {
                query.bind(i, args[i]);
            }
            return query.mapTo(Long.class).one();
        });
    }
}
