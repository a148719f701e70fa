package io.coffre.compute.disk;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.UUID;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;

/**
 * Block object format, version 1: one logical block encrypted as an immutable object. All integers big-endian.
 *
 * <pre>
 * offset  header (53 bytes)
 *      0  magic "CFBK"                              4
 *      4  format version (1)                        1
 *      5  data-key id (UUID)                       16
 *     21  write id (random; names the object)      16
 *     37  block index                               8
 *     45  plaintext length (1 .. 4 MiB)             4
 *     49  segment count (ceil(length / 64 KiB))     4
 *     53  segments, in order: nonce (12, random) | ciphertext (<= 64 KiB) | GCM tag (16)
 *
 * AAD of segment i = header (53) | block index (8) | i (4) | final flag (1 on the last segment, else 0)
 * </pre>
 *
 * Binding the whole header, the position and the final flag into every segment's AAD means a segment cannot be
 * swapped, reordered, dropped from the end or moved into another block or object without failing authentication.
 * Segments are 64 KiB because the JDK's GCM is fast at that size and slow on multi-megabyte single calls. A journal
 * entry (a partial block's small writes, made durable without rewriting the block: {@link WriteBackDevice}) has the
 * same layout under its own magic "CFJL", so neither can pass for the other. With
 * random 96-bit nonces one key may seal at most 2^32 segments (NIST SP 800-38D), i.e. 256 TiB written through one
 * disk key; copies get their own key, so the budget is per disk, not per lineage.
 */
final class BlockFormat {
    static final int BLOCK_BYTES = 4 << 20;
    static final int SEGMENT_BYTES = 64 << 10;
    static final byte VERSION = 1;
    static final byte[] MAGIC = "CFBK".getBytes(StandardCharsets.US_ASCII);
    static final byte[] JOURNAL_MAGIC = "CFJL".getBytes(StandardCharsets.US_ASCII);

    static final int MAGIC_OFFSET = 0;
    static final int MAGIC_BYTES = 4;
    static final int VERSION_OFFSET = MAGIC_OFFSET + MAGIC_BYTES;
    static final int ID_BYTES = 16;
    static final int KEY_ID_OFFSET = VERSION_OFFSET + 1;
    static final int WRITE_ID_OFFSET = KEY_ID_OFFSET + ID_BYTES;
    static final int BLOCK_INDEX_OFFSET = WRITE_ID_OFFSET + ID_BYTES;
    static final int PLAINTEXT_LENGTH_OFFSET = BLOCK_INDEX_OFFSET + Long.BYTES;
    static final int SEGMENT_COUNT_OFFSET = PLAINTEXT_LENGTH_OFFSET + Integer.BYTES;
    static final int HEADER_BYTES = SEGMENT_COUNT_OFFSET + Integer.BYTES;

    static final int NONCE_BYTES = 12;
    static final int TAG_BYTES = 16;
    static final int SEGMENT_OVERHEAD = NONCE_BYTES + TAG_BYTES;
    private static final int AAD_BYTES = HEADER_BYTES + Long.BYTES + Integer.BYTES + 1;

    private BlockFormat() {
    }

    /** What the header says; trusted only after every segment authenticated against it. */
    record Header(UUID keyId, UUID writeId, long blockIndex, int plaintextLength, int segmentCount) {
    }

    static int segmentCount(int plaintextLength) {
        return (plaintextLength + SEGMENT_BYTES - 1) / SEGMENT_BYTES;
    }

    static int objectLength(int plaintextLength) {
        return HEADER_BYTES + plaintextLength + segmentCount(plaintextLength) * SEGMENT_OVERHEAD;
    }

    /** Encrypts {@code plaintext[0, length)} as block {@code blockIndex}; nonces come from {@code random}. */
    static byte[] encode(SecretKey key, UUID keyId, UUID writeId, long blockIndex, byte[] plaintext, int length,
                         SecureRandom random) {
        checkLength(plaintext, length);
        return encode(key, keyId, writeId, blockIndex, plaintext, length, random, new byte[objectLength(length)]);
    }

    /**
     * As {@link #encode(SecretKey, UUID, UUID, long, byte[], int, SecureRandom)}, into {@code out}, which must have
     * exactly {@link #objectLength} bytes; lets a caller reuse one buffer for object after object.
     */
    static byte[] encode(SecretKey key, UUID keyId, UUID writeId, long blockIndex, byte[] plaintext, int length,
                         SecureRandom random, byte[] out) {
        return encode(MAGIC, key, keyId, writeId, blockIndex, plaintext, length, random, out);
    }

    /** A journal entry for block {@code blockIndex}: {@code record} encrypted as a block object is, under its magic. */
    static byte[] encodeJournal(SecretKey key, UUID keyId, UUID entryId, long blockIndex, byte[] record,
                                SecureRandom random) {
        checkLength(record, record.length);
        return encode(JOURNAL_MAGIC, key, keyId, entryId, blockIndex, record, record.length, random,
                new byte[objectLength(record.length)]);
    }

    private static byte[] encode(byte[] magic, SecretKey key, UUID keyId, UUID writeId, long blockIndex,
                                 byte[] plaintext, int length, SecureRandom random, byte[] out) {
        checkLength(plaintext, length);
        if (out.length != objectLength(length)) {
            throw new IllegalArgumentException("the object of " + length + " plaintext bytes has "
                    + objectLength(length) + " bytes, not " + out.length);
        }
        int segments = segmentCount(length);
        ByteBuffer.wrap(out)
                .put(magic).put(VERSION)
                .putLong(keyId.getMostSignificantBits()).putLong(keyId.getLeastSignificantBits())
                .putLong(writeId.getMostSignificantBits()).putLong(writeId.getLeastSignificantBits())
                .putLong(blockIndex).putInt(length).putInt(segments);
        byte[] aad = new byte[AAD_BYTES];
        System.arraycopy(out, 0, aad, 0, HEADER_BYTES);
        try {
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            int in = 0;
            int pos = HEADER_BYTES;
            for (int i = 0; i < segments; i++) {
                int chunk = Math.min(SEGMENT_BYTES, length - in);
                byte[] nonce = new byte[NONCE_BYTES];
                random.nextBytes(nonce);
                System.arraycopy(nonce, 0, out, pos, NONCE_BYTES);
                cipher.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BYTES * 8, nonce));
                cipher.updateAAD(segmentAad(aad, blockIndex, i, i == segments - 1));
                pos += NONCE_BYTES;
                pos += cipher.doFinal(plaintext, in, chunk, out, pos);
                in += chunk;
            }
            return out;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM encryption failed", e);
        }
    }

    private static void checkLength(byte[] plaintext, int length) {
        if (length < 1 || length > BLOCK_BYTES || length > plaintext.length) {
            throw new IllegalArgumentException("block plaintext length must be 1.." + BLOCK_BYTES + ", got " + length);
        }
    }

    /** Reads and checks the header's shape; says nothing about authenticity yet. */
    static Header header(byte[] object) {
        return header(MAGIC, object);
    }

    private static Header header(byte[] magic, byte[] object) {
        if (object.length < HEADER_BYTES) {
            throw new BlockIntegrityException("the object is truncated to " + object.length + " bytes, shorter than "
                    + "its header");
        }
        if (!Arrays.equals(object, MAGIC_OFFSET, MAGIC_OFFSET + MAGIC_BYTES, magic, 0, MAGIC_BYTES)) {
            throw new BlockIntegrityException(magic == MAGIC ? "the object is not a block object (bad magic)"
                    : "the entry is not a journal entry (bad magic)");
        }
        if (object[VERSION_OFFSET] != VERSION) {
            throw new BlockIntegrityException("the object has unknown format version " + (object[VERSION_OFFSET] & 0xff));
        }
        ByteBuffer in = ByteBuffer.wrap(object);
        Header header = new Header(uuid(in, KEY_ID_OFFSET), uuid(in, WRITE_ID_OFFSET), in.getLong(BLOCK_INDEX_OFFSET),
                in.getInt(PLAINTEXT_LENGTH_OFFSET), in.getInt(SEGMENT_COUNT_OFFSET));
        int length = header.plaintextLength();
        if (length < 1 || length > BLOCK_BYTES || header.segmentCount() != segmentCount(length)) {
            throw new BlockIntegrityException("the object header is inconsistent (plaintext length " + length
                    + ", " + header.segmentCount() + " segments)");
        }
        if (object.length != objectLength(length)) {
            throw new BlockIntegrityException("the object has " + object.length + " bytes where its header implies "
                    + objectLength(length) + " (truncated or extended)");
        }
        return header;
    }

    /**
     * Decrypts a whole object into {@code target[0, plaintextLength)} after checking that it is the block expected.
     * Throws {@link BlockIntegrityException} on any mismatch or failed segment; {@code target} may then hold partial
     * plaintext and must be discarded.
     */
    static Header decode(SecretKey key, UUID expectedKeyId, long expectedBlockIndex, byte[] object, byte[] target) {
        return decode(MAGIC, key, expectedKeyId, expectedBlockIndex, object, target);
    }

    /**
     * The record of a journal entry for block {@code expectedBlockIndex}, checked as {@link #decode} checks, and, unless
     * {@code expectedEntryId} is null, that the entry's id (its header's write id) is that one.
     */
    static byte[] decodeJournal(SecretKey key, UUID expectedKeyId, long expectedBlockIndex, UUID expectedEntryId,
                                byte[] entry) {
        byte[] record = new byte[header(JOURNAL_MAGIC, entry).plaintextLength()];
        Header header = decode(JOURNAL_MAGIC, key, expectedKeyId, expectedBlockIndex, entry, record);
        if (expectedEntryId != null && !header.writeId().equals(expectedEntryId)) {
            throw new BlockIntegrityException("the entry has id " + header.writeId() + ", not " + expectedEntryId
                    + " (moved from another place in the journal)");
        }
        return record;
    }

    private static Header decode(byte[] magic, SecretKey key, UUID expectedKeyId, long expectedBlockIndex,
                                 byte[] object, byte[] target) {
        Header header = header(magic, object);
        if (header.blockIndex() != expectedBlockIndex) {
            throw new BlockIntegrityException("the object belongs to block " + header.blockIndex() + ", not "
                    + expectedBlockIndex);
        }
        if (!header.keyId().equals(expectedKeyId)) {
            throw new BlockIntegrityException("the object is encrypted under data key " + header.keyId()
                    + ", not " + expectedKeyId);
        }
        byte[] aad = Arrays.copyOf(object, AAD_BYTES);
        int segments = header.segmentCount();
        try {
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            int pos = HEADER_BYTES;
            int out = 0;
            for (int i = 0; i < segments; i++) {
                int chunk = Math.min(SEGMENT_BYTES, header.plaintextLength() - out);
                cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BYTES * 8, object, pos, NONCE_BYTES));
                cipher.updateAAD(segmentAad(aad, expectedBlockIndex, i, i == segments - 1));
                pos += NONCE_BYTES;
                try {
                    out += cipher.doFinal(object, pos, chunk + TAG_BYTES, target, out);
                } catch (AEADBadTagException e) {
                    throw new BlockIntegrityException("segment " + i + " of " + segments + " failed authentication",
                            e);
                }
                pos += chunk + TAG_BYTES;
            }
            return header;
        } catch (BlockIntegrityException e) {
            throw e;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM decryption failed", e);
        }
    }

    private static byte[] segmentAad(byte[] aad, long blockIndex, int segment, boolean last) {
        ByteBuffer.wrap(aad, HEADER_BYTES, AAD_BYTES - HEADER_BYTES)
                .putLong(blockIndex).putInt(segment).put((byte) (last ? 1 : 0));
        return aad;
    }

    private static UUID uuid(ByteBuffer in, int offset) {
        return new UUID(in.getLong(offset), in.getLong(offset + Long.BYTES));
    }
}
