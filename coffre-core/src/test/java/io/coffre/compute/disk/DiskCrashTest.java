package io.coffre.compute.disk;

import static io.coffre.compute.disk.CrashRecords.RECORD_BYTES;
import static io.coffre.compute.disk.CrashRecords.SLOTS;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills (SIGKILL, no shutdown hooks) a process writing a disk through the write-back layer, then checks what a
 * restarted process finds: every record flushed before the kill (or written with FUA) is there or overwritten by a
 * later one, no record is torn across a block boundary, every snapshot still reads, and reclaim, once the dead
 * writer's grace period is over, leaves exactly the objects the maps refer to.
 */
class DiskCrashTest {
    /** Snapshots come every 10 records and flushes every 7, so the kill finds both done and some in flight. */
    private static final int FLUSHES_BEFORE_KILL = 3;

    @TempDir
    Path dir;

    @Test
    @Timeout(60)
    void flushedWritesSurviveAKillAndNoBlockIsHalfVisible() throws Exception {
        long seed = System.nanoTime();
        String context = "seed " + seed;
        List<String> lines = runAndKill(FLUSHES_BEFORE_KILL, new Random(seed).nextInt(300));
        assertThat(lines).as(context).isNotEmpty();
        String disk = lines.get(0).split(" ")[1];
        long[] durableSeq = new long[SLOTS];
        long flushed = 0;
        for (String line : lines.subList(1, lines.size())) {
            String[] parts = line.split(" ");
            long seq = Long.parseLong(parts[1]);
            if (parts[0].equals("flushed")) {
                flushed = Math.max(flushed, seq);
            } else {
                durableSeq[(int) (seq % SLOTS)] = Math.max(durableSeq[(int) (seq % SLOTS)], seq);
            }
        }
        for (long seq = 1; seq <= flushed; seq++) {
            durableSeq[(int) (seq % SLOTS)] = Math.max(durableSeq[(int) (seq % SLOTS)], seq);
        }
        assertThat(flushed).as(context).isPositive();

        try (DiskFixture fixture = new DiskFixture(dir)) {
            checkRecords(fixture.store, disk, durableSeq, context);
            List<String> snapshots = snapshots(fixture);
            assertThat(snapshots).as(context).isNotEmpty();
            for (String snapshot : snapshots) {
                String copy = fixture.store.create(CrashRecords.DISK_BYTES, DiskSource.copyOf(snapshot));
                checkRecords(fixture.store, copy, new long[SLOTS], context + ", snapshot " + snapshot);
                fixture.store.delete(copy);
            }
            fixture.store.reclaim();
            checkRecords(fixture.store, disk, durableSeq, context + ", after reclaim");

            // the dead writer's uncommitted objects go once their grace period is over
            fixture.wallClock.addAndGet(DefaultDiskStore.DEFAULTS.uncommittedGraceMillis() + 1);
            fixture.store.reclaim();
            assertThat(storedObjects(fixture)).as(context).isEqualTo(referencedObjects(fixture));
            checkRecords(fixture.store, disk, durableSeq, context + ", after the grace period");
        }
    }

    private static void checkRecords(DiskStore store, String disk, long[] durableSeq, String context) {
        try (BlockDevice device = store.open(disk)) {
            byte[] slot = new byte[RECORD_BYTES];
            for (int s = 0; s < SLOTS; s++) {
                device.read((long) s * RECORD_BYTES, slot, 0, RECORD_BYTES);
                long seq = CrashRecords.check(s, slot);
                assertThat(seq).as("%s: slot %d is torn or foreign", context, s).isNotNegative();
                assertThat(seq).as("%s: slot %d lost a durable record", context, s)
                        .isGreaterThanOrEqualTo(durableSeq[s]);
            }
        }
    }

    private static List<String> snapshots(DiskFixture fixture) {
        return fixture.metadata.withHandle(h -> h.createQuery("SELECT map_id FROM disk_maps WHERE kind = 'SNAPSHOT'")
                .mapTo(String.class).list());
    }

    private static Set<String> storedObjects(DiskFixture fixture) {
        Set<String> keys = new HashSet<>();
        fixture.blobs.list(BlockRef.PREFIX, keys::add);
        return keys;
    }

    private static Set<String> referencedObjects(DiskFixture fixture) {
        return new HashSet<>(fixture.metadata.withHandle(h -> h.createQuery("SELECT DISTINCT blob_key FROM disk_blocks")
                .mapTo(String.class).list()));
    }

    /** Starts a writer, waits for {@code flushes} flush reports, waits {@code delayMillis} more and kills it. */
    private List<String> runAndKill(int flushes, int delayMillis)
            throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process writer = new ProcessBuilder(java, "-Xmx512m", "-cp", System.getProperty("java.class.path"),
                CrashingDiskWriter.class.getName(), dir.toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader out = new BufferedReader(new InputStreamReader(writer.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line; (line = out.readLine()) != null; ) {
                    if (line.matches("disk \\S+|(flushed|fua) \\d+")) { // logging shares stdout
                        lines.add(line);
                    }
                }
            } catch (IOException e) {
                // the pipe closes when the writer dies
            }
        });
        reader.start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (lines.stream().filter(l -> l.startsWith("flushed")).count() < flushes && writer.isAlive()
                    && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertThat(writer.isAlive()).as("the writer died before it was killed").isTrue();
            Thread.sleep(delayMillis);
        } finally {
            writer.destroyForcibly();
            writer.waitFor(10, TimeUnit.SECONDS);
        }
        reader.join(10_000);
        return new ArrayList<>(lines);
    }
}
