package io.coffre.compute.disk;

import java.io.IOException;
import java.io.OutputStream;

/**
 * A disk as the guest (or a hypervisor) sees it: a byte-addressed device of fixed size. The NBD server, the
 * direct-upload endpoint and {@code coffre vm disk read|write} all speak to disks through this interface.
 *
 * <p>Durability contract (NBD's): a write is durable once {@link #flush} returns, or at once when written with
 * {@code fua}; a write acknowledged without either may be lost by a crash but is never half-visible.
 */
public interface BlockDevice extends AutoCloseable {
    long size();

    /** Reads {@code length} bytes at {@code offset}; never-written ranges read as zeros. */
    void read(long offset, byte[] target, int targetOffset, int length);

    /**
     * Writes the {@code length} bytes at {@code offset} to {@code out}, as {@link #read} returns them. A device may
     * hand {@code out} its own verified plaintext instead of copying it into a buffer first (a ranged download).
     */
    default void transferTo(long offset, long length, OutputStream out) throws IOException {
        byte[] buffer = new byte[(int) Math.min(length, BlockFormat.BLOCK_BYTES)];
        for (long done = 0; done < length; ) {
            int n = (int) Math.min(buffer.length, length - done);
            read(offset + done, buffer, 0, n);
            out.write(buffer, 0, n);
            done += n;
        }
    }

    void write(long offset, byte[] source, int sourceOffset, int length, boolean fua);

    /**
     * Writes all of {@code source}, which the caller hands over and never touches again, so a device may keep the
     * array instead of copying it (a page upload's body, a whole block).
     */
    default void writeOwned(long offset, byte[] source, boolean fua) {
        write(offset, source, 0, source.length, fua);
    }

    /** Makes every acknowledged write durable. */
    void flush();

    /** Discards a range: it reads as zeros afterwards and stops occupying storage where whole blocks are freed. */
    void trim(long offset, long length);

    /** Makes this holder's writes durable (a disconnect is a flush, per NBD) and releases the device. */
    @Override
    void close();
}
