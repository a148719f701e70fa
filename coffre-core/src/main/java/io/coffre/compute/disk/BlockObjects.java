package io.coffre.compute.disk;

import io.coffre.store.BlobStore;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.UUID;
import javax.crypto.SecretKey;

/**
 * The single place block plaintext is encrypted into objects and objects are verified and decrypted: SHA-256 against
 * the block map first (so an old or foreign object cannot be replayed), then the format's own checks and GCM.
 *
 * <p>Verified plaintext of the last few blocks read is kept, keyed by object name: objects are immutable, so an
 * entry can never be stale, and a sequence of small reads in one block verifies and decrypts it once. A hit still
 * asks the key ring, so a key disabled upstream stops reads at once. The {@link SecureRandom} is shared by the
 * flush workers; the JDK's implementations are safe for concurrent use.
 */
final class BlockObjects {
    private final BlobStore blobs;
    private final DataKeyRing keys;
    private final SecureRandom random;
    private final Map<String, byte[]> recent;
    /**
     * One object buffer of a full block per flush worker, reused: a put does not keep the array (the blob store's
     * contract), and a fresh 4 MiB array per block costs the collector a humongous allocation each time.
     */
    private final ThreadLocal<byte[]> fullObjectBuffer =
            ThreadLocal.withInitial(() -> new byte[BlockFormat.objectLength(BlockFormat.BLOCK_BYTES)]);

    BlockObjects(BlobStore blobs, DataKeyRing keys, SecureRandom random, int cachedBlocks) {
        this.blobs = blobs;
        this.keys = keys;
        this.random = random;
        this.recent = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, byte[]> eldest) {
                return size() > cachedBlocks;
            }
        };
    }

    /** A fresh object name; the random write id goes into the header as well. */
    UUID newWriteId() {
        byte[] bytes = new byte[BlockFormat.ID_BYTES];
        random.nextBytes(bytes);
        ByteBuffer id = ByteBuffer.wrap(bytes);
        return new UUID(id.getLong(), id.getLong());
    }

    /** Encrypts block {@code index} under {@code keyId}, stores it durably under the write id's name. */
    BlockRef put(UUID keyId, UUID writeId, long index, byte[] plaintext, int length) {
        SecretKey key = key(keyId, null);
        byte[] object = length == BlockFormat.BLOCK_BYTES
                ? BlockFormat.encode(key, keyId, writeId, index, plaintext, length, random, fullObjectBuffer.get())
                : BlockFormat.encode(key, keyId, writeId, index, plaintext, length, random);
        String blobKey = BlockRef.blobKey(writeId);
        blobs.put(blobKey, object);
        return new BlockRef(blobKey, sha256(object), keyId);
    }

    /**
     * Journal entry {@code seq} of block {@code index}, holding {@code record}, encrypted under {@code keyId}. Its id
     * is its sequence number, so that an entry moved to another place of the block's journal does not verify.
     */
    byte[] sealJournal(UUID keyId, long index, int seq, byte[] record) {
        return BlockFormat.encodeJournal(key(keyId, null), keyId, journalEntryId(seq), index, record, random);
    }

    /**
     * The records of the journal entries of a block of disk {@code diskId}, whose blocks are written under
     * {@code keyId}, given by sequence number: they must be numbered from 0 without a gap. The first entry's id is not
     * checked (entries written before sequence numbers had random ids); any reordering moves another entry after it.
     */
    List<byte[]> openJournal(String diskId, UUID keyId, long index, SortedMap<Integer, byte[]> entries) {
        SecretKey key = key(keyId, diskId);
        List<byte[]> records = new ArrayList<>();
        for (Map.Entry<Integer, byte[]> entry : entries.entrySet()) {
            int seq = records.size();
            try {
                if (entry.getKey() != seq) {
                    throw new BlockIntegrityException("entry " + seq + " is missing");
                }
                records.add(BlockFormat.decodeJournal(key, keyId, index, seq == 0 ? null : journalEntryId(seq),
                        entry.getValue()));
            } catch (BlockIntegrityException e) {
                throw new BlockIntegrityException("The journal of block " + index + " of disk " + diskId
                        + " failed verification at entry " + seq + ": " + e.getMessage() + ". The writes it held are "
                        + "lost; restore the disk from a snapshot or a backup.", e);
            }
        }
        return records;
    }

    private static UUID journalEntryId(int seq) {
        return new UUID(0, seq);
    }

    /**
     * The verified plaintext of a mapped block (shorter than a block for the tail of a disk). The array is shared
     * with the cache: callers copy from it and never write to it.
     */
    byte[] read(String mapId, long index, BlockRef ref) {
        SecretKey key = key(ref.keyId(), mapId);
        synchronized (recent) {
            byte[] hit = recent.get(ref.blobKey());
            if (hit != null) {
                return hit;
            }
        }
        String where = "Block " + index + " of disk " + mapId + " (object " + ref.blobKey() + ")";
        byte[] object = blobs.get(ref.blobKey()).orElseThrow(() -> new BlockIntegrityException(where
                + " is missing from the blob store. Restore the disk from a snapshot or a backup."));
        if (!MessageDigest.isEqual(sha256(object), ref.sha256())) {
            throw new BlockIntegrityException(where + " does not match the SHA-256 recorded in the block map: it was "
                    + "altered, truncated or replaced by another object. Restore the disk from a snapshot or a backup.");
        }
        byte[] plaintext;
        try {
            plaintext = new byte[BlockFormat.header(object).plaintextLength()];
            BlockFormat.decode(key, ref.keyId(), index, object, plaintext);
        } catch (BlockIntegrityException e) {
            // reachable only if the map itself was altered to match a forged object
            throw new BlockIntegrityException(where + " failed verification: " + e.getMessage()
                    + ". Restore the disk from a snapshot or a backup.", e);
        }
        synchronized (recent) {
            recent.put(ref.blobKey(), plaintext);
        }
        return plaintext;
    }

    /** Throws {@link DiskKeyUnavailableException} unless the key ring gives {@code readerId} the key now. */
    void requireKey(UUID keyId, String readerId) {
        key(keyId, readerId);
    }

    void delete(String blobKey) {
        synchronized (recent) {
            recent.remove(blobKey);
        }
        blobs.delete(blobKey);
    }

    BlobStore blobs() {
        return blobs;
    }

    private SecretKey key(UUID keyId, String readerId) {
        Optional<SecretKey> key = keys.key(keyId, readerId);
        return key.orElseThrow(() -> new DiskKeyUnavailableException(keyId, "the key ring no longer provides it "
                + "(its wrapping key was disabled or deleted, or access to it was removed). Make the key usable "
                + "again, or restore the disk's key, and retry."));
    }

    static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is unavailable in this JDK", e);
        }
    }
}
