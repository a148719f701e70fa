package io.coffre.compute.disk;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;

/**
 * Self-checking records for the crash test. Record {@code seq} fills slot {@code seq % SLOTS}; slots are 40 KiB, so
 * some straddle block boundaries and a record that is only half durable shows as torn.
 */
final class CrashRecords {
    static final long DISK_BYTES = 8L * BlockFormat.BLOCK_BYTES;
    static final int RECORD_BYTES = 40 << 10;
    static final int SLOTS = (int) (DISK_BYTES / RECORD_BYTES);

    private CrashRecords() {
    }

    static long offset(long seq) {
        return (seq % SLOTS) * RECORD_BYTES;
    }

    static byte[] record(long seq) {
        byte[] record = new byte[RECORD_BYTES];
        new Random(seq).nextBytes(record);
        ByteBuffer.wrap(record).putLong(0, seq).putLong(RECORD_BYTES - Long.BYTES, seq);
        return record;
    }

    /** The seq a slot holds: 0 if never written, -1 if it holds anything but one whole record of that slot. */
    static long check(int slot, byte[] content) {
        if (DirtyBlock.isZero(content, 0, content.length)) {
            return 0;
        }
        long seq = ByteBuffer.wrap(content).getLong(0);
        if (seq <= 0 || seq % SLOTS != slot || !Arrays.equals(content, record(seq))) {
            return -1;
        }
        return seq;
    }
}
