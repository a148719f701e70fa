package io.coffre.compute.disk;

import static io.coffre.compute.disk.BlockFormat.HEADER_BYTES;
import static io.coffre.compute.disk.BlockFormat.NONCE_BYTES;
import static io.coffre.compute.disk.BlockFormat.SEGMENT_BYTES;
import static io.coffre.compute.disk.BlockFormat.SEGMENT_OVERHEAD;
import static io.coffre.compute.disk.BlockFormat.TAG_BYTES;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.UUID;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class BlockFormatTest {
    private static final HexFormat HEX = HexFormat.of();
    private static final SecretKey KEY = new SecretKeySpec(range(0, 32), "AES");
    private static final UUID KEY_ID = UUID.fromString("00112233-4455-6677-8899-aabbccddeeff");
    private static final UUID WRITE_ID = UUID.fromString("0f0e0d0c-0b0a-0908-0706-050403020100");
    private static final long BLOCK_INDEX = 7;
    private static final int LENGTH = SEGMENT_BYTES + 1000;

    @Test
    void headerOffsetsAreTheDocumentedOnes() {
        assertThat(new int[] {BlockFormat.MAGIC_OFFSET, BlockFormat.VERSION_OFFSET, BlockFormat.KEY_ID_OFFSET,
                BlockFormat.WRITE_ID_OFFSET, BlockFormat.BLOCK_INDEX_OFFSET, BlockFormat.PLAINTEXT_LENGTH_OFFSET,
                BlockFormat.SEGMENT_COUNT_OFFSET, HEADER_BYTES}).containsExactly(0, 4, 5, 21, 37, 45, 49, 53);
        assertThat(BlockFormat.BLOCK_BYTES).isEqualTo(4 << 20);
        assertThat(SEGMENT_BYTES).isEqualTo(64 << 10);
    }

    /**
     * Known answer computed independently with pyca/cryptography: see block-format-v1-kat.py next to this test
     * (test resources), which prints every expected value below.
     */
    @Test
    void knownAnswer() {
        byte[] object = knownAnswerObject();
        assertThat(object).hasSize(66645);
        assertThat(HEX.formatHex(object, 0, HEADER_BYTES)).isEqualTo("4346424b0100112233445566778899aabbccddeeff"
                + "0f0e0d0c0b0a090807060504030201000000000000000007000103e800000002");
        assertThat(HEX.formatHex(object, HEADER_BYTES + NONCE_BYTES, HEADER_BYTES + NONCE_BYTES + 16))
                .isEqualTo("e13e3949c669c35f9d7bba8f7ce07906");
        int firstTag = HEADER_BYTES + NONCE_BYTES + SEGMENT_BYTES;
        assertThat(HEX.formatHex(object, firstTag, firstTag + TAG_BYTES)).isEqualTo("139070bd6b05cd5711e61f8e3558ad1c");
        assertThat(HEX.formatHex(object, object.length - TAG_BYTES, object.length))
                .isEqualTo("e9320192eff4857cd6448fce2764b54a");
        assertThat(HEX.formatHex(BlockObjects.sha256(object)))
                .isEqualTo("424a119691b985c923e2ba880fadc05f9de35f0508724895b6f872fda108a59e");

        byte[] plaintext = new byte[LENGTH];
        BlockFormat.Header header = BlockFormat.decode(KEY, KEY_ID, BLOCK_INDEX, object, plaintext);
        assertThat(plaintext).isEqualTo(knownPlaintext());
        assertThat(header).isEqualTo(new BlockFormat.Header(KEY_ID, WRITE_ID, BLOCK_INDEX, LENGTH, 2));
    }

    @Property(tries = 60)
    void decodesWhatItEncoded(@ForAll @IntRange(min = 1, max = 4 << 20) int length, @ForAll long seed) {
        byte[] plaintext = new byte[length];
        new java.util.Random(seed).nextBytes(plaintext);
        byte[] object = BlockFormat.encode(KEY, KEY_ID, WRITE_ID, 3, plaintext, length, new SecureRandom());
        assertThat(object).hasSize(BlockFormat.objectLength(length));
        byte[] decoded = new byte[length];
        BlockFormat.decode(KEY, KEY_ID, 3, object, decoded);
        assertThat(decoded).isEqualTo(plaintext);
    }

    /** A journal entry and a block object share a layout, not a magic: neither decodes as the other. */
    @Test
    void journalEntriesAndBlockObjectsCannotPassForEachOther() {
        byte[] record = range(0, 300);
        byte[] entry = BlockFormat.encodeJournal(KEY, KEY_ID, WRITE_ID, BLOCK_INDEX, record, new SecureRandom());
        assertThat(BlockFormat.decodeJournal(KEY, KEY_ID, BLOCK_INDEX, WRITE_ID, entry)).isEqualTo(record);
        assertThatThrownBy(() -> BlockFormat.decodeJournal(KEY, KEY_ID, BLOCK_INDEX, KEY_ID, entry))
                .isInstanceOf(BlockIntegrityException.class).hasMessageContaining("moved from another place");
        assertThat(Arrays.copyOf(entry, 4)).isEqualTo(BlockFormat.JOURNAL_MAGIC);

        assertThatThrownBy(() -> BlockFormat.decode(KEY, KEY_ID, BLOCK_INDEX, entry, new byte[record.length]))
                .isInstanceOf(BlockIntegrityException.class).hasMessageContaining("not a block object");
        byte[] object = knownAnswerObject();
        assertThatThrownBy(() -> BlockFormat.decodeJournal(KEY, KEY_ID, BLOCK_INDEX, null, object))
                .isInstanceOf(BlockIntegrityException.class).hasMessageContaining("not a journal entry");
        byte[] relabelled = object.clone();
        System.arraycopy(BlockFormat.JOURNAL_MAGIC, 0, relabelled, 0, 4);
        assertThatThrownBy(() -> BlockFormat.decodeJournal(KEY, KEY_ID, BLOCK_INDEX, null, relabelled))
                .as("the magic is authenticated with the header").isInstanceOf(BlockIntegrityException.class)
                .hasMessageContaining("failed authentication");
    }

    @Test
    void everySegmentGetsItsOwnRandomNonce() {
        byte[] plaintext = new byte[3 * SEGMENT_BYTES];
        byte[] object = BlockFormat.encode(KEY, KEY_ID, WRITE_ID, 0, plaintext, plaintext.length, new SecureRandom());
        byte[] again = BlockFormat.encode(KEY, KEY_ID, WRITE_ID, 0, plaintext, plaintext.length, new SecureRandom());
        assertThat(nonce(object, 0)).isNotEqualTo(nonce(object, 1)).isNotEqualTo(nonce(again, 0));
        assertThat(Arrays.copyOfRange(object, HEADER_BYTES, object.length))
                .isNotEqualTo(Arrays.copyOfRange(again, HEADER_BYTES, again.length));
    }

    /** Decoding without the block map's SHA-256: the format alone must catch every one of these. */
    @Nested
    class Tampering {
        private final byte[] object = knownAnswerObject();

        @ParameterizedTest(name = "bit flipped at byte {0}")
        @ValueSource(ints = {0, 4, 5, 21, 37, 45, 49, 53, 65, 66000, 66628, 66644})
        void aFlippedBitAnywhereIsCaught(int position) {
            object[position] ^= 0x10;
            assertRejected(object, BLOCK_INDEX);
        }

        @Test
        void swappedSegmentsAreCaught() {
            byte[] threeSegments = BlockFormat.encode(KEY, KEY_ID, WRITE_ID, 1, new byte[3 * SEGMENT_BYTES],
                    3 * SEGMENT_BYTES, new SecureRandom());
            int segment = SEGMENT_BYTES + SEGMENT_OVERHEAD;
            byte[] swapped = threeSegments.clone();
            System.arraycopy(threeSegments, HEADER_BYTES, swapped, HEADER_BYTES + segment, segment);
            System.arraycopy(threeSegments, HEADER_BYTES + segment, swapped, HEADER_BYTES, segment);
            assertThatThrownBy(() -> BlockFormat.decode(KEY, KEY_ID, 1, swapped, new byte[3 * SEGMENT_BYTES]))
                    .isInstanceOf(BlockIntegrityException.class).hasMessageContaining("segment 0 of 3");
        }

        @Test
        void aTruncatedObjectIsCaughtEvenWithAForgedHeader() {
            assertRejected(Arrays.copyOf(object, object.length - 1), BLOCK_INDEX);
            assertRejected(Arrays.copyOf(object, HEADER_BYTES - 1), BLOCK_INDEX);
            // drop the last segment and rewrite the header to claim one segment: the header is in every AAD
            byte[] cut = Arrays.copyOf(object, HEADER_BYTES + SEGMENT_BYTES + SEGMENT_OVERHEAD);
            java.nio.ByteBuffer.wrap(cut).putInt(BlockFormat.PLAINTEXT_LENGTH_OFFSET, SEGMENT_BYTES)
                    .putInt(BlockFormat.SEGMENT_COUNT_OFFSET, 1);
            assertThatThrownBy(() -> BlockFormat.decode(KEY, KEY_ID, BLOCK_INDEX, cut, new byte[LENGTH]))
                    .isInstanceOf(BlockIntegrityException.class).hasMessageContaining("failed authentication");
        }

        @Test
        void anObjectMovedToAnotherBlockIsCaught() {
            assertThatThrownBy(() -> BlockFormat.decode(KEY, KEY_ID, BLOCK_INDEX + 1, object, new byte[LENGTH]))
                    .isInstanceOf(BlockIntegrityException.class).hasMessageContaining("belongs to block 7");
            // relabelled as block 8 too: every segment's AAD still says 7
            java.nio.ByteBuffer.wrap(object).putLong(BlockFormat.BLOCK_INDEX_OFFSET, BLOCK_INDEX + 1);
            assertRejected(object, BLOCK_INDEX + 1);
        }

        @Test
        void anotherKeyOrKeyIdIsCaught() {
            SecretKey other = new SecretKeySpec(range(100, 132), "AES");
            assertThatThrownBy(() -> BlockFormat.decode(other, KEY_ID, BLOCK_INDEX, object, new byte[LENGTH]))
                    .isInstanceOf(BlockIntegrityException.class).hasMessageContaining("failed authentication");
            assertThatThrownBy(() -> BlockFormat.decode(KEY, UUID.randomUUID(), BLOCK_INDEX, object,
                    new byte[LENGTH])).isInstanceOf(BlockIntegrityException.class).hasMessageContaining("data key");
        }

        private void assertRejected(byte[] tampered, long index) {
            assertThatThrownBy(() -> BlockFormat.decode(KEY, KEY_ID, index, tampered, new byte[LENGTH]))
                    .isInstanceOf(BlockIntegrityException.class)
                    .satisfies(e -> assertThat(((BlockIntegrityException) e).code())
                            .isEqualTo("DiskDataIntegrityError"));
        }
    }

    static byte[] knownAnswerObject() {
        SecureRandom nonces = new ScriptedRandom(range(0xA0, 0xAC), range(0xB0, 0xBC));
        return BlockFormat.encode(KEY, KEY_ID, WRITE_ID, BLOCK_INDEX, knownPlaintext(), LENGTH, nonces);
    }

    private static byte[] knownPlaintext() {
        byte[] plaintext = new byte[LENGTH];
        for (int i = 0; i < LENGTH; i++) {
            plaintext[i] = (byte) (i * 31 + 7);
        }
        return plaintext;
    }

    private static byte[] nonce(byte[] object, int segment) {
        int at = HEADER_BYTES + segment * (SEGMENT_BYTES + SEGMENT_OVERHEAD);
        return Arrays.copyOfRange(object, at, at + NONCE_BYTES);
    }

    private static byte[] range(int from, int to) {
        byte[] bytes = new byte[to - from];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) (from + i);
        }
        return bytes;
    }
}
