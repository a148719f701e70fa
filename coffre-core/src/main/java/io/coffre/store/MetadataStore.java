package io.coffre.store;

import org.jdbi.v3.core.Handle;

/**
 * Relational metadata, behind which sits H2 (embedded default) or PostgreSQL (scale-out). Callers write SQL that
 * both accept and never learn which one is in use.
 *
 * <p>Contract (checked by {@code MetadataStoreContract} in the test-jar):
 * <ul>
 *   <li>{@link #inTransaction} is all-or-nothing: an exception from the callback rolls back every statement.</li>
 *   <li>A unique-constraint violation surfaces as {@link StoreConflictException}, whatever the engine.</li>
 *   <li>Schema migrations have run before the store is handed out.</li>
 *   <li>A call made on the same thread inside another's callback reuses that handle: a nested
 *       {@link #inTransaction} or {@link #withHandle} joins the outer transaction and is undone with it.</li>
 *   <li>Other connections never see a transaction's writes before it commits (at least READ COMMITTED);
 *       {@code SELECT ... FOR UPDATE} serializes read-modify-write transactions on the rows it reads.</li>
 * </ul>
 */
public interface MetadataStore extends AutoCloseable {

    @FunctionalInterface
    interface Work<R> {
        R run(Handle handle);
    }

    /** Runs {@code work} in one transaction, committed when it returns and rolled back when it throws. */
    <R> R inTransaction(Work<R> work);

    /** Runs {@code work} on a handle in auto-commit mode (single reads, single statements). */
    <R> R withHandle(Work<R> work);

    /** Names of every table holding Coffre data, for checkers and scans. */
    java.util.List<String> tables();

    @Override
    void close();
}
