package io.coffre.store;

import java.io.InputStream;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Untrusted, durable storage of immutable byte objects addressed by a key of {@code [a-zA-Z0-9._/-]} segments.
 * It knows nothing of encryption or meaning: everything stored here is already sealed by its owner.
 *
 * <p>Contract (checked by {@code BlobStoreContract} in the test-jar):
 * <ul>
 *   <li>{@link #put} is atomic and durable when it returns: a reader sees the whole new object or the old one.</li>
 *   <li>{@link #get} of a missing key returns empty; {@link #delete} of a missing key is not an error.</li>
 *   <li>{@link #list} calls back exactly once per stored key under the prefix, in no promised order.</li>
 *   <li>A key that escapes the store (empty segment, {@code ..}, leading {@code /}) is refused.</li>
 * </ul>
 */
public interface BlobStore extends AutoCloseable {
    void put(String key, byte[] data);

    Optional<byte[]> get(String key);

    /** Reads {@code length} bytes from {@code offset}; fails with {@link BlobNotFoundException} or if short. */
    InputStream open(String key, long offset, long length);

    boolean exists(String key);

    void delete(String key);

    void list(String prefix, Consumer<String> keys);

    @Override
    default void close() {
    }

    static void checkKey(String key) {
        if (key == null || key.isEmpty() || key.startsWith("/") || key.endsWith("/")
                || !key.matches("[a-zA-Z0-9._/-]+")) {
            throw new IllegalArgumentException("invalid blob key: " + key);
        }
        for (String segment : key.split("/")) {
            if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
                throw new IllegalArgumentException("invalid blob key: " + key);
            }
        }
    }
}
