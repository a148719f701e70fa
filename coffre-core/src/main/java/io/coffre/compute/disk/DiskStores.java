package io.coffre.compute.disk;

import io.coffre.store.BlobStore;
import io.coffre.store.MetadataStore;
import java.security.SecureRandom;

/** Opens the disk store; the only place that knows its implementation. */
public final class DiskStores {
    private DiskStores() {
    }

    /**
     * Disks whose block maps live in {@code metadata} and whose encrypted block objects live in {@code blobs}, under
     * data keys from {@code keys}. Writes a previous process journaled go into their disks' maps first. Close it to
     * flush open disks and stop its flush workers.
     */
    public static DiskStore open(MetadataStore metadata, BlobStore blobs, DataKeyRing keys) {
        DefaultDiskStore store = new DefaultDiskStore(metadata, blobs, keys, new SecureRandom(),
                DefaultDiskStore.DEFAULTS);
        store.settleJournals();
        return store;
    }
}
