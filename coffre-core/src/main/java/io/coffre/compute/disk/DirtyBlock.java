package io.coffre.compute.disk;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One block's buffered writes: the bytes written so far and the ranges they cover. Bytes outside the covered
 * ranges are zero. The buffer is allocated on the first non-zero write, so trims and zero writes cost nothing.
 *
 * <p>A complete block may be <em>sealed</em> ahead of the flush: its content encrypted into an object that the
 * flush then only has to map. Every change counts as a modification, so a seal made from an earlier state can be
 * told apart and dropped. A partial block may instead be <em>journaled</em>: each flush makes the ranges changed since
 * the last one durable on their own, with their bytes ({@link #journalRecord}), and replaying the records in order
 * rebuilds the block ({@link #fromJournal}). Not thread-safe: {@link WriteBackDevice} guards every instance.
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
    /** The ranges changed since the journal last took this block, in the same form as {@code covered}. */
    private final TreeMap<Integer, Integer> unjournaled = new TreeMap<>();

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
        coverAll();
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
        coverAll();
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
            addRange(covered, range.getKey(), range.getValue());
        }
        // what the older version had journaled is durable; what it had not, this version must journal
        older.unjournaled.forEach((start, end) -> addRange(unjournaled, start, end));
    }

    /** The length of {@link #journalRecord}: what the next journal entry of this block takes. */
    int journalRecordLength() {
        int bytes = Integer.BYTES;
        for (Map.Entry<Integer, Integer> range : unjournaled.entrySet()) {
            bytes += 2 * Integer.BYTES + range.getValue() - range.getKey();
        }
        return bytes;
    }

    /**
     * The ranges changed since the journal last took this block, with their bytes as they are now: the number of
     * ranges, each range's start and end, then their bytes.
     */
    byte[] journalRecord() {
        ByteBuffer record = ByteBuffer.allocate(journalRecordLength()).putInt(unjournaled.size());
        unjournaled.forEach((start, end) -> record.putInt(start).putInt(end));
        unjournaled.forEach((start, end) -> {
            if (data == null) {
                record.position(record.position() + end - start); // zeros, as allocated
            } else {
                record.put(data, start, end - start);
            }
        });
        return record.array();
    }

    /** A block holding what its {@link #journalRecord}s held, applied in the order given; marked as journaled. */
    static DirtyBlock fromJournal(int length, List<byte[]> records) {
        DirtyBlock block = new DirtyBlock(length);
        for (byte[] record : records) {
            block.apply(record);
        }
        block.markJournaled();
        return block;
    }

    private void apply(byte[] record) {
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
                write(bounds[i], record, in.position(), n);
                in.position(in.position() + n);
            }
            if (in.hasRemaining()) {
                throw new BlockIntegrityException("a journal record has " + in.remaining() + " bytes past its ranges");
            }
        } catch (BufferUnderflowException | IndexOutOfBoundsException e) {
            throw new BlockIntegrityException("a journal record is shorter than the ranges it names", e);
        }
    }

    /** The journal now holds every change of this block. */
    void markJournaled() {
        unjournaled.clear();
    }

    /** Whether the journal holds every change of this block: durable, though not yet in the block map. */
    boolean isJournaled() {
        return unjournaled.isEmpty();
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

    /** Records a change of {@code [start, end)}: covered from now on, and not yet journaled. */
    private void cover(int start, int end) {
        addRange(covered, start, end);
        addRange(unjournaled, start, end);
    }

    private void coverAll() {
        covered.clear();
        covered.put(0, length);
        unjournaled.clear();
        unjournaled.put(0, length);
    }

    /** Adds {@code [start, end)} to disjoint, non-adjacent ranges (start → end), merging what it touches. */
    private static void addRange(TreeMap<Integer, Integer> ranges, int start, int end) {
        Map.Entry<Integer, Integer> before = ranges.floorEntry(start);
        if (before != null && before.getValue() >= start) {
            start = before.getKey();
            end = Math.max(end, before.getValue());
        }
        for (Map.Entry<Integer, Integer> next = ranges.ceilingEntry(start);
             next != null && next.getKey() <= end; next = ranges.ceilingEntry(start)) {
            end = Math.max(end, next.getValue());
            ranges.remove(next.getKey());
        }
        ranges.put(start, end);
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
