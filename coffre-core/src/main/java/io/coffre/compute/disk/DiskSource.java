package io.coffre.compute.disk;

import java.util.Objects;

/** What a new disk starts with: nothing, or the current content of a disk or a snapshot. */
public sealed interface DiskSource {
    static DiskSource empty() {
        return Empty.INSTANCE;
    }

    /** Content of the disk or snapshot {@code sourceId}, shared (not copied, not re-encrypted) with it. */
    static DiskSource copyOf(String sourceId) {
        return new CopyOf(sourceId);
    }

    enum Empty implements DiskSource {
        INSTANCE
    }

    record CopyOf(String sourceId) implements DiskSource {
        public CopyOf {
            Objects.requireNonNull(sourceId, "sourceId");
        }
    }
}
