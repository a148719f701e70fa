package io.coffre.compute.disk;

import static io.coffre.compute.disk.BlockFormat.BLOCK_BYTES;
import static io.coffre.compute.disk.DiskStoreTest.pattern;
import static io.coffre.compute.disk.DiskStoreTest.read;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Random sequences of writes, trims, reads, flushes and reopenings at random offsets and lengths (block boundaries
 * favoured) against a byte-array model of the disk. The disk ends in a partial block and the buffer holds two
 * blocks, so early flushes and the short tail block are exercised too.
 *
 * <p>After every change, what another process would read (what a crash would leave: the committed blocks) is
 * checked too: each block holds a content the operations so far gave it at some point, no write across blocks is
 * in some of them and not in others, a FUA write is there, and a flush leaves everything there.
 */
class DiskModelTest {
    private static final long SIZE = 3L * BLOCK_BYTES + 1536;
    private static Path dir;
    private static DiskFixture fixture;

    sealed interface Op {
    }

    record Write(long offset, int length, long seed, boolean fua) implements Op {
    }

    record Trim(long offset, int length) implements Op {
    }

    record Read(long offset, int length) implements Op {
    }

    record Flush() implements Op {
    }

    /** Close the device (a flush, per NBD) and open the disk again through a new store with empty caches. */
    record Reopen() implements Op {
    }

    @BeforeContainer
    static void open() throws IOException {
        dir = Files.createTempDirectory("disk-model");
        fixture = new DiskFixture(dir, new TestKeyRing(), DiskFixture.SMALL_BUFFER);
    }

    @AfterContainer
    static void close() throws IOException {
        fixture.close();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    @Property(tries = 25)
    void theDiskBehavesLikeAnArrayOfBytes(@ForAll("operations") List<Op> operations) {
        String disk = fixture.store.create(SIZE, DiskSource.empty());
        byte[] model = new byte[(int) SIZE];
        Versions versions = new Versions(model);
        DefaultDiskStore store = fixture.secondStore();
        BlockDevice device = store.open(disk);
        try {
            for (int step = 0; step < operations.size(); step++) {
                Op op = operations.get(step);
                String context = "step " + step + " of " + operations;
                if (op instanceof Write w) {
                    byte[] data = pattern(w.seed(), w.length());
                    device.write(w.offset(), data, 0, data.length, w.fua());
                    System.arraycopy(data, 0, model, (int) w.offset(), data.length);
                    versions.changed(step, w.offset(), w.length());
                    byte[] committed = versions.checkCommitted(disk, step, operations, context);
                    if (w.fua()) {
                        assertThat(Arrays.copyOfRange(committed, (int) w.offset(), (int) w.offset() + w.length()))
                                .as("FUA write durable, %s", context).isEqualTo(data);
                    }
                } else if (op instanceof Trim t) {
                    device.trim(t.offset(), t.length());
                    Arrays.fill(model, (int) t.offset(), (int) t.offset() + t.length(), (byte) 0);
                    versions.changed(step, t.offset(), t.length());
                    versions.checkCommitted(disk, step, operations, context);
                } else if (op instanceof Read r) {
                    assertThat(read(device, r.offset(), r.length())).as("%s after %s", r, operations)
                            .isEqualTo(Arrays.copyOfRange(model, (int) r.offset(), (int) r.offset() + r.length()));
                } else if (op instanceof Flush) {
                    device.flush();
                    assertThat(versions.checkCommitted(disk, step, operations, context)).as("flushed, %s", context)
                            .isEqualTo(model);
                } else {
                    device.close();
                    store.close();
                    store = fixture.secondStore();
                    device = store.open(disk);
                }
            }
        } finally {
            device.close();
            store.close();
        }
        try (DefaultDiskStore fresh = fixture.secondStore(); BlockDevice reopened = fresh.open(disk)) {
            assertThat(read(reopened, 0, (int) SIZE)).as("after %s", operations).isEqualTo(model);
        }
        fixture.store.delete(disk);
    }

    /**
     * Every content each block has had in the model (as a CRC-32C, from the step that gave it), to tell what a block
     * as committed stands for: the state after which steps.
     */
    private static final class Versions {
        private final byte[] model;
        /** Per block: {first step, CRC} of each content it had, oldest first; step -1 is the empty disk. */
        private final List<List<long[]>> byBlock = new ArrayList<>();

        Versions(byte[] model) {
            this.model = model;
            for (int b = 0; b * (long) BLOCK_BYTES < model.length; b++) {
                byBlock.add(new ArrayList<>(List.of(new long[] {-1, crc(model, b)})));
            }
        }

        void changed(int step, long offset, int length) {
            if (length == 0) {
                return;
            }
            for (int b = (int) (offset / BLOCK_BYTES); b <= (offset + length - 1) / BLOCK_BYTES; b++) {
                List<long[]> history = byBlock.get(b);
                long crc = crc(model, b);
                if (history.get(history.size() - 1)[1] != crc) {
                    history.add(new long[] {step, crc});
                }
            }
        }

        /**
         * Reads the disk as another process would (committed blocks only) and checks it against the history; returns
         * what it read.
         */
        byte[] checkCommitted(String disk, int step, List<Op> operations, String context) {
            byte[] committed;
            try (DefaultDiskStore other = fixture.secondStore(); BlockDevice device = other.open(disk)) {
                committed = read(device, 0, model.length);
            }
            long[] earliest = new long[byBlock.size()];
            long[] latest = new long[byBlock.size()];
            for (int b = 0; b < byBlock.size(); b++) {
                List<long[]> history = byBlock.get(b);
                long crc = crc(committed, b);
                earliest[b] = Long.MAX_VALUE;
                latest[b] = Long.MIN_VALUE;
                for (int v = 0; v < history.size(); v++) {
                    if (history.get(v)[1] == crc) {
                        earliest[b] = Math.min(earliest[b], history.get(v)[0]);
                        latest[b] = v + 1 < history.size() ? history.get(v + 1)[0] - 1 : step;
                    }
                }
                assertThat(earliest[b]).as("block %d holds a content no prefix of the operations gave it, %s", b,
                        context).isNotEqualTo(Long.MAX_VALUE);
            }
            for (int w = 0; w <= step; w++) {
                if (operations.get(w) instanceof Write write && write.length() > 0) {
                    int first = (int) (write.offset() / BLOCK_BYTES);
                    int last = (int) ((write.offset() + write.length() - 1) / BLOCK_BYTES);
                    boolean somewhereIn = false;
                    boolean somewhereOut = false;
                    for (int b = first; b <= last; b++) {
                        somewhereIn |= earliest[b] >= w;
                        somewhereOut |= latest[b] < w;
                    }
                    assertThat(somewhereIn && somewhereOut).as("write %d (%s) torn in the committed blocks, %s", w,
                            write, context).isFalse();
                }
            }
            return committed;
        }

        private static long crc(byte[] disk, int block) {
            CRC32C crc = new CRC32C();
            int from = block * BLOCK_BYTES;
            crc.update(disk, from, Math.min(BLOCK_BYTES, disk.length - from));
            return crc.getValue();
        }
    }

    @Provide
    Arbitrary<List<Op>> operations() {
        Arbitrary<Long> offsets = Arbitraries.oneOf(
                Arbitraries.longs().between(0, SIZE - 1),
                Arbitraries.of(0L, BLOCK_BYTES - 1L, (long) BLOCK_BYTES, 2L * BLOCK_BYTES - 700, 3L * BLOCK_BYTES,
                        SIZE - 512, SIZE - 1));
        Arbitrary<Integer> lengths = Arbitraries.oneOf(
                Arbitraries.integers().between(0, 4096),
                Arbitraries.integers().between(0, 6 << 20),
                Arbitraries.of(512, BLOCK_BYTES, 2 * BLOCK_BYTES));
        Arbitrary<Op> writes = Combinators.combine(offsets, lengths, Arbitraries.longs(), Arbitraries.of(false, false,
                false, true)).as((offset, length, seed, fua) -> new Write(offset, clip(offset, length), seed, fua));
        Arbitrary<Op> trims = Combinators.combine(offsets, lengths).as((o, n) -> new Trim(o, clip(o, n)));
        Arbitrary<Op> reads = Combinators.combine(offsets, lengths).as((o, n) -> new Read(o, clip(o, n)));
        return Arbitraries.frequencyOf(Tuple.of(5, writes), Tuple.of(1, trims), Tuple.of(3, reads),
                Tuple.of(1, Arbitraries.just(new Flush())), Tuple.of(1, Arbitraries.just(new Reopen())))
                .list().ofMinSize(1).ofMaxSize(14);
    }

    private static int clip(long offset, int length) {
        return (int) Math.min(length, SIZE - offset);
    }
}
