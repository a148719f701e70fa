package io.coffre.compute.disk;

import io.coffre.store.BlobStores;
import io.coffre.store.MetadataStore;
import io.coffre.store.MetadataStores;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * The child process of {@link DiskCrashTest}: writes {@link CrashRecords} through the write-back layer forever,
 * with flushes, FUA writes, early flushes (a two-block buffer), snapshots taken and deleted, and a concurrent
 * reclaim, until it is killed. It creates the disk and prints {@code disk ID}, then prints {@code flushed N} once
 * every record up to N is durable, and {@code fua N} once record N is.
 *
 * <p>Argument: the data directory.
 */
public final class CrashingDiskWriter {
    private CrashingDiskWriter() {
    }

    public static void main(String[] args) throws Exception {
        Path dataDir = Path.of(args[0]);
        MetadataStore metadata = MetadataStores.h2(dataDir.resolve("db"));
        DefaultDiskStore store = new DefaultDiskStore(metadata, BlobStores.fileSystem(dataDir.resolve("blobs")),
                new TestKeyRing(), new SecureRandom(), new DefaultDiskStore.Settings(DiskFixture.SMALL_BUFFER, 8,
                DefaultDiskStore.DEFAULTS.uncommittedGraceMillis(), 2, System::currentTimeMillis));
        Thread reclaimer = new Thread(() -> {
            while (true) {
                store.reclaim();
                sleep(20);
            }
        });
        reclaimer.setDaemon(true);
        reclaimer.start();
        Deque<String> snapshots = new ArrayDeque<>();
        String diskId = store.create(CrashRecords.DISK_BYTES, DiskSource.empty());
        report("disk " + diskId);
        BlockDevice device = store.open(diskId);
        for (long seq = 1; ; seq++) {
            boolean fua = seq % 11 == 0;
            device.write(CrashRecords.offset(seq), CrashRecords.record(seq), 0, CrashRecords.RECORD_BYTES, fua);
            if (fua) {
                report("fua " + seq);
            }
            if (seq % 7 == 0) {
                device.flush();
                report("flushed " + seq);
            }
            if (seq % 10 == 0) {
                snapshots.add(store.snapshot(diskId));
                if (snapshots.size() > 3) {
                    store.delete(snapshots.removeFirst());
                }
            }
        }
    }

    private static void report(String line) {
        System.out.println(line);
        System.out.flush();
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
