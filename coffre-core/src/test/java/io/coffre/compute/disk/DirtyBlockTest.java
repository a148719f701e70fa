package io.coffre.compute.disk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

/** A dirty block against a model: an array of bytes and an array of "written" flags. */
class DirtyBlockTest {
    private static final int LENGTH = 3000;

    /** @param kind 0 data, 1 zeros written, 2 trim */
    record Op(int kind, int offset, int length, long seed) {
    }

    @Test
    void aWholeBlockHandedOverBecomesItsBufferAndAZeroOneAllocatesNothing() {
        byte[] whole = new byte[LENGTH];
        Arrays.fill(whole, (byte) 7);
        DirtyBlock block = new DirtyBlock(LENGTH);
        block.write(100, new byte[] {1, 2, 3}, 0, 3);
        block.adopt(whole);
        assertThat(block.isComplete()).isTrue();
        assertThat(block.content()).isSameAs(whole);

        DirtyBlock zeroed = new DirtyBlock(LENGTH);
        zeroed.write(0, whole, 0, 512);
        zeroed.adopt(new byte[LENGTH]);
        assertThat(zeroed.isComplete()).isTrue();
        assertThat(zeroed.allocatedBytes()).isZero();
        assertThat(zeroed.content()).isNull();
    }

    @Property(tries = 300)
    void tracksWrittenBytesAndMergesLayers(@ForAll("ops") List<Op> newer, @ForAll("ops") List<Op> older,
                                           @ForAll long storedSeed, @ForAll boolean stored) {
        Model newModel = new Model();
        DirtyBlock newBlock = apply(newer, newModel);
        Model oldModel = new Model();
        DirtyBlock oldBlock = apply(older, oldModel);

        for (int offset = 0; offset < LENGTH; offset += 97) {
            int n = Math.min(211, LENGTH - offset);
            byte[] target = new byte[n];
            Arrays.fill(target, (byte) 0x5a);
            newBlock.overlay(offset, target, 0, n);
            for (int i = 0; i < n; i++) {
                byte expected = newModel.written[offset + i] ? newModel.data[offset + i] : (byte) 0x5a;
                assertThat(target[i]).as("byte %d", offset + i).isEqualTo(expected);
            }
            assertThat(newBlock.covers(offset, n)).isEqualTo(newModel.covers(offset, n));
        }

        // a failed flush puts the older buffer under the newer one: newer bytes win
        newBlock.underlay(oldBlock);
        for (int i = 0; i < LENGTH; i++) {
            if (!newModel.written[i] && oldModel.written[i]) {
                newModel.data[i] = oldModel.data[i];
                newModel.written[i] = true;
            }
        }
        // read-modify-write: what was never written comes from the stored block (shorter than the block: zeros)
        byte[] storedContent = stored ? DiskStoreTest.pattern(storedSeed, LENGTH - 100) : null;
        newBlock.completeFrom(storedContent);
        byte[] expected = new byte[LENGTH];
        for (int i = 0; i < LENGTH; i++) {
            expected[i] = newModel.written[i] ? newModel.data[i]
                    : storedContent != null && i < storedContent.length ? storedContent[i] : 0;
        }
        assertThat(newBlock.isComplete()).isTrue();
        byte[] content = newBlock.content();
        if (DirtyBlock.isZero(expected, 0, LENGTH)) {
            assertThat(content).isNull();
        } else {
            assertThat(content).isEqualTo(expected);
        }
        assertThat(newBlock.allocatedBytes()).isIn(0, LENGTH);
    }

    /** Changes journaled in two flushes: replaying both records in order rebuilds the block. */
    @Property(tries = 200)
    void journalRecordsReplayedInOrderRebuildTheBlock(@ForAll("ops") List<Op> first, @ForAll("ops") List<Op> second) {
        Model model = new Model();
        DirtyBlock block = apply(first, model, new DirtyBlock(LENGTH));
        byte[] firstRecord = block.journalRecord();
        assertThat(firstRecord).hasSize(block.journalRecordLength());
        block.markJournaled();
        assertThat(block.isJournaled()).isTrue();
        assertThat(block.journalRecordLength()).as("nothing changed since").isEqualTo(Integer.BYTES);
        apply(second, model, block);
        assertThat(block.isJournaled()).isEqualTo(second.isEmpty());
        byte[] secondRecord = block.journalRecord();

        DirtyBlock replayed = DirtyBlock.fromJournal(LENGTH, List.of(firstRecord, secondRecord));
        byte[] target = new byte[LENGTH];
        Arrays.fill(target, (byte) 0x5a);
        replayed.overlay(0, target, 0, LENGTH);
        for (int i = 0; i < LENGTH; i++) {
            assertThat(target[i]).as("byte %d", i).isEqualTo(model.written[i] ? model.data[i] : (byte) 0x5a);
        }
        assertThat(replayed.isComplete()).isEqualTo(model.covers(0, LENGTH));
        assertThat(replayed.isJournaled()).isTrue();
    }

    /** A write that came while an older version was being journaled: what that version had not journaled stays due. */
    @Test
    void anUnderlaidVersionPassesOnWhatItHadNotJournaled() {
        DirtyBlock older = new DirtyBlock(LENGTH);
        older.write(0, new byte[] {1, 2}, 0, 2);
        older.markJournaled();
        older.write(100, new byte[] {3}, 0, 1);
        DirtyBlock newer = new DirtyBlock(LENGTH);
        newer.write(200, new byte[] {4}, 0, 1);
        newer.underlay(older);
        byte[] record = newer.journalRecord();
        assertThat(ByteBuffer.wrap(record).getInt()).as("ranges [100, 101) and [200, 201)").isEqualTo(2);
        assertThat(record).hasSize(Integer.BYTES + 2 * 2 * Integer.BYTES + 2);
    }

    @Test
    void aJournalRecordThatDoesNotFitItsBlockIsRejected() {
        DirtyBlock block = new DirtyBlock(LENGTH);
        block.write(10, new byte[] {1, 2, 3}, 0, 3);
        byte[] record = block.journalRecord();
        assertThatThrownBy(() -> DirtyBlock.fromJournal(12, List.of(record)))
                .isInstanceOf(BlockIntegrityException.class).hasMessageContaining("[10, 13) in a block of 12 bytes");
        assertThatThrownBy(() -> DirtyBlock.fromJournal(LENGTH, List.of(Arrays.copyOf(record, record.length - 1))))
                .isInstanceOf(BlockIntegrityException.class).hasMessageContaining("shorter than the ranges");
        assertThatThrownBy(() -> DirtyBlock.fromJournal(LENGTH, List.of(Arrays.copyOf(record, record.length + 1))))
                .isInstanceOf(BlockIntegrityException.class).hasMessageContaining("1 bytes past its ranges");
        byte[] tooMany = record.clone();
        tooMany[0] = 0x40;
        assertThatThrownBy(() -> DirtyBlock.fromJournal(LENGTH, List.of(tooMany)))
                .isInstanceOf(BlockIntegrityException.class).hasMessageContaining("ranges in 15 bytes");
    }

    @Provide
    Arbitrary<List<Op>> ops() {
        Arbitrary<Integer> offsets = Arbitraries.integers().between(0, LENGTH - 1);
        return Combinators.combine(Arbitraries.integers().between(0, 2), offsets, Arbitraries.integers()
                        .between(0, LENGTH), Arbitraries.longs())
                .as((kind, offset, length, seed) -> new Op(kind, offset, Math.min(length, LENGTH - offset), seed))
                .list().ofMaxSize(8);
    }

    private static DirtyBlock apply(List<Op> ops, Model model) {
        return apply(ops, model, new DirtyBlock(LENGTH));
    }

    private static DirtyBlock apply(List<Op> ops, Model model, DirtyBlock block) {
        for (Op op : ops) {
            byte[] data = op.kind() == 0 ? DiskStoreTest.pattern(op.seed(), op.length()) : new byte[op.length()];
            if (op.kind() == 2) {
                block.zero(op.offset(), op.length());
            } else {
                byte[] source = new byte[op.length() + 7];
                System.arraycopy(data, 0, source, 7, op.length());
                block.write(op.offset(), source, 7, op.length());
            }
            System.arraycopy(data, 0, model.data, op.offset(), op.length());
            Arrays.fill(model.written, op.offset(), op.offset() + op.length(), true);
        }
        return block;
    }

    private static final class Model {
        final byte[] data = new byte[LENGTH];
        final boolean[] written = new boolean[LENGTH];

        boolean covers(int offset, int n) {
            for (int i = offset; i < offset + n; i++) {
                if (!written[i]) {
                    return false;
                }
            }
            return true;
        }
    }
}
