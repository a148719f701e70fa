package io.coffre.compute.nbd;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/** Whole-buffer reads and writes on a blocking socket channel. */
final class Wire {
    /**
     * The most one channel call moves. The JDK copies heap buffers through a per-thread cached direct buffer as big as
     * the largest call, so slicing keeps that cache at 1 MiB per thread instead of the 32 MiB a maximal request needs.
     */
    private static final int SLICE = 1 << 20;

    private Wire() {
    }

    /** Fills {@code buffer} from its position to its limit; a connection closed before that is an EOFException. */
    static void readFully(SocketChannel channel, ByteBuffer buffer) throws IOException {
        int end = buffer.limit();
        try {
            while (buffer.position() < end) {
                buffer.limit(Math.min(end, buffer.position() + SLICE));
                if (channel.read(buffer) < 0) {
                    throw new EOFException("connection closed by the peer");
                }
            }
        } finally {
            buffer.limit(end);
        }
    }

    static ByteBuffer read(SocketChannel channel, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        readFully(channel, buffer);
        return buffer.flip();
    }

    /** Reads and drops {@code length} bytes, so that the stream stays in step after a refused payload. */
    static void skip(SocketChannel channel, long length) throws IOException {
        ByteBuffer scratch = ByteBuffer.allocate((int) Math.min(length, 64 * 1024));
        long left = length;
        while (left > 0) {
            scratch.clear().limit((int) Math.min(left, scratch.capacity()));
            readFully(channel, scratch);
            left -= scratch.limit();
        }
    }

    /** Writes every buffer from its position to its limit, in order. */
    static void write(SocketChannel channel, ByteBuffer... buffers) throws IOException {
        for (ByteBuffer buffer : buffers) {
            int end = buffer.limit();
            while (buffer.position() < end) {
                buffer.limit(Math.min(end, buffer.position() + SLICE));
                channel.write(buffer);
                buffer.limit(end);
            }
        }
    }
}
