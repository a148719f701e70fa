package io.coffre.store;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.Consumer;

/**
 * A {@link BlobStore} in a map, for fast fixtures. It passes the same contract as the durable stores, so code
 * tested on it behaves the same on them (apart from durability across restarts, which it does not have).
 */
public final class InMemoryBlobStore implements BlobStore {
    private final ConcurrentMap<String, byte[]> blobs = new ConcurrentHashMap<>();

    @Override
    public void put(String key, byte[] data) {
        BlobStore.checkKey(key);
        blobs.put(key, data.clone());
    }

    @Override
    public Optional<byte[]> get(String key) {
        BlobStore.checkKey(key);
        byte[] data = blobs.get(key);
        return data == null ? Optional.empty() : Optional.of(data.clone());
    }

    @Override
    public InputStream open(String key, long offset, long length) {
        BlobStore.checkKey(key);
        BlobStore.checkRange(key, offset, length);
        byte[] data = blobs.get(key);
        if (data == null) {
            throw new BlobNotFoundException("no blob " + key);
        }
        BlobStore.checkWithin(key, data.length, offset, length);
        // stored arrays are never mutated (put replaces them), so the stream may read the live one
        return new ByteArrayInputStream(data, (int) offset, (int) length);
    }

    @Override
    public boolean exists(String key) {
        BlobStore.checkKey(key);
        return blobs.containsKey(key);
    }

    @Override
    public void delete(String key) {
        BlobStore.checkKey(key);
        blobs.remove(key);
    }

    @Override
    public void list(String prefix, Consumer<String> keys) {
        BlobStore.checkPrefix(prefix);
        blobs.keySet().stream().filter(k -> k.startsWith(prefix)).forEach(keys);
    }

    /** Total bytes held, for tests that check what was (not) stored. */
    public long totalBytes() {
        return blobs.values().stream().mapToLong(b -> b.length).sum();
    }
}
