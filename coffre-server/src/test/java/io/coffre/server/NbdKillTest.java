package io.coffre.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.coffre.compute.nbd.NbdClient;
import io.coffre.json.Json;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGKILLs the server (a process of its own) while guests write a running confidential VM's data disk over NBD,
 * twice, and checks after each restart (the VM runs again, its export back) that every write made durable — by a
 * FLUSH that completed, or by FUA — is there unless a later write replaced it; that a write never made durable left
 * each sector either as it was or as some later write of that sector made it; and that every sector is whole.
 *
 * <p>Each writer owns a region of the disk and writes it in order on its own connection, so the writes of a sector
 * are ordered by their sequence numbers. A written sector carries its write's number and its own index, and bytes
 * derived from both ({@link UploadKillTest#sectorContent}), so a read-back sector names the write it came from.
 */
class NbdKillTest {
    private static final int SECTOR = 512;
    private static final int WRITERS = 3;
    private static final int REGION_SECTORS = (16 << 20) / SECTOR;
    private static final int KILLS = 2;
    private static final int[] SIZES = {SECTOR, 4 << 10, 64 << 10, 256 << 10, 1 << 20};
    private static final String VM = "/resourceGroups/rg1/providers/Microsoft.Compute/virtualMachines/vm1";
    private static final String V = "?api-version=2026-04-01";
    private static final String EXPORT = "rg1/vm1/lun0";

    @TempDir
    Path dataDir;

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void flushedWritesSurviveKillsAndUnflushedOnesAreWholeSectorsOfLaterWrites() throws Exception {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        int port = FreePort.find("127.0.0.1");
        AtomicLong sequence = new AtomicLong();
        long[] durable = new long[WRITERS * REGION_SECTORS]; // the write each sector must hold, at least
        ServerProcess server = ServerProcess.start(dataDir, port);
        try {
            createVm(server);
            for (int kill = 1; kill <= KILLS; kill++) {
                String round = "seed " + seed + ", kill " + kill;
                List<Writer> writers = new ArrayList<>();
                AtomicInteger flushes = new AtomicInteger();
                for (int w = 0; w < WRITERS; w++) {
                    writers.add(new Writer(w, nbd(), sequence, random.nextLong(), flushes));
                }
                writers.forEach(Thread::start);
                long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
                int wanted = 6 + random.nextInt(10);
                while (flushes.get() < wanted && writers.stream().allMatch(Thread::isAlive)) {
                    assertThat(System.nanoTime()).as(round + ": writers too slow").isLessThan(deadline);
                    Thread.sleep(10);
                }
                Thread.sleep(random.nextInt(40)); // lands the kill at a random point of the writes in flight
                writers.forEach(w -> w.killed = true);
                server.kill();
                for (Writer w : writers) {
                    w.join();
                    assertThat(w.failure).as(round + ": writer " + w.index + " failed before the kill").isNull();
                }

                server = ServerProcess.start(dataDir, port);
                byte[] disk = readRegions(nbd());
                check(disk, durable, writers, round);
            }
        } finally {
            server.close();
        }
    }

    /** Checks the disk against what each writer made durable; raises {@code durable} to what it holds now. */
    private static void check(byte[] disk, long[] durable, List<Writer> writers, String round) {
        for (Writer w : writers) {
            for (int i = 0; i < REGION_SECTORS; i++) {
                int sector = w.index * REGION_SECTORS + i;
                long held = sectorWrite(disk, sector, round);
                long mustHold = Math.max(durable[sector], w.durableAt[i]);
                boolean allowed = held == mustHold || (held > mustHold && w.wroteSector(held, i));
                assertThat(allowed).as("%s: sector %d holds write %d, but write %d was durable (flushed) and no "
                        + "later write of this sector is %d", round, sector, held, mustHold, held).isTrue();
                durable[sector] = held;
            }
        }
    }

    /** The write a read-back sector came from (0: never written); fails on any other content. */
    private static long sectorWrite(byte[] disk, int sector, String round) {
        long seq = ByteBuffer.wrap(disk, sector * SECTOR, SECTOR).getLong();
        byte[] actual = new byte[SECTOR];
        System.arraycopy(disk, sector * SECTOR, actual, 0, SECTOR);
        byte[] wanted = seq == 0 ? new byte[SECTOR] : UploadKillTest.sectorContent(seq, sector);
        assertThat(actual).as("%s: sector %d holds neither zeros nor a whole sector of write %d", round, sector, seq)
                .isEqualTo(wanted);
        return seq;
    }

    /** One guest writing its region over its own NBD connection, flushing now and then. */
    private static final class Writer extends Thread {
        final int index;
        private final NbdClient nbd;
        private final AtomicLong sequence;
        private final Random random;
        private final AtomicInteger flushes;
        /** Per sector of the region: the write it holds once every completed flush is counted. */
        final long[] durableAt = new long[REGION_SECTORS];
        /** Per sector: every write of it since the last completed flush (acknowledged or in flight). */
        private final List<List<Long>> pending = new ArrayList<>();
        volatile boolean killed;
        volatile Throwable failure;

        Writer(int index, NbdClient nbd, AtomicLong sequence, long seed, AtomicInteger flushes) {
            super("nbd-writer-" + index);
            this.index = index;
            this.nbd = nbd;
            this.sequence = sequence;
            this.random = new Random(seed);
            this.flushes = flushes;
            for (int i = 0; i < REGION_SECTORS; i++) {
                pending.add(new ArrayList<>());
            }
        }

        boolean wroteSector(long seq, int sector) {
            return pending.get(sector).contains(seq);
        }

        @Override
        public void run() {
            try (nbd) {
                while (!killed) {
                    int writes = 1 + random.nextInt(8);
                    for (int n = 0; n < writes && !killed; n++) {
                        int count = Math.min(SIZES[random.nextInt(SIZES.length)] / SECTOR, REGION_SECTORS);
                        int first = random.nextInt(REGION_SECTORS - count + 1);
                        long seq = sequence.incrementAndGet();
                        byte[] data = new byte[count * SECTOR];
                        for (int s = 0; s < count; s++) {
                            System.arraycopy(UploadKillTest.sectorContent(seq, index * REGION_SECTORS + first + s), 0,
                                    data, s * SECTOR, SECTOR);
                            pending.get(first + s).add(seq);
                        }
                        boolean fua = random.nextInt(10) == 0;
                        nbd.write((long) (index * REGION_SECTORS + first) * SECTOR, data, 0, data.length, fua);
                        if (fua) {
                            // durable on its own: earlier unflushed writes of these sectors can no longer show
                            for (int s = first; s < first + count; s++) {
                                durableAt[s] = seq;
                                pending.get(s).clear();
                            }
                        }
                    }
                    if (killed) {
                        break;
                    }
                    nbd.flush();
                    for (int s = 0; s < REGION_SECTORS; s++) {
                        List<Long> seqs = pending.get(s);
                        if (!seqs.isEmpty()) {
                            durableAt[s] = seqs.get(seqs.size() - 1);
                            seqs.clear();
                        }
                    }
                    flushes.incrementAndGet();
                }
            } catch (IOException | RuntimeException e) {
                if (!killed) {
                    failure = e;
                }
            }
        }
    }

    private NbdClient nbd() throws Exception {
        // the restarted server resumes the running VM; its NBD port is new (server.json names it)
        JsonNode info = Json.parse(Files.readString(dataDir.resolve(ServerInfoFile.FILE)));
        return NbdClient.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), info.path("nbdPort").asInt()),
                EXPORT);
    }

    private static byte[] readRegions(NbdClient nbd) throws IOException {
        byte[] disk = new byte[WRITERS * REGION_SECTORS * SECTOR];
        try (nbd) {
            for (int offset = 0; offset < disk.length; offset += 4 << 20) {
                nbd.read(offset, disk, offset, Math.min(4 << 20, disk.length - offset));
            }
        }
        return disk;
    }

    private static void createVm(ServerProcess server) throws Exception {
        String subscription = "/subscriptions/" + server.subscriptionId();
        server.arm("PUT", subscription + "/resourceGroups/rg1?api-version=2021-04-01", "{\"location\":\"uaenorth\"}",
                201);
        String body = "{\"location\":\"uaenorth\",\"properties\":{"
                + "\"hardwareProfile\":{\"vmSize\":\"Standard_DC2as_v6\"},"
                + "\"securityProfile\":{\"securityType\":\"ConfidentialVM\","
                + "\"uefiSettings\":{\"secureBootEnabled\":true,\"vTpmEnabled\":true}},"
                + "\"storageProfile\":{\"osDisk\":{\"createOption\":\"FromImage\",\"managedDisk\":{"
                + "\"securityProfile\":{\"securityEncryptionType\":\"DiskWithVMGuestState\"}}},"
                + "\"dataDisks\":[{\"lun\":0,\"createOption\":\"Empty\",\"diskSizeGB\":1}]}}}";
        String status = server.arm("PUT", subscription + VM + V, body, 201).headers()
                .firstValue("Azure-AsyncOperation").orElseThrow();
        for (int i = 0; i < 1200; i++) {
            String state = Json.parse(server.send("GET", URI.create(status), null, 200).body()).path("status").asText();
            if (state.equals("Succeeded")) {
                return;
            }
            assertThat(state).as("the VM's create operation").isEqualTo("InProgress");
            Thread.sleep(50);
        }
        throw new AssertionError("the VM was not created in time");
    }
}
