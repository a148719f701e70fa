package io.coffre.compute.disk;

import static io.coffre.compute.disk.BlockFormat.BLOCK_BYTES;
import static io.coffre.compute.disk.DiskStoreTest.pattern;
import static io.coffre.compute.disk.DiskStoreTest.read;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reclaim running flat out while a disk is written and flushed and its snapshots are taken, copied, read and
 * deleted: no read may ever miss an object, and at the end exactly the objects the maps refer to remain.
 */
class ReclaimRaceTest {
    private static final long SIZE = 4L * BLOCK_BYTES;

    @TempDir
    Path dir;

    @Test
    @Timeout(120)
    void reclaimNeverTakesAnObjectSomethingStillNeeds() throws Exception {
        try (DiskFixture fixture = new DiskFixture(dir)) {
            DiskStore store = fixture.store;
            String disk = store.create(SIZE, DiskSource.empty());
            byte[] model = new byte[(int) SIZE];
            AtomicBoolean writing = new AtomicBoolean(true);
            ExecutorService pool = Executors.newFixedThreadPool(3);
            try (BlockDevice device = store.open(disk)) {
                Future<?> writer = pool.submit(() -> {
                    Random random = new Random(50);
                    try {
                        for (int i = 0; i < 24; i++) {
                            int offset = random.nextInt((int) SIZE - 1);
                            int length = 1 + random.nextInt(Math.min(1 << 20, (int) SIZE - offset));
                            byte[] data = random.nextInt(5) == 0 ? new byte[length] : pattern(i, length);
                            device.write(offset, data, 0, length, random.nextInt(4) == 0);
                            System.arraycopy(data, 0, model, offset, length);
                            if (i % 3 == 0) {
                                device.flush();
                            }
                        }
                    } finally {
                        writing.set(false);
                    }
                    return null;
                });
                Future<Integer> snapshotter = pool.submit(() -> {
                    int rounds = 0;
                    while (writing.get()) {
                        String snapshot = store.snapshot(disk);
                        String copy = store.create(SIZE, DiskSource.copyOf(snapshot));
                        if (rounds % 2 == 0) {
                            store.delete(snapshot);
                        }
                        try (BlockDevice copied = store.open(copy)) {
                            read(copied, 0, (int) SIZE); // every object it maps must still be there and whole
                        }
                        store.delete(copy);
                        if (rounds % 2 == 1) {
                            store.delete(snapshot);
                        }
                        rounds++;
                    }
                    return rounds;
                });
                Future<Integer> reclaimer = pool.submit(() -> {
                    int sweeps = 0;
                    while (writing.get()) {
                        store.reclaim();
                        sweeps++;
                        Thread.sleep(5);
                    }
                    return sweeps;
                });
                writer.get(100, TimeUnit.SECONDS);
                assertThat(snapshotter.get(10, TimeUnit.SECONDS)).isPositive();
                assertThat(reclaimer.get(10, TimeUnit.SECONDS)).isPositive();
                assertThat(read(device, 0, (int) SIZE)).isEqualTo(model);
            } finally {
                pool.shutdownNow();
            }

            fixture.wallClock.addAndGet(DefaultDiskStore.DEFAULTS.uncommittedGraceMillis() + 1);
            store.reclaim();
            Set<String> stored = new HashSet<>();
            fixture.blobs.list(BlockRef.PREFIX, stored::add);
            Set<String> referenced = new HashSet<>(fixture.metadata.withHandle(h -> h.createQuery(
                    "SELECT DISTINCT blob_key FROM disk_blocks").mapTo(String.class).list()));
            assertThat(stored).isEqualTo(referenced);
            long maps = fixture.metadata.withHandle(h -> h.createQuery("SELECT count(*) FROM disk_maps")
                    .mapTo(Long.class).one());
            assertThat(maps).as("only the disk is left").isEqualTo(1);
        }
    }
}
