package io.coffre.compute.nbd;

import static org.assertj.core.api.Assertions.assertThat;

import io.coffre.compute.nbd.NbdTestClient.OptionReply;
import io.coffre.compute.nbd.NbdTestClient.Reply;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class NbdTransmissionTest {
    private static final int SIZE = 4 << 20;

    private final TestExports exports = new TestExports();
    private final MemoryBlockDevice disk = new MemoryBlockDevice(SIZE);
    private final MemoryBlockDevice golden = new MemoryBlockDevice(SIZE);
    private NbdServer server;

    @BeforeEach
    void start() {
        exports.add("disk", disk, false).add("golden", golden, true);
        server = NbdServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), exports);
    }

    @AfterEach
    void stop() {
        server.close();
        assertThat(exports.openHandles()).as("devices left open").isZero();
    }

    private NbdTestClient open(String export) throws IOException {
        return NbdTestClient.connect(server.port()).go(export);
    }

    @Test
    void writesAreReadBack() throws IOException {
        byte[] data = randomBytes(64 * 1024, 1);
        try (NbdTestClient client = open("disk")) {
            assertThat(client.call(0, Nbd.CMD_WRITE, 1 << 20, data.length, data)).isZero();
            assertThat(client.read(1 << 20, data.length)).isEqualTo(data);
            assertThat(client.read(SIZE - 512, 512)).containsOnly(0);
        }
        assertThat(Arrays.copyOfRange(disk.contents(), 1 << 20, (1 << 20) + data.length)).isEqualTo(data);
    }

    @Test
    void rangesPastTheEndAreRefusedAndTheConnectionStaysUsable() throws IOException {
        try (NbdTestClient client = open("disk")) {
            assertThat(client.call(0, Nbd.CMD_WRITE, SIZE - 512, 1024, new byte[1024])).isEqualTo(Nbd.ENOSPC);
            assertThat(client.call(0, Nbd.CMD_WRITE_ZEROES, SIZE, 512, null)).isEqualTo(Nbd.ENOSPC);
            assertThat(client.call(0, Nbd.CMD_READ, SIZE - 512, 1024, null)).isEqualTo(Nbd.EINVAL);
            assertThat(client.call(0, Nbd.CMD_READ, Long.MIN_VALUE, 512, null)).as("offset 2^63").isEqualTo(Nbd.EINVAL);
            assertThat(client.call(0, Nbd.CMD_TRIM, SIZE - 512, 1024, null)).isEqualTo(Nbd.EINVAL);
            assertThat(client.call(0, Nbd.CMD_WRITE, SIZE - 512, 512, new byte[512])).isZero();
            assertThat(client.read(0, 512)).hasSize(512);
        }
        assertThat(disk.writes.get()).isOne();
        assertThat(disk.trims.get()).isZero();
    }

    @Test
    void misalignedAndEmptyRequestsAreInvalidForAClientThatAgreedToBlockSizes() throws IOException {
        try (NbdTestClient client = open("disk")) {
            assertThat(client.call(0, Nbd.CMD_READ, 1, 512, null)).isEqualTo(Nbd.EINVAL);
            assertThat(client.call(0, Nbd.CMD_WRITE, 0, 100, new byte[100])).isEqualTo(Nbd.EINVAL);
            assertThat(client.call(0, Nbd.CMD_TRIM, 512, 1000, null)).isEqualTo(Nbd.EINVAL);
            assertThat(client.call(0, Nbd.CMD_READ, 0, 0, null)).isEqualTo(Nbd.EINVAL);
            assertThat(client.read(512, 512)).hasSize(512);
        }
        assertThat(disk.writes.get()).isZero();
    }

    @Test
    void unknownCommandsAndFlagsAreInvalid() throws IOException {
        try (NbdTestClient client = open("disk")) {
            assertThat(client.call(0, Nbd.CMD_BLOCK_STATUS, 0, 512, null)).isEqualTo(Nbd.EINVAL);
            assertThat(client.call(0, 42, 0, 512, null)).isEqualTo(Nbd.EINVAL);
            assertThat(client.call(Nbd.CMD_FLAG_NO_HOLE, Nbd.CMD_READ, 0, 512, null)).isEqualTo(Nbd.EINVAL);
            assertThat(client.call(0x04, Nbd.CMD_WRITE, 0, 512, new byte[512])).as("DF was not offered")
                    .isEqualTo(Nbd.EINVAL);
            assertThat(client.call(Nbd.CMD_FLAG_NO_HOLE, Nbd.CMD_TRIM, 0, 512, null)).isEqualTo(Nbd.EINVAL);
            // FUA is accepted on any command; CACHE is a no-op.
            client.sendRead(9, 0, 512);
            client.request(Nbd.CMD_FLAG_FUA, Nbd.CMD_READ, 9, 0, 512, null);
            assertThat(client.reply().error()).isZero();
            assertThat(client.call(0, Nbd.CMD_CACHE, 0, 4096, null)).isZero();
        }
        assertThat(disk.writes.get()).isZero();
    }

    @Test
    void requestsOver32MiBAreRefusedAndAWritesPayloadIsSkipped() throws IOException {
        MemoryBlockDevice big = new MemoryBlockDevice(40 << 20);
        exports.add("big", big, false);
        byte[] tooBig = new byte[(32 << 20) + 512];
        byte[] largest = randomBytes(32 << 20, 2);
        try (NbdTestClient client = open("big")) {
            assertThat(client.call(0, Nbd.CMD_READ, 0, tooBig.length, null)).isEqualTo(Nbd.EINVAL);
            assertThat(client.call(0, Nbd.CMD_WRITE, 0, tooBig.length, tooBig)).isEqualTo(Nbd.EINVAL);
            assertThat(client.call(0, Nbd.CMD_WRITE, 512, largest.length, largest)).isZero();
            assertThat(client.read(512, largest.length)).isEqualTo(largest);
            // No payload, so no limit: 40 MiB of zeros in one request.
            assertThat(client.call(0, Nbd.CMD_WRITE_ZEROES, 0, 40 << 20, null)).isZero();
        }
        assertThat(big.contents()).isEqualTo(new byte[40 << 20]);
    }

    @Test
    void fuaWritesAreDurableWhenAnsweredAndFlushCoversEarlierWrites() throws IOException {
        byte[] first = randomBytes(4096, 3);
        byte[] second = randomBytes(4096, 4);
        try (NbdTestClient client = open("disk")) {
            assertThat(client.call(Nbd.CMD_FLAG_FUA, Nbd.CMD_WRITE, 0, first.length, first)).isZero();
            assertThat(Arrays.copyOf(disk.durable(), 4096)).isEqualTo(first);

            assertThat(client.call(0, Nbd.CMD_WRITE, 8192, second.length, second)).isZero();
            assertThat(Arrays.copyOfRange(disk.durable(), 8192, 12288)).containsOnly(0);
            assertThat(client.call(0, Nbd.CMD_FLUSH, 0, 0, null)).isZero();
            assertThat(Arrays.copyOfRange(disk.durable(), 8192, 12288)).isEqualTo(second);
        }
        assertThat(disk.fuaWrites.get()).isOne();
    }

    @Test
    void trimAndWriteZeroesZeroTheRange() throws IOException {
        byte[] ones = new byte[SIZE];
        Arrays.fill(ones, (byte) 1);
        disk.write(0, ones, 0, SIZE, false);
        try (NbdTestClient client = open("disk")) {
            assertThat(client.call(0, Nbd.CMD_TRIM, 0, 4096, null)).isZero();
            assertThat(disk.trims.get()).isOne();
            assertThat(client.call(0, Nbd.CMD_WRITE_ZEROES, 4096, 4096, null)).as("may punch a hole").isZero();
            assertThat(disk.trims.get()).isEqualTo(2);
            int writesBefore = disk.writes.get();
            assertThat(client.call(Nbd.CMD_FLAG_NO_HOLE | Nbd.CMD_FLAG_FUA, Nbd.CMD_WRITE_ZEROES, 8192, 3 << 20, null))
                    .isZero();
            assertThat(disk.trims.get()).as("NO_HOLE writes instead of trimming").isEqualTo(2);
            assertThat(disk.writes.get() - writesBefore).isEqualTo(3);
            assertThat(Arrays.copyOfRange(disk.durable(), 8192, 8192 + (3 << 20))).as("FUA made it durable")
                    .isEqualTo(new byte[3 << 20]);
            assertThat(client.read(0, 8192 + (3 << 20))).isEqualTo(new byte[8192 + (3 << 20)]);
            assertThat(client.read(8192 + (3 << 20), 512)).containsOnly(1);
        }
    }

    @Test
    void aDisconnectFlushes() throws IOException {
        byte[] data = randomBytes(64 * 1024, 5);
        try (NbdTestClient client = open("disk")) {
            assertThat(client.call(0, Nbd.CMD_WRITE, 0, data.length, data)).isZero();
            assertThat(Arrays.copyOf(disk.durable(), data.length)).containsOnly(0);
            client.disconnect();
            assertThat(client.closedByServer()).isTrue();
        }
        await(() -> exports.released.get() == 1);
        assertThat(Arrays.copyOf(disk.durable(), data.length)).isEqualTo(data);
    }

    @Test
    void aDroppedConnectionFlushesToo() throws IOException {
        byte[] data = randomBytes(64 * 1024, 6);
        try (NbdTestClient client = open("disk")) {
            assertThat(client.call(0, Nbd.CMD_WRITE, 0, data.length, data)).isZero();
        }
        await(() -> exports.released.get() == 1);
        assertThat(Arrays.copyOf(disk.durable(), data.length)).isEqualTo(data);
    }

    @Test
    void aReadOnlyExportRefusesWritesWithEperm() throws IOException {
        byte[] content = randomBytes(SIZE, 7);
        golden.write(0, content, 0, SIZE, false);
        try (NbdTestClient client = open("golden")) {
            assertThat(client.call(0, Nbd.CMD_WRITE, 0, 4096, new byte[4096])).isEqualTo(Nbd.EPERM);
            assertThat(client.call(0, Nbd.CMD_TRIM, 0, 4096, null)).isEqualTo(Nbd.EPERM);
            assertThat(client.call(0, Nbd.CMD_WRITE_ZEROES, 0, 4096, null)).isEqualTo(Nbd.EPERM);
            assertThat(client.call(0, Nbd.CMD_FLUSH, 0, 0, null)).isZero();
            assertThat(client.read(0, 4096)).isEqualTo(Arrays.copyOf(content, 4096));
        }
        assertThat(golden.contents()).isEqualTo(content);
        assertThat(golden.writes.get()).isOne();
        assertThat(golden.trims.get()).isZero();
    }

    @Test
    void aFailingDeviceGetsEioAndTheConnectionStaysUsable() throws IOException {
        MemoryBlockDevice failing = new MemoryBlockDevice(SIZE) {
            @Override
            public void read(long offset, byte[] target, int targetOffset, int length) {
                if (offset == 0) {
                    throw new UncheckedIOException(new IOException("simulated: block 0 does not verify"));
                }
                super.read(offset, target, targetOffset, length);
            }

            private final AtomicBoolean flushFailed = new AtomicBoolean();

            @Override
            public void flush() {
                if (flushFailed.compareAndSet(false, true)) {
                    throw new IllegalStateException("simulated: the key is disabled");
                }
                super.flush();
            }
        };
        exports.add("failing", failing, false);
        try (NbdTestClient client = open("failing")) {
            client.sendRead(1, 0, 4096);
            Reply reply = client.reply();
            assertThat(reply.error()).isEqualTo(Nbd.EIO);
            assertThat(reply.data()).as("no data after an error").isNull();
            assertThat(client.call(0, Nbd.CMD_FLUSH, 0, 0, null)).isEqualTo(Nbd.EIO);
            assertThat(client.call(0, Nbd.CMD_FLUSH, 0, 0, null)).isZero();
            assertThat(client.read(4096, 4096)).hasSize(4096);
        }
    }

    @Test
    void pipelinedRequestsAreAnsweredAsTheyFinish() throws IOException {
        CountDownLatch slowRead = new CountDownLatch(1);
        byte[] content = randomBytes(SIZE, 8);
        MemoryBlockDevice slow = gatedOnOffsetZero(slowRead);
        slow.write(0, content, 0, SIZE, false);
        exports.add("slow", slow, false);
        byte[] data = randomBytes(4096, 9);
        try (NbdTestClient client = open("slow")) {
            client.sendRead(1, 0, 4096);
            client.sendRead(2, 8192, 4096);
            client.sendWrite(0, 3, 1 << 20, data);
            Map<Long, Reply> early = new HashMap<>();
            for (int i = 0; i < 2; i++) {
                Reply reply = client.reply();
                early.put(reply.cookie(), reply);
            }
            assertThat(early).containsOnlyKeys(2L, 3L);
            assertThat(early.get(2L).data()).isEqualTo(Arrays.copyOfRange(content, 8192, 12288));
            assertThat(early.get(3L).error()).isZero();

            slowRead.countDown();
            Reply last = client.reply();
            assertThat(last.cookie()).isEqualTo(1L);
            assertThat(last.data()).isEqualTo(Arrays.copyOf(content, 4096));
        }
    }

    @Test
    void manyRequestsInFlightAllComeBack() throws IOException {
        int requests = 256;
        int length = 64 * 1024;
        byte[] data = randomBytes(requests * length / 4, 10);
        try (NbdTestClient client = open("disk")) {
            for (int i = 0; i < requests; i++) {
                int offset = (i % 16) * length;
                client.sendWrite(0, i, offset, Arrays.copyOfRange(data, offset, offset + length));
            }
            List<Long> cookies = new ArrayList<>();
            for (int i = 0; i < requests; i++) {
                Reply reply = client.reply();
                assertThat(reply.error()).isZero();
                cookies.add(reply.cookie());
            }
            assertThat(cookies).doesNotHaveDuplicates().hasSize(requests);
            for (int i = 0; i < 16; i++) {
                client.sendRead(1000 + i, (long) i * length, length);
            }
            for (int i = 0; i < 16; i++) {
                Reply reply = client.reply();
                int index = (int) reply.cookie() - 1000;
                assertThat(reply.data()).isEqualTo(Arrays.copyOfRange(data, index * length, (index + 1) * length));
            }
        }
    }

    @Test
    void closingTheServerAnswersRequestsInFlightThenCloses() throws Exception {
        CountDownLatch slowRead = new CountDownLatch(1);
        MemoryBlockDevice slow = gatedOnOffsetZero(slowRead);
        exports.add("slow", slow, false);
        byte[] data = randomBytes(4096, 11);
        try (NbdTestClient client = open("slow")) {
            client.sendRead(1, 0, 4096);
            client.sendWrite(0, 2, 4096, data);
            assertThat(client.reply().cookie()).isEqualTo(2L);

            Thread closer = new Thread(server::close);
            closer.start();
            closer.join(300);
            assertThat(closer.isAlive()).as("close waits for the read in flight").isTrue();
            assertThat(slow.closes.get()).isZero();

            slowRead.countDown();
            Reply reply = client.reply();
            assertThat(reply.cookie()).isEqualTo(1L);
            assertThat(reply.error()).isZero();
            assertThat(client.closedByServer()).isTrue();
            closer.join(10_000);
            assertThat(closer.isAlive()).isFalse();
        }
        assertThat(exports.openHandles()).isZero();
        assertThat(Arrays.copyOfRange(slow.durable(), 4096, 8192)).as("flushed on the way out").isEqualTo(data);
        try (NbdTestClient client = NbdTestClient.greet(server.port())) {
            throw new AssertionError("a closed server accepted a connection");
        } catch (IOException expected) {
            // connection refused
        }
    }

    @Test
    void removingAnExportDisconnectsItsClientsOnly() throws IOException {
        byte[] data = randomBytes(4096, 12);
        try (NbdTestClient first = open("disk"); NbdTestClient second = open("disk");
                NbdTestClient other = open("golden");
                NbdTestClient negotiating = NbdTestClient.connect(server.port())) {
            assertThat(first.call(0, Nbd.CMD_WRITE, 0, data.length, data)).isZero();

            exports.remove("disk");
            server.disconnect("disk");

            assertThat(exports.openHandles()).as("only the golden connection holds a device").isOne();
            assertThat(Arrays.copyOf(disk.durable(), 4096)).isEqualTo(data);
            assertThat(first.closedByServer()).isTrue();
            assertThat(second.closedByServer()).isTrue();
            assertThat(other.read(0, 512)).hasSize(512);
            List<OptionReply> refused = negotiating.option(Nbd.OPT_GO, NbdTestClient.infoRequest("disk"));
            assertThat(refused).singleElement().extracting(OptionReply::type).isEqualTo(Nbd.REP_ERR_UNKNOWN);
        }
    }

    @Test
    void aFlushOnOneConnectionCoversWritesAnsweredOnAnother() throws IOException {
        byte[] data = randomBytes(4096, 13);
        try (NbdTestClient writer = open("disk"); NbdTestClient flusher = open("disk")) {
            assertThat(writer.call(0, Nbd.CMD_WRITE, 0, data.length, data)).isZero();
            assertThat(flusher.call(0, Nbd.CMD_FLUSH, 0, 0, null)).isZero();
            assertThat(Arrays.copyOf(disk.durable(), 4096)).isEqualTo(data);
            assertThat(flusher.read(0, 4096)).isEqualTo(data);
        }
    }

    private static MemoryBlockDevice gatedOnOffsetZero(CountDownLatch gate) {
        return new MemoryBlockDevice(SIZE) {
            @Override
            public void read(long offset, byte[] target, int targetOffset, int length) {
                if (offset == 0) {
                    try {
                        assertThat(gate.await(20, TimeUnit.SECONDS)).isTrue();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                super.read(offset, target, targetOffset, length);
            }
        };
    }

    private static byte[] randomBytes(int length, long seed) {
        byte[] bytes = new byte[length];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    private static void await(BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("condition met in time").isLessThan(deadline);
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }
}
