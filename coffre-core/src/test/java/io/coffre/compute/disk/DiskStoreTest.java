package io.coffre.compute.disk;

import static io.coffre.compute.disk.BlockFormat.BLOCK_BYTES;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.coffre.arm.ArmException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DiskStoreTest {
    private static final long MIB = 1 << 20;

    @TempDir
    Path dir;
    private DiskFixture fixture;

    @AfterEach
    void closeFixture() {
        if (fixture != null) {
            fixture.close();
        }
    }

    private DiskStore store() {
        if (fixture == null) {
            fixture = new DiskFixture(dir);
        }
        return fixture.store;
    }

    @Test
    void aNewDiskReadsAsZerosAndStoresNothing() {
        String disk = store().create(64 * MIB, DiskSource.empty());
        try (BlockDevice device = store().open(disk)) {
            assertThat(device.size()).isEqualTo(64 * MIB);
            assertThat(read(device, 5 * MIB - 7, 3 * BLOCK_BYTES)).containsOnly(0);
        }
        assertThat(fixture.blockFiles()).isEmpty();
        DiskInfo info = store().info(disk);
        assertThat(info.storedBlocks()).isZero();
        assertThat(info.snapshot()).isFalse();
        assertThat(info.writeKeyId()).contains(fixture.keys.keyOf(disk));
        assertThat(store().sizeBytes(disk)).isEqualTo(64 * MIB);
        assertThat(store().sizeBytes(store().snapshot(disk))).isEqualTo(64 * MIB);
    }

    @Test
    void writesSurviveARestart() {
        String disk = store().create(40 * MIB + 1024, DiskSource.empty());
        byte[] first = pattern(1, 9 * (int) MIB + 333);
        byte[] tail = pattern(2, 3000);
        try (BlockDevice device = store().open(disk)) {
            device.write(1234, first, 0, first.length, false);
            device.write(40 * MIB + 1024 - tail.length, tail, 0, tail.length, false);
        }
        fixture.reopen();
        try (BlockDevice device = store().open(disk)) {
            assertThat(read(device, 1234, first.length)).isEqualTo(first);
            assertThat(read(device, 40 * MIB + 1024 - tail.length, tail.length)).isEqualTo(tail);
            assertThat(read(device, 0, 1234)).containsOnly(0);
        }
        // blocks 0, 1, 2 (the first write spans them), 9 and the last, partial one (10)
        assertThat(store().info(disk).storedBlocks()).isEqualTo(5);
    }

    @Test
    void zerosAreNeverStoredAndZeroingABlockFreesIt() {
        String disk = store().create(32 * MIB, DiskSource.empty());
        try (BlockDevice device = store().open(disk)) {
            device.write(0, new byte[2 * BLOCK_BYTES], 0, 2 * BLOCK_BYTES, true);
            assertThat(fixture.blockFiles()).isEmpty();

            byte[] data = pattern(3, 1000);
            device.write(BLOCK_BYTES + 5000, data, 0, data.length, true);
            store().storedBlocks(disk); // small writes are journaled: this maps them
            assertThat(fixture.blockFiles()).hasSize(1);

            // zeroing the written bytes leaves an all-zero block: its entry goes and so does its object
            device.write(BLOCK_BYTES + 5000, new byte[1000], 0, 1000, true);
            store().storedBlocks(disk);
            assertThat(store().info(disk).storedBlocks()).isZero();
            assertThat(fixture.blockFiles()).isEmpty();

            device.write(2 * BLOCK_BYTES, data, 0, data.length, true);
            device.trim(2 * BLOCK_BYTES - 100, BLOCK_BYTES + 200);
            device.flush();
            assertThat(fixture.blockFiles()).isEmpty();
            assertThat(read(device, 0, 4 * BLOCK_BYTES)).containsOnly(0);
        }
    }

    @Test
    void trimZeroesPartialBlocksAndDropsWholeOnes() {
        String disk = store().create(16 * MIB, DiskSource.empty());
        byte[] data = pattern(4, 3 * BLOCK_BYTES);
        try (BlockDevice device = store().open(disk)) {
            device.write(0, data, 0, data.length, true);
            device.trim(BLOCK_BYTES - 512, BLOCK_BYTES + 1024);
            byte[] expected = data.clone();
            java.util.Arrays.fill(expected, BLOCK_BYTES - 512, 2 * BLOCK_BYTES + 512, (byte) 0);
            assertThat(read(device, 0, data.length)).isEqualTo(expected);
            device.flush();
            assertThat(store().info(disk).storedBlocks()).isEqualTo(2);
            assertThat(read(device, 0, data.length)).isEqualTo(expected);
        }
    }

    @Test
    void aCopySharesTheSourceObjectsAndWritesOnlyUnderItsOwnFreshKey() throws IOException {
        String source = store().create(20 * MIB, DiskSource.empty());
        byte[] data = pattern(5, 3 * BLOCK_BYTES);
        write(source, 0, data);
        List<Path> sourceFiles = fixture.blockFiles();
        assertThat(sourceFiles).hasSize(3);

        String copy = store().create(24 * MIB, DiskSource.copyOf(source));
        assertThat(fixture.blockFiles()).as("nothing copied or re-encrypted").hasSize(3);
        UUID sourceKey = fixture.keys.keyOf(source);
        UUID copyKey = fixture.keys.keyOf(copy);
        assertThat(copyKey).isNotEqualTo(sourceKey);
        assertThat(store().info(copy).dataKeyIds()).containsExactly(sourceKey);
        assertThat(store().info(copy).writeKeyId()).contains(copyKey);

        byte[] patch = pattern(6, 100);
        try (BlockDevice device = store().open(copy)) {
            assertThat(read(device, 0, data.length)).isEqualTo(data);
            assertThat(read(device, 20 * MIB, 4 * (int) MIB)).containsOnly(0);
            device.write(10, patch, 0, patch.length, true);
        }
        store().storedBlocks(copy); // maps the journaled write
        Set<Path> newFiles = new HashSet<>(fixture.blockFiles());
        sourceFiles.forEach(newFiles::remove);
        assertThat(newFiles).hasSize(1);
        BlockFormat.Header header = BlockFormat.header(Files.readAllBytes(newFiles.iterator().next()));
        assertThat(header.keyId()).isEqualTo(copyKey);
        assertThat(store().info(copy).dataKeyIds()).containsExactlyInAnyOrder(sourceKey, copyKey);
        for (Path file : sourceFiles) {
            assertThat(BlockFormat.header(Files.readAllBytes(file)).keyId()).isEqualTo(sourceKey);
        }

        // the source is untouched, and deleting it leaves the copy whole
        assertThat(read(source, 0, data.length)).isEqualTo(data);
        store().delete(source);
        assertThat(store().reclaim()).isZero();
        byte[] expected = data.clone();
        System.arraycopy(patch, 0, expected, 10, patch.length);
        fixture.reopen();
        assertThat(read(copy, 0, data.length)).isEqualTo(expected);
    }

    @Test
    void aCopyOfAnOpenDiskIncludesItsAcknowledgedWrites() {
        String source = store().create(8 * MIB, DiskSource.empty());
        byte[] data = pattern(7, 5000);
        try (BlockDevice device = store().open(source)) {
            device.write(100, data, 0, data.length, false);
            String copy = store().create(8 * MIB, DiskSource.copyOf(source));
            assertThat(read(copy, 100, data.length)).isEqualTo(data);
            String snapshot = store().snapshot(source);
            assertThat(read(store().create(8 * MIB, DiskSource.copyOf(snapshot)), 100, data.length)).isEqualTo(data);
        }
    }

    @Test
    void snapshotsAreFrozenAndChangedBlocksComparesThem() {
        String disk = store().create(40 * MIB, DiskSource.empty());
        write(disk, 0, pattern(8, 8 * BLOCK_BYTES));
        String before = store().snapshot(disk);
        assertThat(store().info(before).snapshot()).isTrue();
        assertThat(store().info(before).writeKeyId()).isEmpty();

        try (BlockDevice device = store().open(disk)) {
            device.write(2L * BLOCK_BYTES + 17, new byte[] {1}, 0, 1, false);
            device.write(5L * BLOCK_BYTES - 1, new byte[] {1, 2}, 0, 2, false); // blocks 4 and 5
            device.trim(7L * BLOCK_BYTES, BLOCK_BYTES);
            device.write(9L * BLOCK_BYTES, new byte[] {9}, 0, 1, false);
        }
        String after = store().snapshot(disk);
        assertThat(store().changedBlocks(before, after)).containsExactly(2, 4, 5, 7, 9);
        assertThat(store().changedBlocks(after, before)).containsExactly(2, 4, 5, 7, 9);
        assertThat(store().changedBlocks(after, disk)).isEmpty();
        assertThat(store().changedBlocks(before, before)).isEmpty();

        // the first snapshot still holds the old content
        String restored = store().create(40 * MIB, DiskSource.copyOf(before));
        assertThat(read(restored, 0, 8 * BLOCK_BYTES)).isEqualTo(pattern(8, 8 * BLOCK_BYTES));
        assertThat(store().changedBlocks(before, restored)).isEmpty();
    }

    @Test
    void objectsHeldBySnapshotsSurviveOverwritesAndGoWithTheLastReference() {
        String disk = store().create(16 * MIB, DiskSource.empty());
        write(disk, 0, pattern(9, 2 * BLOCK_BYTES));
        String snapshot = store().snapshot(disk);
        write(disk, 0, pattern(10, 2 * BLOCK_BYTES));
        assertThat(fixture.blockFiles()).as("old objects kept for the snapshot").hasSize(4);
        assertThat(store().reclaim()).isZero();

        store().delete(snapshot);
        assertThat(fixture.blockFiles()).hasSize(2);
        assertThatThrownBy(() -> store().info(snapshot)).isInstanceOfSatisfying(ArmException.class,
                e -> assertThat(e.code()).isEqualTo("DiskNotFound"));
        store().delete(disk);
        assertThat(fixture.blockFiles()).isEmpty();
    }

    @Test
    void reclaimDeletesLeftoversOfCrashedWritesButNotInFlightOnes() throws IOException {
        DiskMetadata metadata = new DiskMetadata(fixture().metadata);
        String crashed = BlockRef.blobKey(UUID.randomUUID());
        String inFlight = BlockRef.blobKey(UUID.randomUUID());
        long now = fixture.wallClock.get();
        metadata.registerObjects(List.of(crashed), now - DefaultDiskStore.DEFAULTS.uncommittedGraceMillis() - 1);
        metadata.registerObjects(List.of(inFlight), now);
        fixture.blobs.put(crashed, new byte[] {1});
        fixture.blobs.put(inFlight, new byte[] {2});
        // a blob whose registry row an interrupted reclaim already removed
        String orphan = BlockRef.blobKey(UUID.randomUUID());
        fixture.blobs.put(orphan, new byte[] {3});

        assertThat(store().reclaim()).isEqualTo(2);
        assertThat(fixture.blobs.exists(crashed)).isFalse();
        assertThat(fixture.blobs.exists(orphan)).isFalse();
        assertThat(fixture.blobs.exists(inFlight)).isTrue();
        assertThat(metadata.isRegistered(inFlight)).isTrue();

        fixture.wallClock.addAndGet(DefaultDiskStore.DEFAULTS.uncommittedGraceMillis() + 1);
        assertThat(store().reclaim()).isEqualTo(1);
        assertThat(fixture.blockFiles()).isEmpty();
    }

    @Test
    void aDisabledKeyStopsReadsAndFlushesWithAClearErrorAndLosesNothing() {
        String disk = store().create(8 * MIB, DiskSource.empty());
        byte[] data = pattern(11, 4000);
        write(disk, 0, data);
        UUID key = fixture.keys.keyOf(disk);
        try (BlockDevice device = store().open(disk)) {
            assertThat(read(device, 0, data.length)).isEqualTo(data); // now cached: the ring is still asked
            fixture.keys.disable(key);
            assertKeyUnavailable(() -> read(device, 0, 10));
            device.write(BLOCK_BYTES, data, 0, data.length, false);
            assertKeyUnavailable(device::flush);
            fixture.keys.enable(key);
            device.flush();
            assertThat(read(device, BLOCK_BYTES, data.length)).isEqualTo(data);
        }
    }

    @Test
    void badInputGetsStableCodes() {
        assertCode(() -> store().create(1000, DiskSource.empty()), 400, "InvalidDiskSize");
        assertCode(() -> store().create(0, DiskSource.empty()), 400, "InvalidDiskSize");
        assertCode(() -> store().create(512, DiskSource.copyOf("nope")), 404, "DiskNotFound");
        String disk = store().create(8 * MIB, DiskSource.empty());
        assertCode(() -> store().create(4 * MIB, DiskSource.copyOf(disk)), 400, "InvalidDiskSize");
        assertCode(() -> store().open("nope"), 404, "DiskNotFound");
        assertCode(() -> store().sizeBytes("nope"), 404, "DiskNotFound");
        assertCode(() -> store().open(store().snapshot(disk)), 409, "NotADisk");
        assertCode(() -> store().changedBlocks(disk, "nope"), 404, "DiskNotFound");
        assertCode(() -> store().snapshot(List.of(disk, disk)), 400, "InvalidSnapshotRequest");
        try (BlockDevice device = store().open(disk)) {
            byte[] buffer = new byte[1024];
            assertCode(() -> device.read(8 * MIB - 1023, buffer, 0, 1024), 400, "InvalidRange");
            assertCode(() -> device.read(-1, buffer, 0, 1), 400, "InvalidRange");
            assertCode(() -> device.write(8 * MIB, buffer, 0, 1, false), 400, "InvalidRange");
            assertCode(() -> device.write(Long.MAX_VALUE, buffer, 0, 1, false), 400, "InvalidRange");
            assertCode(() -> device.trim(4 * MIB, Long.MAX_VALUE), 400, "InvalidRange");
            assertCode(() -> store().delete(disk), 409, "DiskInUse");
            device.read(8 * MIB - 1024, buffer, 0, 1024); // the last bytes are fine
        }
        assertThat(fixture.blockFiles()).isEmpty();
        store().delete(disk);
        assertCode(() -> store().delete(disk), 404, "DiskNotFound");
    }

    @Test
    void devicesLeftIdleByTheirLastHolderStayExactThroughReopeningEvictionAndDelete() {
        List<String> disks = new ArrayList<>();
        for (int i = 0; i < DefaultDiskStore.IDLE_DEVICES + 4; i++) {
            String disk = store().create(8 * MIB, DiskSource.empty());
            disks.add(disk);
            for (int request = 0; request < 2; request++) { // one open per request, as the data endpoint does
                byte[] page = pattern(100 + 2 * i + request, 4096);
                try (BlockDevice device = store().open(disk)) {
                    device.write(request * BLOCK_BYTES, page, 0, page.length, false);
                }
            }
        }
        for (int i = 0; i < disks.size(); i++) {
            // the first disks were evicted and reload their map; the last ones are still idle
            assertThat(read(disks.get(i), 0, 4096)).isEqualTo(pattern(100 + 2 * i, 4096));
            assertThat(read(disks.get(i), BLOCK_BYTES, 4096)).isEqualTo(pattern(101 + 2 * i, 4096));
        }
        String last = disks.get(disks.size() - 1);
        store().delete(last);
        assertCode(() -> store().open(last), 404, "DiskNotFound");
    }

    @Test
    void aClosedDeviceRefusesUseButOthersOnTheSameDiskGoOn() {
        String disk = store().create(8 * MIB, DiskSource.empty());
        BlockDevice first = store().open(disk);
        BlockDevice second = store().open(disk);
        byte[] data = pattern(12, 100);
        first.write(0, data, 0, data.length, false);
        assertThat(read(second, 0, data.length)).as("one buffer per disk").isEqualTo(data);
        first.close();
        first.close();
        assertThatThrownBy(() -> first.flush()).isInstanceOf(IllegalStateException.class);
        second.write(200, data, 0, data.length, false);
        second.close();
        assertThat(read(disk, 200, data.length)).isEqualTo(data);
    }

    @Test
    void aSnapshotOfSeveralDisksCatchesThemAtOneInstant() throws Exception {
        String x = store().create(8 * MIB, DiskSource.empty());
        String y = store().create(8 * MIB, DiskSource.empty());
        // the writer writes generation g to x, then to y: at any instant y <= x <= y + 1
        try (BlockDevice dx = store().open(x); BlockDevice dy = store().open(y)) {
            Thread writer = new Thread(() -> {
                for (long g = 1; !Thread.currentThread().isInterrupted(); g++) {
                    byte[] value = java.nio.ByteBuffer.allocate(8).putLong(g).array();
                    dx.write(0, value, 0, 8, false);
                    dy.write(0, value, 0, 8, false);
                }
            });
            writer.start();
            List<long[]> seen = new ArrayList<>();
            try {
                for (int i = 0; i < 6; i++) {
                    List<String> pair = store().snapshot(List.of(x, y));
                    seen.add(new long[] {generation(pair.get(0)), generation(pair.get(1))});
                }
            } finally {
                writer.interrupt();
                writer.join();
            }
            for (long[] pair : seen) {
                assertThat(pair[0] - pair[1]).as("x=%d y=%d", pair[0], pair[1]).isBetween(0L, 1L);
            }
            assertThat(seen.get(seen.size() - 1)[0]).isPositive();
        }
    }

    private long generation(String snapshot) {
        String copy = store().create(8 * MIB, DiskSource.copyOf(snapshot));
        long value = java.nio.ByteBuffer.wrap(read(copy, 0, 8)).getLong();
        store().delete(copy);
        return value;
    }

    private DiskFixture fixture() {
        store();
        return fixture;
    }

    private void write(String disk, long offset, byte[] data) {
        try (BlockDevice device = store().open(disk)) {
            device.write(offset, data, 0, data.length, false);
        }
    }

    private byte[] read(String disk, long offset, int length) {
        try (BlockDevice device = store().open(disk)) {
            return read(device, offset, length);
        }
    }

    static byte[] read(BlockDevice device, long offset, int length) {
        byte[] target = new byte[length];
        device.read(offset, target, 0, length);
        return target;
    }

    static byte[] pattern(long seed, int length) {
        byte[] bytes = new byte[length];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    private static void assertKeyUnavailable(ThrowingCallable call) {
        assertThatThrownBy(call).isInstanceOfSatisfying(DiskKeyUnavailableException.class,
                e -> assertThat(e.code()).isEqualTo("DiskKeyUnavailable"));
    }

    private static void assertCode(ThrowingCallable call, int status, String code) {
        assertThatThrownBy(call).isInstanceOfSatisfying(ArmException.class, e -> {
            assertThat(e.code()).isEqualTo(code);
            assertThat(e.status()).isEqualTo(status);
        });
    }
}
