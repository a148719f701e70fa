package io.coffre.store;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.List;
import javax.sql.DataSource;
import org.h2.mvstore.db.Store;
import org.h2.mvstore.tx.Transaction;
import org.h2.mvstore.tx.TransactionStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finishes the commits a killed H2 process had decided but not applied. H2 commits a transaction by marking its undo
 * log committed, then turning each of its changes into a committed value. Killed in between, the transaction is
 * found in the committed state at the next open, and H2 2.5.252 means to finish it there, but the branch of
 * {@code Transaction.commit()} that would is unreachable (it runs only for a transaction that is still open). The
 * transaction then stays open for good with its changes uncommitted: they are invisible, and every later write to
 * one of those rows spins inside H2 at full CPU, past any lock timeout. {@code H2MetadataKillTest} hung this way in
 * about one run out of seven.
 *
 * <p>The two package-private steps H2 would have taken run here through reflection, as the store opens (after the
 * schema migration, which writes only when one is pending) and before any caller writes: apply the undo log as
 * committed, then end the transaction. Committing is the right outcome: the
 * committed mark was on the disk, so the commit had been decided (its caller may not have heard of it, as with any
 * database killed after its commit record). Nothing is touched when no such transaction is left, which is the case
 * after every clean stop.
 */
final class H2LeftoverCommits {
    private static final Logger LOG = LoggerFactory.getLogger(H2LeftoverCommits.class);

    private H2LeftoverCommits() {
    }

    /** Finishes every transaction left committed but open. */
    static void finish(DataSource dataSource) {
        Store store = H2Housekeeper.databaseStore(dataSource);
        TransactionStore transactions = store.getTransactionStore();
        List<Transaction> leftovers = transactions.getOpenTransactions().stream()
                .filter(t -> t.getStatus() == Transaction.STATUS_COMMITTED).toList();
        if (leftovers.isEmpty()) {
            return;
        }
        try {
            Method apply = TransactionStore.class.getDeclaredMethod("commit", Transaction.class, boolean.class);
            Method end = TransactionStore.class.getDeclaredMethod("endTransaction", Transaction.class, boolean.class);
            apply.setAccessible(true);
            end.setAccessible(true);
            for (Transaction t : leftovers) {
                apply.invoke(transactions, t, true);
                end.invoke(transactions, t, true);
                LOG.warn("finished H2 transaction {}, committed by a process that was stopped before it applied it",
                        t.getId());
            }
        } catch (NoSuchMethodException | IllegalAccessException | RuntimeException e) {
            throw new IllegalStateException("H2 left " + leftovers.size() + " committed transaction(s) unfinished, and"
                    + " this H2 version lacks what Coffre finishes them with (2.5.252's TransactionStore.commit and"
                    + " endTransaction)", e);
        } catch (InvocationTargetException e) {
            throw new IllegalStateException("H2 failed to finish a committed transaction left by a stopped process: "
                    + e.getCause(), e.getCause());
        }
        // into the file now; were this process killed before that, the next open would finish them again
        store.getMvStore().commit();
    }
}
