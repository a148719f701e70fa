package io.coffre.compute.nbd;

import io.coffre.compute.disk.BlockDevice;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An export registry as compute will have one: one shared disk per name, and each connection gets a handle whose
 * close flushes the disk and releases only the handle.
 */
final class TestExports implements ExportRegistry {
    private record Disk(BlockDevice device, boolean readOnly) {
    }

    private final Map<String, Disk> disks = new ConcurrentHashMap<>();
    final AtomicInteger opened = new AtomicInteger();
    final AtomicInteger released = new AtomicInteger();

    TestExports add(String name, BlockDevice device, boolean readOnly) {
        disks.put(name, new Disk(device, readOnly));
        return this;
    }

    void remove(String name) {
        disks.remove(name);
    }

    int openHandles() {
        return opened.get() - released.get();
    }

    @Override
    public Optional<Export> open(String exportName) {
        Disk disk = disks.get(exportName);
        if (disk == null) {
            return Optional.empty();
        }
        opened.incrementAndGet();
        return Optional.of(new Export(new Handle(disk.device()), disk.readOnly()));
    }

    @Override
    public List<String> list() {
        return disks.keySet().stream().sorted().toList();
    }

    private final class Handle implements BlockDevice {
        private final BlockDevice disk;

        Handle(BlockDevice disk) {
            this.disk = disk;
        }

        @Override
        public long size() {
            return disk.size();
        }

        @Override
        public void read(long offset, byte[] target, int targetOffset, int length) {
            disk.read(offset, target, targetOffset, length);
        }

        @Override
        public void write(long offset, byte[] source, int sourceOffset, int length, boolean fua) {
            disk.write(offset, source, sourceOffset, length, fua);
        }

        @Override
        public void flush() {
            disk.flush();
        }

        @Override
        public void trim(long offset, long length) {
            disk.trim(offset, length);
        }

        @Override
        public void close() {
            disk.flush();
            released.incrementAndGet();
        }
    }
}
