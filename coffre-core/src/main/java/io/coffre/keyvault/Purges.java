package io.coffre.keyvault;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Permanent deletion: of a soft-deleted store with everything in it, and of whatever soft-deleted keys and stores
 * have passed their scheduled purge date. Each purge is one transaction that re-checks the row is still deleted, so
 * a recovery that wins the race is never undone.
 */
final class Purges {
    private static final Logger LOG = LoggerFactory.getLogger(Purges.class);
    static final String SYSTEM_PRINCIPAL = "system:keyvault-scheduler";

    private final Services services;

    Purges(Services services) {
        this.services = services;
    }

    /** Purges the store if it is (still) soft-deleted; returns whether it did. */
    boolean purgeStore(String storeId) {
        return services.metadata().inTransaction(h -> {
            StoreRecord store = StoreRepository.findById(h, storeId).filter(StoreRecord::isDeleted).orElse(null);
            if (store == null) {
                return false;
            }
            StoreRepository.purge(h, store);
            if (store.isHsm()) {
                services.domains().deleteIfUnused(h, store.domainId());
            }
            return true;
        });
    }

    /** Purges every key and store whose scheduled purge date has passed. */
    void purgeDue() {
        long now = services.now();
        for (KeyRecord key : services.metadata().withHandle(h -> KeyRepository.duePurges(h, now))) {
            String purgedKeyId = services.metadata().inTransaction(h -> {
                boolean stillDue = KeyRepository.find(h, key.storeId(), key.nameLower())
                        .filter(k -> k.isDeleted() && k.scheduledPurgeAt() <= now).isPresent();
                if (!stillDue) {
                    return null;
                }
                KeyRepository.purge(h, key.storeId(), key.nameLower());
                return StoreRepository.findById(h, key.storeId()).orElseThrow().uri(services.endpoints())
                        + "/keys/" + key.name();
            });
            if (purgedKeyId != null) {
                services.audit().record(SYSTEM_PRINCIPAL, "KeyPurge", purgedKeyId, null, true,
                        "scheduled purge date passed");
            }
        }
        for (StoreRecord store : services.metadata().withHandle(h -> StoreRepository.duePurges(h, now))) {
            if (purgeStore(store.storeId())) {
                LOG.info("purged {} {} (scheduled purge date passed)", store.kindLabel(), store.name());
                services.audit().record(SYSTEM_PRINCIPAL, "StorePurge", store.resourceId(), null, true,
                        "scheduled purge date passed");
            }
        }
    }
}
