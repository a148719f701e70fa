package io.coffre.compute.disk;

import static io.coffre.compute.disk.BlockFormat.BLOCK_BYTES;
import static io.coffre.compute.disk.DiskStoreTest.pattern;
import static io.coffre.compute.disk.DiskStoreTest.read;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.util.UUID;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** V17 turns the one entry per block that V16 kept into entry 0 of the block's journal, which still replays. */
class DiskJournalMigrationTest {
    @TempDir
    Path dir;

    @Test
    void anEntryV16WroteIsReplayedAfterV17() throws Exception {
        // the file and options of MetadataStores.h2, which DiskFixture opens below
        String url = "jdbc:h2:file:" + dir.resolve("db").toAbsolutePath().resolve("coffre")
                + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH";
        Flyway.configure().dataSource(url, "sa", "").locations("classpath:db/migration").target("16").load()
                .migrate();
        TestKeyRing keys = new TestKeyRing();
        String disk = UUID.randomUUID().toString();
        UUID keyId = keys.newKey(disk);
        byte[] data = pattern(60, 5000);
        DirtyBlock block = new DirtyBlock(BLOCK_BYTES);
        block.write(100, data, 0, data.length);
        // as V16 sealed it: the block's whole record, under a random id
        byte[] entry = BlockFormat.encodeJournal(keys.key(keyId).orElseThrow(), keyId, UUID.randomUUID(), 1,
                block.journalRecord(), new SecureRandom());
        try (Connection c = DriverManager.getConnection(url, "sa", "")) {
            try (PreparedStatement map = c.prepareStatement("INSERT INTO disk_maps (map_id, kind, size_bytes,"
                    + " write_key_id, created_at) VALUES (?, 'DISK', ?, ?, 0)")) {
                map.setString(1, disk);
                map.setLong(2, 2L * BLOCK_BYTES);
                map.setString(3, keyId.toString());
                map.execute();
            }
            try (PreparedStatement journal = c.prepareStatement(
                    "INSERT INTO disk_journal (map_id, block_index, entry) VALUES (?, 1, ?)")) {
                journal.setString(1, disk);
                journal.setBytes(2, entry);
                journal.execute();
            }
            c.createStatement().execute("SHUTDOWN");
        }

        try (DiskFixture fixture = new DiskFixture(dir, keys, DefaultDiskStore.DEFAULTS.bufferBytesPerDisk())) {
            assertThat(fixture.store.info(disk).storedBlocks()).as("mapped at start").isEqualTo(1);
            try (BlockDevice device = fixture.store.open(disk)) {
                assertThat(read(device, BLOCK_BYTES + 100, data.length)).isEqualTo(data);
                assertThat(read(device, BLOCK_BYTES, 100)).containsOnly(0);
            }
        }
    }
}
