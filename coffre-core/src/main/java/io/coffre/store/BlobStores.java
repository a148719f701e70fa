package io.coffre.store;

import java.nio.file.Path;

/** Opens the blob store named by the configuration; the only place that knows the implementations. */
public final class BlobStores {
    private BlobStores() {
    }

    /** The embedded default: files under {@code dir}. */
    public static BlobStore fileSystem(Path dir) {
        return new FileBlobStore(dir);
    }
}
