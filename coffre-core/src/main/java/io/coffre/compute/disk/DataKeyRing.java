package io.coffre.compute.disk;

import java.util.Optional;
import java.util.UUID;
import javax.crypto.SecretKey;

/**
 * Where disk data keys come from. The disk layer only ever holds a plaintext AES-256 key in memory, asked for by id;
 * generating, wrapping (AES-KW under the DES key), storing and rotating keys is the ring's business.
 */
public interface DataKeyRing {
    /** Creates a fresh random AES-256 key that will encrypt every block {@code diskId} writes, and returns its id. */
    UUID newKey(String diskId);

    /**
     * The key with this id, or empty when it is unknown or no longer usable. A ring that knows why (the wrapping key
     * was disabled, deleted, not permitted) may throw {@link DiskKeyUnavailableException} with that reason instead.
     */
    Optional<SecretKey> key(UUID keyId);

    /**
     * The key with this id as the disk or snapshot {@code readerId} reads it: a ring that stores several wrappings of
     * one key (a disk restored under another DES) uses the reader's own, so disabling that wrapping's key stops the
     * reader even while another wrapping still works. {@code readerId} is null when no disk reads (a write).
     */
    default Optional<SecretKey> key(UUID keyId, String readerId) {
        return key(keyId);
    }
}
