package io.coffre.compute.disk;

import static io.coffre.compute.disk.BlockFormat.BLOCK_BYTES;
import static io.coffre.compute.disk.DiskStoreTest.pattern;
import static org.assertj.core.api.Assertions.assertThat;

import io.coffre.store.StorageScanner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Writes a known pattern through the write-back layer (unaligned, across blocks, into snapshots and copies), then
 * looks for any 64-byte window of it, raw or encoded, in every row of every table, every blob, and every file the
 * store left on disk (the H2 database file included).
 */
class NoPlaintextAtRestTest {
    private static final int WINDOW = 64;

    @TempDir
    Path dir;

    @Test
    void noWindowOfWrittenPlaintextIsStored() throws IOException {
        // a 64 KiB pattern tiled over 3 MiB: every window the scanner knows is written many times, in every position
        byte[] tile = pattern(40, 64 << 10);
        byte[] secret = new byte[3 << 20];
        for (int at = 0; at < secret.length; at += tile.length) {
            System.arraycopy(tile, 0, secret, at, tile.length);
        }
        try (DiskFixture fixture = new DiskFixture(dir)) {
            String disk = fixture.store.create(6L * BLOCK_BYTES, DiskSource.empty());
            try (BlockDevice device = fixture.store.open(disk)) {
                device.write((1 << 20) + 777, secret, 0, secret.length, false);
                device.write(4L * BLOCK_BYTES, secret, 0, secret.length, true);
                device.write(6L * BLOCK_BYTES - 5000, secret, 100, 5000, false);
            }
            String snapshot = fixture.store.snapshot(disk);
            String copy = fixture.store.create(6L * BLOCK_BYTES, DiskSource.copyOf(snapshot));
            try (BlockDevice device = fixture.store.open(copy)) {
                device.write(3L * BLOCK_BYTES - 1000, secret, 1000, 2 * BLOCK_BYTES / 3, false);
                device.write(5L * BLOCK_BYTES + 3, secret, 7, 8192, true); // small: journaled
            }
            assertThat(fixture.blockFiles()).hasSizeGreaterThanOrEqualTo(5);
            long journalEntries = fixture.metadata.withHandle(h -> h.createQuery("SELECT count(*) FROM disk_journal_entries")
                    .mapTo(Long.class).one());
            assertThat(journalEntries).as("journal entries scanned too").isPositive();
            assertThat(StorageScanner.findBytes(fixture.metadata, fixture.blobs, tile, WINDOW)).isEmpty();
        }
        // the database files as they lie on disk, free pages and logs included (the blobs were scanned above)
        List<Path> files;
        try (Stream<Path> walk = Files.walk(dir.resolve("db"))) {
            files = walk.filter(Files::isRegularFile).toList();
        }
        assertThat(files).anyMatch(f -> f.toString().endsWith(".mv.db"));
        for (Path file : files) {
            assertThat(StorageScanner.findBytes(Files.readAllBytes(file), file.toString(), tile, WINDOW)).isEmpty();
        }
    }

    @Test
    void theScanWouldSeeAPlaintextBlockObject() {
        byte[] secret = pattern(41, 10_000);
        try (DiskFixture fixture = new DiskFixture(dir)) {
            fixture.blobs.put(BlockRef.blobKey(UUID.randomUUID()),
                    Arrays.copyOfRange(secret, 333, 333 + WINDOW));
            assertThat(StorageScanner.findBytes(fixture.metadata, fixture.blobs, secret, WINDOW)).hasSize(1);
        }
    }
}
