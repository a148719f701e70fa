package io.coffre.store;

import com.sun.nio.file.ExtendedOpenOption;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Whole-file writes, made durable (fsync) before they return, and whole-file reads.
 *
 * <p>Files of {@value #DIRECT_MIN_BYTES} bytes or more go around the page cache ({@code O_DIRECT}) when the file
 * system takes it. Such a file is written once, fsynced at once and read later as a whole, so caching it only costs
 * a copy through freshly allocated cache pages: on the 2-core test machine 2-3 CPU s per GiB written (0.3-0.4 direct,
 * the copy into the aligned buffer included) and 0.75-0.95 per GiB read cold (0.4 direct), plus writeback threads
 * competing for the same cores. Direct I/O needs aligned memory, lengths and offsets: bytes go through pooled aligned
 * buffers, a write is padded to the alignment and the file cut back to its length before the fsync. Smaller files,
 * and every file on a file system that refuses direct I/O, use the page cache as usual.
 */
final class WholeFiles {
    static final int DIRECT_MIN_BYTES = 256 << 10;
    /** Large enough for a whole disk block object (4 MiB plus its header and tags), so pooled buffers fit most. */
    private static final int POOLED_BUFFER_BYTES = (4 << 20) + (128 << 10);
    private static final int MIN_ALIGNMENT = 4 << 10;
    private static final int MAX_ALIGNMENT = 64 << 10;

    /** 0 when direct I/O is not used. */
    private final int alignment;
    private final BlockingQueue<ByteBuffer> buffers =
            new ArrayBlockingQueue<>(Math.max(2, Math.min(16, 2 * Runtime.getRuntime().availableProcessors())));

    private WholeFiles(int alignment) {
        this.alignment = alignment;
    }

    /** Files in {@code dir}, with direct I/O if a probe file written there with it succeeds. */
    static WholeFiles in(Path dir) {
        return new WholeFiles(directAlignment(dir));
    }

    /** Files always read and written through the page cache. */
    static WholeFiles buffered() {
        return new WholeFiles(0);
    }

    boolean bypassesPageCache() {
        return alignment > 0;
    }

    /** Creates {@code file} (it must not exist) holding {@code data}, fsynced. */
    void create(Path file, byte[] data) throws IOException {
        if (!direct(data.length)) {
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer buffer = ByteBuffer.wrap(data);
                while (buffer.hasRemaining()) {
                    ch.write(buffer);
                }
                ch.force(true);
            }
            return;
        }
        int padded = roundUp(data.length, alignment);
        ByteBuffer buffer = takeBuffer(padded);
        try {
            buffer.put(data);
            while (buffer.position() < padded) {
                buffer.put((byte) 0);
            }
            buffer.flip();
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                    ExtendedOpenOption.DIRECT)) {
                while (buffer.hasRemaining()) {
                    ch.write(buffer);
                }
                if (padded != data.length) {
                    ch.truncate(data.length);
                }
                ch.force(true);
            }
        } finally {
            giveBack(buffer);
        }
    }

    /** The whole of {@code file}, which must not change while it is read (blob files never do once in place). */
    byte[] read(Path file) throws IOException {
        if (!direct(Files.size(file))) {
            return Files.readAllBytes(file);
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, ExtendedOpenOption.DIRECT)) {
            long size = ch.size();
            if (size > Integer.MAX_VALUE - MAX_ALIGNMENT) {
                throw new IOException(file + " has " + size + " bytes, more than one array holds");
            }
            ByteBuffer buffer = takeBuffer(roundUp((int) size, alignment));
            try {
                // the last read stops at the end of the file, short of the alignment; nothing follows it
                while (buffer.position() < size) {
                    if (ch.read(buffer) < 0) {
                        throw new EOFException(file + " ended after " + buffer.position() + " of " + size + " bytes");
                    }
                }
                byte[] data = new byte[(int) size];
                buffer.flip().get(data);
                return data;
            } finally {
                giveBack(buffer);
            }
        }
    }

    private boolean direct(long size) {
        return alignment > 0 && size >= DIRECT_MIN_BYTES;
    }

    /** A pooled aligned buffer, cleared and limited to {@code bytes} (a multiple of the alignment). */
    private ByteBuffer takeBuffer(int bytes) {
        ByteBuffer buffer = buffers.poll();
        if (buffer == null || buffer.capacity() < bytes) {
            if (buffer != null) {
                buffers.offer(buffer);
            }
            buffer = alignedBuffer(Math.max(bytes, pooledBufferBytes()), alignment);
        }
        buffer.clear().limit(bytes);
        return buffer;
    }

    /** Keeps a buffer for the next file unless the pool is full or it is larger than a block object needs. */
    private void giveBack(ByteBuffer buffer) {
        if (buffer.capacity() <= pooledBufferBytes()) {
            buffers.offer(buffer);
        }
    }

    private int pooledBufferBytes() {
        return roundUp(POOLED_BUFFER_BYTES, alignment);
    }

    /** A direct buffer of exactly {@code bytes} whose first byte is aligned. */
    private static ByteBuffer alignedBuffer(int bytes, int alignment) {
        return ByteBuffer.allocateDirect(bytes + alignment).alignedSlice(alignment).limit(bytes).slice();
    }

    private static int roundUp(int n, int unit) {
        return (n + unit - 1) / unit * unit;
    }

    /** The alignment direct I/O needs in {@code dir}, or 0 if it does not work there. */
    private static int directAlignment(Path dir) {
        Path probe = dir.resolve("~direct-io-probe-" + UUID.randomUUID() + ".tmp");
        try {
            long blockSize = Files.getFileStore(dir).getBlockSize();
            if (blockSize <= 0 || blockSize > MAX_ALIGNMENT || Long.bitCount(blockSize) != 1) {
                return 0;
            }
            // the device's logical block may be larger than the file system's (1 KiB blocks on a 4Kn disk)
            int alignment = (int) Math.max(blockSize, MIN_ALIGNMENT);
            try (FileChannel ch = FileChannel.open(probe, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                    ExtendedOpenOption.DIRECT)) {
                ByteBuffer block = alignedBuffer(alignment, alignment);
                while (block.hasRemaining()) {
                    ch.write(block);
                }
            }
            try (FileChannel ch = FileChannel.open(probe, StandardOpenOption.READ, ExtendedOpenOption.DIRECT)) {
                ch.read(alignedBuffer(alignment, alignment));
            }
            return alignment;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return 0; // e.g. tmpfs or a network file system: the page cache it is
        } finally {
            try {
                Files.deleteIfExists(probe);
            } catch (IOException ignored) {
                // a leftover probe carries the temporary mark, so no listing shows it
            }
        }
    }
}
