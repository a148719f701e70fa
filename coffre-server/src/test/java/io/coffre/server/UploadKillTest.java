package io.coffre.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGKILLs the server (a process of its own) in the middle of a direct upload, three times, and checks after each
 * restart what the disk holds: every page write the server acknowledged (201) is there, unless a later acknowledged
 * write replaced it; a write in flight at the kill is there entirely or not at all (never torn, within or across
 * 4 MiB blocks); nothing else changed.
 *
 * <p>Page writes are 512 B to 4 MiB at random 512-aligned offsets, several in flight. Writes in flight at one time
 * never overlap (the writers hold the ranges they write), so the writes covering any sector are ordered and each
 * sector has exactly one "latest acknowledged" write. Every sector written carries its write's number, its own
 * index and bytes derived from both, so a read-back sector names the write it came from.
 */
class UploadKillTest {
    private static final int SECTOR = 512;
    private static final long DISK_BYTES = 64L << 20;
    private static final int SECTORS = (int) (DISK_BYTES / SECTOR);
    private static final int WRITERS = 4;
    private static final int KILLS = 3;
    private static final int[] SIZES = {SECTOR, 4 << 10, 64 << 10, 1 << 20, 4 << 20};

    @TempDir
    Path dataDir;

    /** One page write: sectors {@code [first, first + count)}; {@code ackOrder} is set once the server said 201. */
    private static final class PageWrite {
        final long seq;
        final int first;
        final int count;
        volatile long ackOrder = -1;

        PageWrite(long seq, int first, int count) {
            this.seq = seq;
            this.first = first;
            this.count = count;
        }

        boolean overlaps(PageWrite other) {
            return first < other.first + other.count && other.first < first + count;
        }
    }

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void acknowledgedPageWritesSurviveKillsAndNoWriteIsTorn() throws Exception {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        String context = "seed " + seed;
        int port = FreePort.find("127.0.0.1");
        long[] state = new long[SECTORS]; // the write each sector holds now (0: never written, zeros)
        AtomicLong seqs = new AtomicLong();
        ServerProcess server = ServerProcess.start(dataDir, port);
        try {
            String sas = createUploadDisk(server);
            for (int kill = 1; kill <= KILLS; kill++) {
                String round = context + ", kill " + kill;
                Round writes = new Round(server, sas, seqs, random.nextLong());
                writes.start();
                writes.awaitAcknowledged(10 + random.nextInt(30), round);
                Thread.sleep(random.nextInt(50)); // lands the kill at a random point of the writes in flight
                writes.killed = true;
                server.kill();
                writes.join();
                assertThat(writes.failures).as(round + ": failures before the kill").isEmpty();

                server = ServerProcess.start(dataDir, port);
                byte[] disk = download(server, sas);
                state = check(disk, state, writes.all, round);
            }
        } finally {
            server.close();
        }
    }

    /** Checks the read-back disk against the round's writes; returns what each sector holds now. */
    private static long[] check(byte[] disk, long[] before, List<PageWrite> writes, String context) {
        long[] expected = before.clone();
        List<PageWrite> acked = new ArrayList<>(writes.stream().filter(w -> w.ackOrder >= 0).toList());
        acked.sort((a, b) -> Long.compare(a.ackOrder, b.ackOrder));
        for (PageWrite w : acked) {
            for (int s = w.first; s < w.first + w.count; s++) {
                expected[s] = w.seq;
            }
        }
        Map<Integer, PageWrite> unackedAt = new HashMap<>();
        for (PageWrite w : writes) {
            if (w.ackOrder < 0) {
                for (int s = w.first; s < w.first + w.count; s++) {
                    assertThat(unackedAt.put(s, w)).as(context + ": two writes in flight overlap").isNull();
                }
            }
        }
        long[] now = new long[SECTORS];
        Map<PageWrite, Integer> newSectors = new HashMap<>();
        for (int s = 0; s < SECTORS; s++) {
            long held = sectorWrite(disk, s, context);
            PageWrite inFlight = unackedAt.get(s);
            if (inFlight != null && held == inFlight.seq) {
                newSectors.merge(inFlight, 1, Integer::sum);
            } else {
                assertThat(held).as("%s: sector %d (block %d) lost an acknowledged write or changed without one",
                        context, s, (long) s * SECTOR / (4 << 20)).isEqualTo(expected[s]);
            }
            now[s] = held;
        }
        newSectors.forEach((w, n) -> assertThat(n).as("%s: write %d (sectors %d+%d) in flight at the kill is torn",
                context, w.seq, w.first, w.count).isEqualTo(w.count));
        return now;
    }

    /** The write a read-back sector came from (0 for a sector never written); fails on any other content. */
    private static long sectorWrite(byte[] disk, int sector, String context) {
        ByteBuffer in = ByteBuffer.wrap(disk, sector * SECTOR, SECTOR);
        long seq = in.getLong();
        byte[] actual = new byte[SECTOR];
        System.arraycopy(disk, sector * SECTOR, actual, 0, SECTOR);
        byte[] wanted = seq == 0 ? new byte[SECTOR] : sectorContent(seq, sector);
        assertThat(actual).as("%s: sector %d holds neither zeros nor a whole sector of write %d", context, sector, seq)
                .isEqualTo(wanted);
        return seq;
    }

    static byte[] sectorContent(long seq, int sector) {
        ByteBuffer out = ByteBuffer.allocate(SECTOR).putLong(seq).putLong(sector);
        SplittableRandom bytes = new SplittableRandom(seq * 0x9E3779B97F4A7C15L + sector);
        while (out.hasRemaining()) {
            out.putLong(bytes.nextLong());
        }
        return out.array();
    }

    private static String createUploadDisk(ServerProcess server) throws Exception {
        String group = "/subscriptions/" + server.subscriptionId() + "/resourceGroups/rg1";
        server.arm("PUT", group + "?api-version=2021-04-01", "{\"location\":\"uaenorth\"}", 201);
        String disk = group + "/providers/Microsoft.Compute/disks/upload";
        server.arm("PUT", disk + DiskRoutesTest.V, DiskRoutesTest.upload(DISK_BYTES), 201);
        return server.grantAccess(disk, "Write");
    }

    /** The whole disk, read with the upload's own access URL (a write grant also reads, as an rw SAS does). */
    private static byte[] download(ServerProcess server, String sas) throws Exception {
        HttpResponse<byte[]> r = server.http().send(HttpRequest.newBuilder(URI.create(sas))
                .timeout(Duration.ofMinutes(2)).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).hasSize((int) DISK_BYTES);
        return r.body();
    }

    /** Writers sending page writes until the server dies. */
    private static final class Round {
        final List<PageWrite> all = Collections.synchronizedList(new ArrayList<>());
        final List<String> failures = Collections.synchronizedList(new ArrayList<>());
        final List<PageWrite> inFlight = new ArrayList<>();
        final List<Thread> threads = new ArrayList<>();
        final ServerProcess server;
        final String sas;
        final AtomicLong seqs;
        final AtomicLong acks = new AtomicLong();
        final long seed;
        volatile boolean killed;

        Round(ServerProcess server, String sas, AtomicLong seqs, long seed) {
            this.server = server;
            this.sas = sas;
            this.seqs = seqs;
            this.seed = seed;
        }

        void start() {
            for (int t = 0; t < WRITERS; t++) {
                Random random = new Random(seed + t);
                Thread thread = new Thread(() -> write(random), "page-writer-" + t);
                thread.setDaemon(true);
                threads.add(thread);
                thread.start();
            }
        }

        void awaitAcknowledged(int writes, String context) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
            synchronized (acks) {
                while (acks.get() < writes && failures.isEmpty() && System.nanoTime() < deadline) {
                    acks.wait(100);
                }
            }
            assertThat(failures).as(context).isEmpty();
            assertThat(acks.get()).as(context + ": acknowledged writes before the kill").isGreaterThanOrEqualTo(writes);
        }

        void join() throws InterruptedException {
            for (Thread thread : threads) {
                thread.join(TimeUnit.MINUTES.toMillis(3));
                assertThat(thread.isAlive()).as(thread.getName() + " still running after the kill").isFalse();
            }
        }

        private void write(Random random) {
            while (!killed) {
                PageWrite w = claim(random);
                byte[] body = new byte[w.count * SECTOR];
                for (int i = 0; i < w.count; i++) {
                    System.arraycopy(sectorContent(w.seq, w.first + i), 0, body, i * SECTOR, SECTOR);
                }
                long start = (long) w.first * SECTOR;
                try {
                    HttpResponse<String> r = server.http().send(HttpRequest.newBuilder(URI.create(sas))
                            .timeout(Duration.ofMinutes(2))
                            .header("x-ms-range", "bytes=" + start + "-" + (start + body.length - 1))
                            .header("x-ms-page-write", "update")
                            .PUT(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                            HttpResponse.BodyHandlers.ofString());
                    if (r.statusCode() != 201) {
                        if (!killed) {
                            failures.add("write " + w.seq + " -> " + r.statusCode() + " " + r.body());
                        }
                        return;
                    }
                    synchronized (acks) {
                        w.ackOrder = acks.getAndIncrement();
                        acks.notifyAll();
                    }
                    release(w);
                } catch (Exception e) {
                    if (!killed) {
                        failures.add("write " + w.seq + " failed before the kill: " + e);
                    }
                    return; // in flight at the kill: it stays claimed, so no later write overlaps it
                }
            }
        }

        /** A random write whose range no other write in flight touches. */
        private PageWrite claim(Random random) {
            synchronized (inFlight) {
                while (true) {
                    int size = SIZES[random.nextInt(SIZES.length)];
                    int count = Math.max(1, size / SECTOR - random.nextInt(2) * random.nextInt(Math.max(1,
                            size / SECTOR / 2)));
                    int first = random.nextInt(SECTORS - count + 1);
                    PageWrite w = new PageWrite(seqs.incrementAndGet(), first, count);
                    if (inFlight.stream().noneMatch(w::overlaps)) {
                        inFlight.add(w);
                        all.add(w);
                        return w;
                    }
                }
            }
        }

        private void release(PageWrite w) {
            synchronized (inFlight) {
                inFlight.remove(w);
            }
        }
    }
}
