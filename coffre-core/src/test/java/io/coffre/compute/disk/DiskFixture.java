package io.coffre.compute.disk;

import io.coffre.store.BlobStore;
import io.coffre.store.BlobStores;
import io.coffre.store.MetadataStore;
import io.coffre.store.MetadataStores;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * A disk store on real parts in a directory: H2 in a file, blobs as files (counted), the test key ring. It can be
 * reopened over the same directory, as a restarted process would.
 */
final class DiskFixture implements AutoCloseable {
    static final long SMALL_BUFFER = 2L * BlockFormat.BLOCK_BYTES;

    final Path dir;
    final TestKeyRing keys;
    final AtomicLong wallClock = new AtomicLong(System.currentTimeMillis());
    private final long bufferBytes;
    MetadataStore metadata;
    CountingBlobStore blobs;
    DefaultDiskStore store;

    DiskFixture(Path dir) {
        this(dir, new TestKeyRing(), DefaultDiskStore.DEFAULTS.bufferBytesPerDisk());
    }

    DiskFixture(Path dir, TestKeyRing keys, long bufferBytes) {
        this.dir = dir;
        this.keys = keys;
        this.bufferBytes = bufferBytes;
        start();
    }

    /** Settings as in production except the buffer size and a wall clock the test moves. */
    DefaultDiskStore.Settings settings() {
        return new DefaultDiskStore.Settings(bufferBytes, DefaultDiskStore.DEFAULTS.cachedBlocks(),
                DefaultDiskStore.DEFAULTS.uncommittedGraceMillis(), 4, wallClock::get);
    }

    /** Closes everything (flushing open disks) and starts again on the same files. */
    void reopen() {
        close();
        start();
    }

    /** A second store over the same metadata and blobs, as another process would see them (its own buffers). */
    DefaultDiskStore secondStore() {
        return new DefaultDiskStore(metadata, blobs, keys, new SecureRandom(), settings());
    }

    Path blobDir() {
        return dir.resolve("blobs");
    }

    Path blobFile(String key) {
        return blobDir().resolve(key);
    }

    /** Block objects as files (temporary files of interrupted puts excluded). */
    List<Path> blockFiles() {
        Path root = blobDir().resolve(BlockRef.PREFIX);
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        try (Stream<Path> files = Files.walk(root)) {
            List<Path> found = new ArrayList<>();
            files.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().contains(".tmp"))
                    .forEach(found::add);
            return found;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void start() {
        metadata = MetadataStores.h2(dir.resolve("db"));
        BlobStore files = BlobStores.fileSystem(blobDir());
        blobs = new CountingBlobStore(files);
        store = new DefaultDiskStore(metadata, blobs, keys, new SecureRandom(), settings());
        store.settleJournals(); // as DiskStores.open does
    }

    @Override
    public void close() {
        try {
            store.close();
        } finally {
            metadata.close();
        }
    }
}
