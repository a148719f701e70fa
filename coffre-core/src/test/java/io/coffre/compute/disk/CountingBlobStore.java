package io.coffre.compute.disk;

import io.coffre.store.BlobStore;
import java.io.InputStream;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/** Counts the puts and gets that reach a real blob store. */
final class CountingBlobStore implements BlobStore {
    final AtomicInteger puts = new AtomicInteger();
    final AtomicInteger gets = new AtomicInteger();
    private final BlobStore delegate;

    CountingBlobStore(BlobStore delegate) {
        this.delegate = delegate;
    }

    @Override
    public void put(String key, byte[] data) {
        puts.incrementAndGet();
        delegate.put(key, data);
    }

    @Override
    public Optional<byte[]> get(String key) {
        gets.incrementAndGet();
        return delegate.get(key);
    }

    @Override
    public InputStream open(String key, long offset, long length) {
        return delegate.open(key, offset, length);
    }

    @Override
    public boolean exists(String key) {
        return delegate.exists(key);
    }

    @Override
    public void delete(String key) {
        delegate.delete(key);
    }

    @Override
    public void list(String prefix, Consumer<String> keys) {
        delegate.list(prefix, keys);
    }
}
