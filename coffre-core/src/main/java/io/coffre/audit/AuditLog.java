package io.coffre.audit;

import java.util.List;

/**
 * Tamper-evident record of every key-service call. Each entry carries the hash of the one before it, so
 * {@link #verify} detects an edited, inserted or removed entry.
 */
public interface AuditLog {
    record Entry(long sequence, long timeMillis, String principalId, String operation, String resource,
                 String keyVersion, boolean allowed, String detail, String hash) {
    }

    /** Appends an entry (sequence, time and hash are filled in). */
    void record(String principalId, String operation, String resource, String keyVersion, boolean allowed,
                String detail);

    List<Entry> list(String resourcePrefix, int limit);

    /** @return empty when the chain is intact, otherwise a description of the first break */
    java.util.Optional<String> verify();
}
