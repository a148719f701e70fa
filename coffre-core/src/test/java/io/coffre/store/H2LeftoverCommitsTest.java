package io.coffre.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.lang.reflect.Method;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.h2.engine.SessionLocal;
import org.h2.jdbc.JdbcConnection;
import org.h2.mvstore.tx.Transaction;
import org.h2.mvstore.tx.TransactionStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Makes, on purpose, the file a kill in the middle of an H2 commit leaves (the undo log marked committed and on the
 * disk, the changes not yet applied), checks that H2 alone leaves it so, and that {@link MetadataStores#h2} opens it
 * with the commit finished. {@link H2MetadataKillTest} found the state by chance, in about one run out of seven.
 */
class H2LeftoverCommitsTest {
    @TempDir
    Path dir;

    @Test
    void aCommitMarkedButNotAppliedWhenTheProcessStoppedIsFinishedAtTheOpen() throws Exception {
        try (MetadataStore store = MetadataStores.h2(dir)) {
            store.withHandle(h -> h.execute("CREATE TABLE leftover (id INT PRIMARY KEY, v VARCHAR)")
                    + h.execute("INSERT INTO leftover VALUES (1, 'before')"));
        }
        try (Connection c = openWithoutCoffre()) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.execute("UPDATE leftover SET v = 'after' WHERE id = 1");
                s.execute("INSERT INTO leftover VALUES (2, 'new')");
            }
            // the first step of H2's commit, put on the disk; then the process stops before the second one
            SessionLocal session = session(c);
            TransactionStore transactions = session.getDatabase().getStore().getTransactionStore();
            Method mark = TransactionStore.class.getDeclaredMethod("markUndoLogAsCommitted", int.class, long.class);
            mark.setAccessible(true);
            mark.invoke(transactions, session.getTransaction().getId(), 1L);
            session.getDatabase().getStore().getMvStore().commit();
            shutDownImmediately(c);
        }
        try (Connection c = openWithoutCoffre()) {
            assertThat(leftoverStatuses(c)).as("H2 alone leaves the transaction open, marked committed")
                    .containsExactly(Transaction.STATUS_COMMITTED);
            assertThat(values(c)).as("and its changes invisible").containsExactly("before");
            shutDownImmediately(c);
        }

        try (MetadataStore store = MetadataStores.h2(dir)) {
            List<String> values = store.withHandle(h -> h.createQuery("SELECT v FROM leftover ORDER BY id")
                    .mapTo(String.class).list());
            assertThat(values).containsExactly("after", "new");
            assertTimeoutPreemptively(Duration.ofSeconds(30), () -> store.inTransaction(h ->
                    h.execute("UPDATE leftover SET v = 'written again' WHERE id IN (1, 2)")),
                    "a row of the finished transaction is still locked");
        }
        try (Connection c = openWithoutCoffre()) {
            assertThat(leftoverStatuses(c)).isEmpty();
            assertThat(values(c)).containsExactly("written again", "written again");
        }
    }

    private Connection openWithoutCoffre() throws SQLException {
        return DriverManager.getConnection("jdbc:h2:file:" + dir.toAbsolutePath().resolve("coffre")
                + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;REUSE_SPACE=FALSE", "sa", "");
    }

    private static SessionLocal session(Connection c) throws SQLException {
        return (SessionLocal) c.unwrap(JdbcConnection.class).getSession();
    }

    private static List<Integer> leftoverStatuses(Connection c) throws SQLException {
        return session(c).getDatabase().getStore().getTransactionStore().getOpenTransactions().stream()
                .map(Transaction::getStatus).toList();
    }

    private static List<String> values(Connection c) throws SQLException {
        List<String> values = new ArrayList<>();
        try (Statement s = c.createStatement(); var rows = s.executeQuery("SELECT v FROM leftover ORDER BY id")) {
            while (rows.next()) {
                values.add(rows.getString(1));
            }
        }
        return values;
    }

    /** Closes the files at once, as a kill would: nothing more is written. */
    private static void shutDownImmediately(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("SHUTDOWN IMMEDIATELY");
        }
    }
}
