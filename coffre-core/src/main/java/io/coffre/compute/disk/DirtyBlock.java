package io.coffre.compute.disk;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;

/**
 * One block's buffered writes: the bytes written so far and the ranges they cover. Bytes outside the covered
 * ranges are zero. The buffer is allocated on the first non-zero write, so trims and zero writes cost nothing.
 *
 * <p>A complete block may be <em>sealed</em> ahead of the flush: its content encrypted into an object that the
 * flush then only has to map. Every change counts as a modification, so a seal made from an earlier state can be
 * told apart and dropped. A partial block may instead be <em>journaled</em>: its covered ranges and their bytes
 * ({@link #journalRecord}) made durable on their own, which lasts as long as the block is not modified again. Not
 * thread-safe: {@link WriteBackDevice} guards every instance.
 */
final class DirtyBlock {
    private static final byte[] ZEROS = new byte[BlockFormat.BLOCK_BYTES];

    private final int length;
    private byte[] data;
    /** start → end (exclusive); disjoint and never adjacent. */
    private final TreeMap<Integer, Integer> covered = new TreeMap<>();
    private int modifications;
    private boolean sealing;
    /** The object holding this block's current content, written ahead of the flush; {@code null}: none. */
    private BlockRef seal;
    private long sealRegisteredAt;
    /** Whether a buffered write goes on into the next block, so that the two are committed together or not at all. */
    private boolean joinedToNext;
    /** The modification count whose state the disk's journal holds; -1: none. */
    private int journaledAt = -1;

    DirtyBlock(int length) {
        this.length = length;
    }

    int allocatedBytes() {
        return data == null ? 0 : length;
    }

    void write(int offset, byte[] source, int sourceOffset, int n) {
        modifications++;
        if (data == null) {
            if (isZero(source, sourceOffset, n)) {
                cover(offset, offset + n);
                return;
            }
            data = new byte[length];
        }
        System.arraycopy(source, sourceOffset, data, offset, n);
        cover(offset, offset + n);
    }

    /** A write of the whole block with an array the caller hands over: kept as the buffer, not copied. */
    void adopt(byte[] whole) {
        if (whole.length != length) {
            throw new IllegalArgumentException("a block of " + length + " bytes cannot adopt " + whole.length);
        }
        modifications++;
        data = isZero(whole, 0, length) ? null : whole;
        covered.clear();
        covered.put(0, length);
    }

    void zero(int offset, int n) {
        modifications++;
        if (data != null) {
            Arrays.fill(data, offset, offset + n, (byte) 0);
        }
        cover(offset, offset + n);
    }

    boolean covers(int offset, int n) {
        Map.Entry<Integer, Integer> range = covered.floorEntry(offset);
        return range != null && range.getValue() >= offset + n;
    }

    boolean isComplete() {
        return covers(0, length);
    }

    /** Copies the covered parts of {@code [offset, offset + n)} into {@code target}, leaving the rest as it is. */
    void overlay(int offset, byte[] target, int targetOffset, int n) {
        int end = offset + n;
        Integer first = covered.floorKey(offset);
        for (Map.Entry<Integer, Integer> range : covered.tailMap(first == null ? offset : first, true).entrySet()) {
            if (range.getKey() >= end) {
                break;
            }
            int from = Math.max(range.getKey(), offset);
            int to = Math.min(range.getValue(), end);
            if (from < to) {
                copyOut(from, target, targetOffset + from - offset, to - from);
            }
        }
    }

    /** Makes the block complete by filling what was not written from its stored content ({@code null}: zeros). */
    void completeFrom(byte[] stored) {
        modifications++;
        if (stored != null && !isZero(stored, 0, stored.length)) {
            if (data == null) {
                data = new byte[length];
            }
            forEachGap(0, length, (from, to) -> {
                if (from < stored.length) {
                    System.arraycopy(stored, from, data, from, Math.min(to, stored.length) - from);
                }
            });
        }
        covered.clear();
        covered.put(0, length);
    }

    /** Fills what this block has not written from an older buffered version of it: the newer writes win. */
    void underlay(DirtyBlock older) {
        modifications++;
        joinedToNext |= older.joinedToNext;
        for (Map.Entry<Integer, Integer> range : older.covered.entrySet()) {
            forEachGap(range.getKey(), range.getValue(), (from, to) -> {
                if (older.data != null) {
                    if (data == null) {
                        data = new byte[length];
                    }
                    System.arraycopy(older.data, from, data, from, to - from);
                }
            });
            cover(range.getKey(), range.getValue());
        }
    }

    /** The length of {@link #journalRecord}. */
    int journalRecordLength() {
        int bytes = Integer.BYTES;
        for (Map.Entry<Integer, Integer> range : covered.entrySet()) {
            bytes += 2 * Integer.BYTES + range.getValue() - range.getKey();
        }
        return bytes;
    }

    /** What the block holds, for the journal: the number of ranges, each range's start and end, then their bytes. */
    byte[] journalRecord() {
        ByteBuffer record = ByteBuffer.allocate(journalRecordLength()).putInt(covered.size());
        covered.forEach((start, end) -> record.putInt(start).putInt(end));
        covered.forEach((start, end) -> {
            if (data == null) {
                record.position(record.position() + end - start); // zeros, as allocated
            } else {
                record.put(data, start, end - start);
            }
        });
        return record.array();
    }

    /** A block holding what a {@link #journalRecord} of it held, marked as journaled. */
    static DirtyBlock fromJournal(int length, byte[] record) {
        DirtyBlock block = new DirtyBlock(length);
        try {
            ByteBuffer in = ByteBuffer.wrap(record);
            int ranges = in.getInt();
            if (ranges < 0 || ranges > in.remaining() / (2 * Integer.BYTES)) {
                throw new BlockIntegrityException("a journal record names " + ranges + " ranges in "
                        + record.length + " bytes");
            }
            int[] bounds = new int[2 * ranges];
            for (int i = 0; i < bounds.length; i++) {
                bounds[i] = in.getInt();
            }
            for (int i = 0; i < bounds.length; i += 2) {
                int n = bounds[i + 1] - bounds[i];
                if (bounds[i] < 0 || n < 0 || bounds[i + 1] > length) {
                    throw new BlockIntegrityException("a journal record names the range [" + bounds[i] + ", "
                            + bounds[i + 1] + ") in a block of " + length + " bytes");
                }
                block.write(bounds[i], record, in.position(), n);
                in.position(in.position() + n);
            }
            if (in.hasRemaining()) {
                throw new BlockIntegrityException("a journal record has " + in.remaining() + " bytes past its ranges");
            }
        } catch (BufferUnderflowException | IndexOutOfBoundsException e) {
            throw new BlockIntegrityException("a journal record is shorter than the ranges it names", e);
        }
        block.markJournaled();
        return block;
    }

    /** The journal now holds this block as it is. */
    void markJournaled() {
        journaledAt = modifications;
    }

    /** Whether the journal holds this block as it is: durable, though not yet in the block map. */
    boolean isJournaled() {
        return journaledAt == modifications;
    }

    /** The content of a complete block, or {@code null} if it is all zeros (and so is not stored). */
    byte[] content() {
        if (!isComplete()) {
            throw new IllegalStateException("block is not complete");
        }
        return data == null || isZero(data, 0, length) ? null : data;
    }

    int length() {
        return length;
    }

    void joinNext() {
        joinedToNext = true;
    }

    boolean joinedToNext() {
        return joinedToNext;
    }

    int modifications() {
        return modifications;
    }

    /** The buffer a seal encrypts: written only under the device's lock, whose modification count tells. */
    byte[] buffer() {
        return data;
    }

    boolean isSealing() {
        return sealing;
    }

    void startSealing() {
        sealing = true;
    }

    /** Ends a seal; {@code ref} is the object it wrote if it still holds this block's content, else {@code null}. */
    void endSealing(BlockRef ref, long registeredAt) {
        sealing = false;
        seal = ref;
        sealRegisteredAt = registeredAt;
    }

    BlockRef seal() {
        return seal;
    }

    /** Whether the block is sealed and its seal done: a flush only has to map it. */
    boolean hasReadySeal() {
        return seal != null && !sealing;
    }

    long sealRegisteredAt() {
        return sealRegisteredAt;
    }

    /** Forgets the seal (the caller discards its object) and returns it, or {@code null} if there was none. */
    BlockRef unseal() {
        BlockRef dropped = seal;
        seal = null;
        return dropped;
    }

    private void copyOut(int from, byte[] target, int targetOffset, int n) {
        if (data == null) {
            Arrays.fill(target, targetOffset, targetOffset + n, (byte) 0);
        } else {
            System.arraycopy(data, from, target, targetOffset, n);
        }
    }

    private void cover(int start, int end) {
        Map.Entry<Integer, Integer> before = covered.floorEntry(start);
        if (before != null && before.getValue() >= start) {
            start = before.getKey();
            end = Math.max(end, before.getValue());
        }
        for (Map.Entry<Integer, Integer> next = covered.ceilingEntry(start);
             next != null && next.getKey() <= end; next = covered.ceilingEntry(start)) {
            end = Math.max(end, next.getValue());
            covered.remove(next.getKey());
        }
        covered.put(start, end);
    }

    private interface RangeAction {
        void accept(int from, int to);
    }

    /** Calls {@code action} for every uncovered range inside {@code [start, end)}. */
    private void forEachGap(int start, int end, RangeAction action) {
        int position = start;
        Integer first = covered.floorKey(start);
        for (Map.Entry<Integer, Integer> range : covered.tailMap(first == null ? start : first, true).entrySet()) {
            if (range.getKey() >= end) {
                break;
            }
            if (range.getKey() > position) {
                action.accept(position, range.getKey());
            }
            position = Math.max(position, range.getValue());
        }
        if (position < end) {
            action.accept(position, end);
        }
    }

    static boolean isZero(byte[] bytes, int offset, int n) {
        for (int done = 0; done < n; done += ZEROS.length) {
            int chunk = Math.min(ZEROS.length, n - done);
            if (!Arrays.equals(bytes, offset + done, offset + done + chunk, ZEROS, 0, chunk)) {
                return false;
            }
        }
        return true;
    }
}
