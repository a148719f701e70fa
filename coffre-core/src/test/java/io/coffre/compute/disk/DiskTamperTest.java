package io.coffre.compute.disk;

import static io.coffre.compute.disk.BlockFormat.BLOCK_BYTES;
import static io.coffre.compute.disk.BlockFormat.HEADER_BYTES;
import static io.coffre.compute.disk.BlockFormat.SEGMENT_BYTES;
import static io.coffre.compute.disk.BlockFormat.SEGMENT_OVERHEAD;
import static io.coffre.compute.disk.DiskStoreTest.pattern;
import static io.coffre.compute.disk.DiskStoreTest.read;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Someone with write access to the blob store alters block objects; every read of an altered block must fail with
 * {@link BlockIntegrityException}, never return other bytes, and leave the other blocks readable.
 */
class DiskTamperTest {
    private static final long SIZE = 4L * BLOCK_BYTES;
    private static final int SEGMENT = SEGMENT_BYTES + SEGMENT_OVERHEAD;

    @TempDir
    Path dir;
    private DiskFixture fixture;
    private String disk;
    private final byte[] block0 = pattern(20, BLOCK_BYTES);
    private final byte[] block1 = pattern(21, BLOCK_BYTES);

    @BeforeEach
    void writeTwoBlocks() {
        fixture = new DiskFixture(dir);
        disk = fixture.store.create(SIZE, DiskSource.empty());
        try (BlockDevice device = fixture.store.open(disk)) {
            device.write(0, block0, 0, BLOCK_BYTES, false);
            device.write(BLOCK_BYTES, block1, 0, BLOCK_BYTES, false);
        }
    }

    @AfterEach
    void close() {
        fixture.close();
    }

    @Test
    void aFlippedBitIsCaught() throws IOException {
        byte[] object = object(0);
        object[object.length / 2] ^= 0x04;
        replace(0, object);
        assertBlock0Rejected();
    }

    @Test
    void swappedSegmentsAreCaughtEvenWhenTheBlockMapIsForgedToMatch() throws IOException {
        byte[] object = object(0);
        byte[] swapped = object.clone();
        int third = HEADER_BYTES + 3 * SEGMENT;
        System.arraycopy(object, third, swapped, third + SEGMENT, SEGMENT);
        System.arraycopy(object, third + SEGMENT, swapped, third, SEGMENT);
        replace(0, swapped);
        assertBlock0Rejected();

        // an attacker who can also write the metadata: the SHA-256 matches, the segments' AAD does not
        fixture.metadata.inTransaction(h -> h.createUpdate("UPDATE disk_blocks SET sha256 = :sha WHERE map_id = :id"
                        + " AND block_index = 0").bind("sha", BlockObjects.sha256(swapped)).bind("id", disk).execute());
        assertThatThrownBy(() -> readBlock0()).isInstanceOf(BlockIntegrityException.class)
                .hasMessageContaining("segment 3 of 64 failed authentication");
    }

    @Test
    void aTruncatedObjectIsCaught() throws IOException {
        byte[] object = object(0);
        replace(0, Arrays.copyOf(object, object.length - SEGMENT));
        assertBlock0Rejected();
        replace(0, new byte[0]);
        assertBlock0Rejected();
    }

    @Test
    void anOlderVersionOfTheSameBlockIsCaught() throws IOException {
        byte[] older = object(0);
        try (BlockDevice device = fixture.store.open(disk)) {
            device.write(100, new byte[] {1, 2, 3}, 0, 3, false);
        }
        fixture.store.storedBlocks(disk); // maps the journaled write: block 0 is rewritten
        assertThat(fixture.blockFiles()).as("the older object was reclaimed").hasSize(2);
        replace(0, older);
        assertBlock0Rejected();
    }

    @Test
    void anotherBlockMovedInIsCaught() throws IOException {
        replace(0, object(1));
        assertBlock0Rejected();
    }

    @Test
    void theSameBlockOfAnotherDiskMovedInIsCaught() throws IOException {
        String other = fixture.store.create(SIZE, DiskSource.empty());
        try (BlockDevice device = fixture.store.open(other)) {
            device.write(0, block1, 0, BLOCK_BYTES, true);
        }
        Path otherObject = fixture.blobFile(refs(other).get(0L).blobKey());
        replace(0, Files.readAllBytes(otherObject));
        assertBlock0Rejected();
    }

    @Test
    void aMissingObjectIsCaught() throws IOException {
        Files.delete(fixture.blobFile(refs(disk).get(0L).blobKey()));
        assertBlock0Rejected();
    }

    /** Someone who can write the database alters a journaled write: opening the disk fails, no other bytes come back. */
    @Test
    void aTamperedJournalEntryIsCaught() {
        journalWritesToBlock1(1);
        byte[] entry = journalEntry(disk, 1, 0);
        entry[entry.length / 2] ^= 0x04;
        moveJournalEntry(disk, 1, 0, 1, 0, entry);
        assertJournalRejected("The journal of block 1 of disk " + disk + " failed verification at entry 0");
    }

    @Test
    void aJournalEntryMovedToAnotherBlockOrFromAnotherDiskIsCaught() {
        journalWritesToBlock1(1);
        byte[] entry = journalEntry(disk, 1, 0);
        moveJournalEntry(disk, 1, 0, 2, 0, entry);
        assertJournalRejected("the object belongs to block 1, not 2");

        String other = fixture.store.create(SIZE, DiskSource.empty());
        try (BlockDevice device = fixture.store.open(other)) {
            device.write(BLOCK_BYTES + 100, new byte[] {4, 5, 6}, 0, 3, true);
        }
        moveJournalEntry(disk, 2, 0, 1, 0, journalEntry(other, 1, 0));
        assertJournalRejected("is encrypted under data key " + fixture.keys.keyOf(other));
    }

    /** A block's journal is replayed in order: entries swapped or one left out from the middle are caught. */
    @Test
    void reorderedOrMissingJournalEntriesAreCaught() {
        journalWritesToBlock1(3);
        byte[] second = journalEntry(disk, 1, 1);
        byte[] third = journalEntry(disk, 1, 2);
        moveJournalEntry(disk, 1, 1, 1, 1, third);
        moveJournalEntry(disk, 1, 2, 1, 2, second);
        assertJournalRejected("failed verification at entry 1");

        fixture.metadata.inTransaction(h -> h.createUpdate("DELETE FROM disk_journal_entries WHERE map_id = :id"
                + " AND block_index = 1 AND seq = 1").bind("id", disk).execute());
        assertJournalRejected("entry 1 is missing");
    }

    /** Small writes to block 1, each flushed: one journal entry each, and block 1 not rewritten. */
    private void journalWritesToBlock1(int writes) {
        try (BlockDevice device = fixture.store.open(disk)) {
            for (int i = 0; i < writes; i++) {
                device.write(BLOCK_BYTES + 100 + 10L * i, new byte[] {1, 2, 3}, 0, 3, true);
            }
        }
        assertThat(fixture.store.info(disk).storedBlocks()).as("journaled, not rewritten").isEqualTo(2);
    }

    private void assertJournalRejected(String message) {
        assertThatThrownBy(this::readBlock0).isInstanceOfSatisfying(BlockIntegrityException.class, e -> {
            assertThat(e.code()).isEqualTo("DiskDataIntegrityError");
            assertThat(e.getMessage()).contains(message);
        });
    }

    private byte[] journalEntry(String id, long index, int seq) {
        return fixture.metadata.withHandle(h -> h.createQuery("SELECT entry FROM disk_journal_entries"
                        + " WHERE map_id = :id AND block_index = :index AND seq = :seq")
                .bind("id", id).bind("index", index).bind("seq", seq).mapTo(byte[].class).one());
    }

    private void moveJournalEntry(String id, long index, int seq, long newIndex, int newSeq, byte[] entry) {
        fixture.metadata.inTransaction(h -> h.createUpdate("UPDATE disk_journal_entries SET block_index = :newIndex,"
                        + " seq = :newSeq, entry = :entry WHERE map_id = :id AND block_index = :index AND seq = :seq")
                .bind("id", id).bind("index", index).bind("seq", seq).bind("newIndex", newIndex)
                .bind("newSeq", newSeq).bind("entry", entry).execute());
    }

    private void assertBlock0Rejected() {
        assertThatThrownBy(this::readBlock0).isInstanceOfSatisfying(BlockIntegrityException.class, e -> {
            assertThat(e.code()).isEqualTo("DiskDataIntegrityError");
            assertThat(e.getMessage()).contains("Block 0 of disk " + disk);
        });
        // the untouched block still reads back, in the same store
        try (DefaultDiskStore fresh = fixture.secondStore(); BlockDevice device = fresh.open(disk)) {
            assertThat(read(device, BLOCK_BYTES, BLOCK_BYTES)).isEqualTo(block1);
        }
    }

    /** Through a store that has not read the block yet, so its verified-plaintext cache cannot answer. */
    private byte[] readBlock0() {
        try (DefaultDiskStore fresh = fixture.secondStore(); BlockDevice device = fresh.open(disk)) {
            return read(device, 0, 4096);
        }
    }

    private Map<Long, BlockRef> refs(String id) {
        return new DiskMetadata(fixture.metadata).blocks(id);
    }

    private byte[] object(long index) throws IOException {
        return Files.readAllBytes(fixture.blobFile(refs(disk).get(index).blobKey()));
    }

    private void replace(long index, byte[] content) throws IOException {
        Files.write(fixture.blobFile(refs(disk).get(index).blobKey()), content);
    }
}
