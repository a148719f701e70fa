package io.coffre.compute.nbd;

import io.coffre.compute.disk.BlockDevice;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A disk in memory that models NBD's durability contract: {@link #contents} is what reads see, {@link #durable} what
 * would survive a crash — written through on FUA, caught up on flush and close. Counts the calls that tests check.
 */
class MemoryBlockDevice implements BlockDevice {
    private final byte[] contents;
    private final byte[] durable;
    private final ReadWriteLock lock = new ReentrantReadWriteLock();
    final AtomicInteger writes = new AtomicInteger();
    final AtomicInteger fuaWrites = new AtomicInteger();
    final AtomicInteger flushes = new AtomicInteger();
    final AtomicInteger trims = new AtomicInteger();
    final AtomicInteger closes = new AtomicInteger();

    MemoryBlockDevice(int size) {
        this.contents = new byte[size];
        this.durable = new byte[size];
    }

    @Override
    public long size() {
        return contents.length;
    }

    @Override
    public void read(long offset, byte[] target, int targetOffset, int length) {
        lock.readLock().lock();
        try {
            System.arraycopy(contents, Math.toIntExact(offset), target, targetOffset, length);
        } finally {
            lock.readLock().unlock();
        }
    }

    @Override
    public void write(long offset, byte[] source, int sourceOffset, int length, boolean fua) {
        lock.writeLock().lock();
        try {
            System.arraycopy(source, sourceOffset, contents, Math.toIntExact(offset), length);
            if (fua) {
                System.arraycopy(source, sourceOffset, durable, Math.toIntExact(offset), length);
                fuaWrites.incrementAndGet();
            }
            writes.incrementAndGet();
        } finally {
            lock.writeLock().unlock();
        }
    }

    @Override
    public void flush() {
        lock.writeLock().lock();
        try {
            System.arraycopy(contents, 0, durable, 0, contents.length);
            flushes.incrementAndGet();
        } finally {
            lock.writeLock().unlock();
        }
    }

    @Override
    public void trim(long offset, long length) {
        lock.writeLock().lock();
        try {
            Arrays.fill(contents, Math.toIntExact(offset), Math.toIntExact(offset + length), (byte) 0);
            trims.incrementAndGet();
        } finally {
            lock.writeLock().unlock();
        }
    }

    @Override
    public void close() {
        flush();
        closes.incrementAndGet();
    }

    byte[] contents() {
        lock.readLock().lock();
        try {
            return contents.clone();
        } finally {
            lock.readLock().unlock();
        }
    }

    byte[] durable() {
        lock.readLock().lock();
        try {
            return durable.clone();
        } finally {
            lock.readLock().unlock();
        }
    }
}
