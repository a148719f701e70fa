package io.coffre.compute.disk;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes block objects nothing refers to. An object is registered before it is put and committed by the
 * transaction that maps it; it is deleted only when it is committed and no map refers to it, or when it stayed
 * uncommitted longer than the grace period (its writer crashed). The registry row goes first, in its own
 * transaction, then the blob: a crash in between leaves a blob without a row, which {@link #sweep} deletes.
 */
final class Reclaimer {
    private static final Logger LOG = LoggerFactory.getLogger(Reclaimer.class);

    private final DiskMetadata metadata;
    private final BlockObjects objects;
    private final LongSupplier wallClock;
    private final long graceMillis;

    Reclaimer(DiskMetadata metadata, BlockObjects objects, LongSupplier wallClock, long graceMillis) {
        this.metadata = metadata;
        this.objects = objects;
        this.wallClock = wallClock;
        this.graceMillis = graceMillis;
    }

    /** Best effort after a flush or a delete: whatever fails here is left for the next {@link #sweep}. */
    void reclaimQuietly(Collection<String> keys) {
        quietly(keys, wallClock.getAsLong() - graceMillis);
    }

    /**
     * After a failed flush: its objects go at once, whatever their age. One that the flush's commit did map after
     * all (a commit whose outcome was lost) is committed and referenced, so it stays.
     */
    void discardQuietly(Collection<String> keys) {
        quietly(keys, Long.MAX_VALUE);
    }

    /**
     * Uncommitted objects registered before this instant are halfway to being swept as abandoned: a writer maps
     * only newer ones, so that its commit never races the sweep.
     */
    long trustedSince() {
        return wallClock.getAsLong() - graceMillis / 2;
    }

    /** Every garbage object, then every blob left without a registry row by an interrupted reclaim. */
    int sweep() {
        long abandonedBefore = wallClock.getAsLong() - graceMillis;
        int deleted = reclaim(metadata.reclaimCandidates(abandonedBefore), abandonedBefore);
        List<String> stored = new ArrayList<>();
        objects.blobs().list(BlockRef.PREFIX, stored::add);
        for (String key : stored) {
            // a writer registers before it puts, so a listed blob without a row was unregistered for good
            if (!metadata.isRegistered(key)) {
                objects.delete(key);
                deleted++;
            }
        }
        return deleted;
    }

    private int reclaim(Collection<String> keys, long abandonedBefore) {
        int deleted = 0;
        for (String key : keys) {
            if (metadata.unregisterIfGarbage(key, abandonedBefore)) {
                objects.delete(key);
                deleted++;
            }
        }
        return deleted;
    }

    private void quietly(Collection<String> keys, long abandonedBefore) {
        try {
            reclaim(keys, abandonedBefore);
        } catch (RuntimeException e) {
            LOG.warn("could not reclaim {} block objects now; the next sweep will: {}", keys.size(), e.toString());
        }
    }
}
