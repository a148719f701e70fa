package io.coffre.compute.disk;

import static io.coffre.compute.disk.BlockFormat.BLOCK_BYTES;
import static io.coffre.compute.disk.DiskStoreTest.pattern;
import static io.coffre.compute.disk.DiskStoreTest.read;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
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
        DefaultDiskStore store = fixture.secondStore();
        BlockDevice device = store.open(disk);
        try {
            for (Op op : operations) {
                if (op instanceof Write w) {
                    byte[] data = pattern(w.seed(), w.length());
                    device.write(w.offset(), data, 0, data.length, w.fua());
                    System.arraycopy(data, 0, model, (int) w.offset(), data.length);
                } else if (op instanceof Trim t) {
                    device.trim(t.offset(), t.length());
                    Arrays.fill(model, (int) t.offset(), (int) t.offset() + t.length(), (byte) 0);
                } else if (op instanceof Read r) {
                    assertThat(read(device, r.offset(), r.length())).as("%s after %s", r, operations)
                            .isEqualTo(Arrays.copyOfRange(model, (int) r.offset(), (int) r.offset() + r.length()));
                } else if (op instanceof Flush) {
                    device.flush();
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
