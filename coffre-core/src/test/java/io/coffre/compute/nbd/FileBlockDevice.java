package io.coffre.compute.nbd;

import io.coffre.compute.disk.BlockDevice;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** A disk in a plain file: positional I/O, fsync on flush and FUA, trim writes zeros. */
final class FileBlockDevice implements BlockDevice {
    private final FileChannel file;
    private final long size;

    FileBlockDevice(Path path, long size) throws IOException {
        this.file = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        this.size = size;
        if (file.size() < size) {
            file.write(ByteBuffer.allocate(1), size - 1);
        }
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public void read(long offset, byte[] target, int targetOffset, int length) {
        ByteBuffer buffer = ByteBuffer.wrap(target, targetOffset, length);
        try {
            while (buffer.hasRemaining()) {
                if (file.read(buffer, offset + buffer.position() - targetOffset) < 0) {
                    throw new IOException("short read at " + offset);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void write(long offset, byte[] source, int sourceOffset, int length, boolean fua) {
        ByteBuffer buffer = ByteBuffer.wrap(source, sourceOffset, length);
        try {
            while (buffer.hasRemaining()) {
                file.write(buffer, offset + buffer.position() - sourceOffset);
            }
            if (fua) {
                file.force(false);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void flush() {
        try {
            file.force(false);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void trim(long offset, long length) {
        byte[] zeros = new byte[(int) Math.min(length, 1 << 20)];
        for (long done = 0; done < length; done += zeros.length) {
            write(offset + done, zeros, 0, (int) Math.min(zeros.length, length - done), false);
        }
    }

    @Override
    public void close() {
        try {
            file.force(false);
            file.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
