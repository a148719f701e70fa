package io.coffre.audit;

import io.coffre.store.MetadataStore;
import io.coffre.time.CoffreClock;

/** Opens the audit log; the only place that knows its implementation. */
public final class AuditLogs {
    private AuditLogs() {
    }

    /** The hash-chained log in the metadata store's {@code audit_log} table, timed by {@code clock}. */
    public static AuditLog open(MetadataStore metadata, CoffreClock clock) {
        return new HashChainedAuditLog(metadata, clock);
    }
}
