package io.coffre.compute.disk;

import static io.coffre.compute.disk.BlockFormat.BLOCK_BYTES;
import static io.coffre.compute.disk.DiskStoreTest.pattern;
import static io.coffre.compute.disk.DiskStoreTest.read;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ObjectNamesTest {
    private static final long MAX_AGE = 60_000;

    @TempDir
    Path dir;
    private DiskFixture fixture;
    private DiskMetadata metadata;
    private ObjectNames names;

    @BeforeEach
    void start() {
        fixture = new DiskFixture(dir);
        metadata = new DiskMetadata(fixture.metadata);
        names = new ObjectNames(new BlockObjects(fixture.blobs, fixture.keys, new SecureRandom(), 1), metadata,
                fixture.wallClock::get, MAX_AGE);
    }

    @AfterEach
    void closeFixture() {
        fixture.close();
    }

    @Test
    void namesAreRegisteredABatchAtATimeAndHandedOutOnce() {
        Set<String> taken = new HashSet<>();
        for (int i = 0; i <= ObjectNames.BATCH; i++) {
            ObjectNames.Name name = names.take();
            assertThat(name.blobKey()).isEqualTo(BlockRef.blobKey(name.writeId()));
            assertThat(metadata.isRegistered(name.blobKey())).as("registered before it is handed out").isTrue();
            taken.add(name.blobKey());
        }
        assertThat(taken).hasSize(ObjectNames.BATCH + 1);
        assertThat(registeredRows()).as("two batches, two commits").isEqualTo(2L * ObjectNames.BATCH);
    }

    @Test
    void aNameOlderThanTheLimitIsNotHandedOut() {
        long firstBatch = names.take().registeredAt();
        fixture.wallClock.addAndGet(MAX_AGE + 1);
        ObjectNames.Name name = names.take();
        assertThat(name.registeredAt()).isGreaterThan(firstBatch).isEqualTo(fixture.wallClock.get());
    }

    @Test
    void namesASealLeftUnusedAreSweptAfterTheGracePeriod() {
        String disk = fixture.store.create(BLOCK_BYTES, DiskSource.empty());
        byte[] block = pattern(43, BLOCK_BYTES);
        try (BlockDevice device = fixture.store.open(disk)) {
            device.write(0, block, 0, BLOCK_BYTES, true);
        }
        assertThat(registeredRows()).as("the seal took one name of a batch").isEqualTo(ObjectNames.BATCH);
        fixture.wallClock.addAndGet(DefaultDiskStore.DEFAULTS.uncommittedGraceMillis() + 1);
        fixture.store.reclaim();
        assertThat(registeredRows()).as("only the committed object stays registered").isEqualTo(1);
        try (BlockDevice device = fixture.store.open(disk)) {
            assertThat(read(device, 0, BLOCK_BYTES)).isEqualTo(block);
        }
    }

    @Test
    void aFlushOfPartialBlocksTakesNamesRegisteredAheadAndRegistersWhatIsMissingInOneCommit() {
        String disk = fixture.store.create(64L * BLOCK_BYTES, DiskSource.empty());
        // more blocks than are spare, as many as the write-back buffer holds before it flushes on its own
        int many = (int) (DefaultDiskStore.DEFAULTS.bufferBytesPerDisk() / BLOCK_BYTES) - 1;
        try (BlockDevice device = fixture.store.open(disk)) {
            writePartialBlocks(device, 0, 3);
            assertThat(registeredRows()).as("the three names and a batch to spare, in one commit")
                    .isEqualTo(3 + ObjectNames.BATCH - 1);
            writePartialBlocks(device, 3, 3);
            assertThat(registeredRows()).as("a small flush takes names from the spare batch: no registration")
                    .isEqualTo(3 + ObjectNames.BATCH - 1);
            int spare = ObjectNames.BATCH - 1 - 3;
            writePartialBlocks(device, 6, many);
            assertThat(registeredRows()).as("the %d spare names, then the rest and a new spare batch at once", spare)
                    .isEqualTo(3 + ObjectNames.BATCH - 1 + (many - spare) + ObjectNames.BATCH - 1);
        }
        try (BlockDevice device = fixture.store.open(disk)) {
            for (int i = 0; i < 6 + many; i++) {
                assertThat(read(device, (long) i * BLOCK_BYTES + 512, 4096)).as("block %d", i)
                        .isEqualTo(pattern(i, 4096));
            }
        }
    }

    /** Writes 4 KiB into each of {@code count} blocks from {@code first}, then flushes them together. */
    /** Writes too much of each block for the journal, so that the flush rewrites every block. */
    private static void writePartialBlocks(BlockDevice device, int first, int count) {
        for (int i = first; i < first + count; i++) {
            device.write((long) i * BLOCK_BYTES + 512, pattern(i, PARTIAL), 0, PARTIAL, false);
        }
        device.flush();
    }

    private static final int PARTIAL = WriteBackDevice.JOURNAL_BYTES_PER_BLOCK;

    private long registeredRows() {
        return fixture.metadata.withHandle(h -> h.createQuery("SELECT count(*) FROM disk_objects")
                .mapTo(Long.class).one());
    }
}
