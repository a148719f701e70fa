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
 *   <li>{@link #put} is atomic and durable when it returns: a reader sees the whole new object or the old one.
 *       It does not keep {@code data}: the caller may reuse the array once it returns.</li>
 *   <li>{@link #get} of a missing key returns empty; {@link #delete} of a missing key is not an error.</li>
 *   <li>{@link #list} calls back exactly once per stored key under the prefix, in no promised order, even while
 *       other threads put and delete; it never shows a half-written object or a temporary file.</li>
 *   <li>A key that escapes the store (empty segment, {@code ..}, leading {@code /}) or holds any character outside
 *       the set above is refused with {@link IllegalArgumentException}.</li>
 *   <li>Do not store a key that is also the directory of other keys ({@code a} and {@code a/b}): object stores
 *       allow it, the file store refuses the second put.</li>
 * </ul>
 */
public interface BlobStore extends AutoCloseable {
    void put(String key, byte[] data);

    Optional<byte[]> get(String key);

    /**
     * Reads {@code length} bytes from {@code offset}; fails with {@link BlobNotFoundException} if the blob is missing
     * or shorter than {@code offset + length}, and with {@link IllegalArgumentException} if either is negative.
     */
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

    /** A negative range is a programming error, refused before the blob is looked at. */
    static void checkRange(String key, long offset, long length) {
        if (offset < 0 || length < 0) {
            throw new IllegalArgumentException("range of blob " + key + " must not be negative: " + offset + "+"
                    + length);
        }
    }

    /** A range must lie within the blob's {@code size} bytes; outside it, it names no bytes of the blob. */
    static void checkWithin(String key, long size, long offset, long length) {
        // written as a subtraction so a huge length cannot overflow past the check
        if (offset > size || length > size - offset) {
            throw new BlobNotFoundException("blob " + key + " has " + size + " bytes; range " + offset + "+" + length
                    + " is outside it");
        }
    }

    /** A prefix is the beginning of a key: it may be empty or end in {@code /} or mid-segment, but never climb out. */
    static void checkPrefix(String prefix) {
        if (prefix == null) {
            throw new IllegalArgumentException("blob prefix must not be null");
        }
        if (prefix.isEmpty()) {
            return;
        }
        // appending a letter turns every legal prefix into a legal key ("a/" -> "a/x", "a/b" -> "a/bx")
        try {
            checkKey(prefix + "x");
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid blob prefix: " + prefix);
        }
    }
}
