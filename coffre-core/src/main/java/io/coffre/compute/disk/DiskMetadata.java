package io.coffre.compute.disk;

import io.coffre.store.MetadataStore;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.statement.PreparedBatch;

/**
 * The SQL of the disk layer (tables {@code disk_*}, migrations V7, V16 and V17).
 *
 * <p>Locking rule that makes reclaim safe: every transaction that reads a map to copy it, or changes or deletes a
 * map, first locks that map's {@code disk_maps} row ({@link #lockMap}). So a copy and a removal of the same
 * references never interleave, and an object no committed map refers to can never gain a reference again.
 */
final class DiskMetadata {
    enum Kind { DISK, SNAPSHOT }

    /** @param writeKeyId null for a snapshot */
    record MapRow(String id, Kind kind, long sizeBytes, UUID writeKeyId, String sourceId) {
    }

    private final MetadataStore store;

    DiskMetadata(MetadataStore store) {
        this.store = store;
    }

    <R> R inTransaction(MetadataStore.Work<R> work) {
        return store.inTransaction(work);
    }

    Optional<MapRow> findMap(String id) {
        return store.withHandle(h -> findMap(h, id));
    }

    Optional<MapRow> findMap(Handle h, String id) {
        return h.createQuery("SELECT * FROM disk_maps WHERE map_id = :id").bind("id", id)
                .map((rs, ctx) -> mapRow(rs)).findOne();
    }

    /** Reads and locks the row until the transaction ends. */
    Optional<MapRow> lockMap(Handle h, String id) {
        return h.createQuery("SELECT * FROM disk_maps WHERE map_id = :id FOR UPDATE").bind("id", id)
                .map((rs, ctx) -> mapRow(rs)).findOne();
    }

    void insertMap(Handle h, MapRow row, long now) {
        h.createUpdate("INSERT INTO disk_maps (map_id, kind, size_bytes, write_key_id, source_id, created_at)"
                        + " VALUES (:id, :kind, :size, :key, :source, :now)")
                .bind("id", row.id()).bind("kind", row.kind().name()).bind("size", row.sizeBytes())
                .bind("key", row.writeKeyId() == null ? null : row.writeKeyId().toString())
                .bind("source", row.sourceId()).bind("now", now).execute();
    }

    /** Gives map {@code to} every entry of map {@code from}: same objects, same keys, nothing re-encrypted. */
    void copyBlocks(Handle h, String from, String to) {
        h.createUpdate("INSERT INTO disk_blocks (map_id, block_index, blob_key, sha256, data_key_id)"
                        + " SELECT :to, block_index, blob_key, sha256, data_key_id FROM disk_blocks WHERE map_id = :from")
                .bind("from", from).bind("to", to).execute();
    }

    Map<Long, BlockRef> blocks(String mapId) {
        return store.withHandle(h -> {
            Map<Long, BlockRef> blocks = new HashMap<>();
            h.createQuery("SELECT block_index, blob_key, sha256, data_key_id FROM disk_blocks WHERE map_id = :id")
                    .bind("id", mapId)
                    .map((rs, ctx) -> Map.entry(rs.getLong(1), new BlockRef(rs.getString(2), rs.getBytes(3),
                            UUID.fromString(rs.getString(4)))))
                    .forEach(entry -> blocks.put(entry.getKey(), entry.getValue()));
            return blocks;
        });
    }

    /** The entry of a map that refers to an object, if any. */
    Optional<BlockRef> findBlock(String mapId, String blobKey) {
        return store.withHandle(h -> h.createQuery("SELECT blob_key, sha256, data_key_id FROM disk_blocks"
                        + " WHERE map_id = :id AND blob_key = :key").bind("id", mapId).bind("key", blobKey)
                .map((rs, ctx) -> new BlockRef(rs.getString(1), rs.getBytes(2), UUID.fromString(rs.getString(3))))
                .findFirst());
    }

    /** Block index → object key of a map, in index order. */
    List<Map.Entry<Long, String>> blockKeys(Handle h, String mapId) {
        return h.createQuery("SELECT block_index, blob_key FROM disk_blocks WHERE map_id = :id ORDER BY block_index")
                .bind("id", mapId).map((rs, ctx) -> Map.entry(rs.getLong(1), rs.getString(2))).list();
    }

    Set<UUID> dataKeyIds(Handle h, String mapId) {
        return new TreeSet<>(h.createQuery("SELECT DISTINCT data_key_id FROM disk_blocks WHERE map_id = :id")
                .bind("id", mapId).map((rs, ctx) -> UUID.fromString(rs.getString(1))).list());
    }

    long blockCount(Handle h, String mapId) {
        return h.createQuery("SELECT count(*) FROM disk_blocks WHERE map_id = :id").bind("id", mapId)
                .mapTo(Long.class).one();
    }

    /** Deletes a map and its entries; returns the object keys it referred to. */
    List<String> deleteMap(Handle h, String mapId) {
        List<String> keys = h.createQuery("SELECT blob_key FROM disk_blocks WHERE map_id = :id").bind("id", mapId)
                .mapTo(String.class).list();
        h.createUpdate("DELETE FROM disk_blocks WHERE map_id = :id").bind("id", mapId).execute();
        h.createUpdate("DELETE FROM disk_journal_entries WHERE map_id = :id").bind("id", mapId).execute();
        h.createUpdate("DELETE FROM disk_maps WHERE map_id = :id").bind("id", mapId).execute();
        return keys;
    }

    /** A journal entry of a block: its sequence number in the block's journal, and the entry. */
    record JournalEntry(int seq, byte[] entry) {
    }

    /** Adds journal entries to blocks of a map and deletes every entry of the blocks {@code removed}. */
    void updateJournal(Handle h, String mapId, Map<Long, JournalEntry> added, Collection<Long> removed) {
        if (!removed.isEmpty()) {
            PreparedBatch delete = h.prepareBatch(
                    "DELETE FROM disk_journal_entries WHERE map_id = :id AND block_index = :index");
            for (long index : removed) {
                delete.bind("id", mapId).bind("index", index).add();
            }
            delete.execute();
        }
        if (!added.isEmpty()) {
            PreparedBatch insert = h.prepareBatch("INSERT INTO disk_journal_entries (map_id, block_index, seq, entry)"
                    + " VALUES (:id, :index, :seq, :entry)");
            added.forEach((index, entry) -> insert.bind("id", mapId).bind("index", index).bind("seq", entry.seq())
                    .bind("entry", entry.entry()).add());
            insert.execute();
        }
    }

    /** Block index → that block's journal entries by sequence number, of a map. */
    Map<Long, SortedMap<Integer, byte[]>> journal(String mapId) {
        return store.withHandle(h -> {
            Map<Long, SortedMap<Integer, byte[]>> entries = new HashMap<>();
            h.createQuery("SELECT block_index, seq, entry FROM disk_journal_entries WHERE map_id = :id")
                    .bind("id", mapId)
                    .map((rs, ctx) -> Map.entry(rs.getLong(1), new JournalEntry(rs.getInt(2), rs.getBytes(3))))
                    .forEach(row -> entries.computeIfAbsent(row.getKey(), index -> new TreeMap<>())
                            .put(row.getValue().seq(), row.getValue().entry()));
            return entries;
        });
    }

    boolean hasJournal(String mapId) {
        return store.withHandle(h -> h.createQuery("SELECT count(*) FROM disk_journal_entries WHERE map_id = :id")
                .bind("id", mapId).mapTo(Long.class).one() > 0);
    }

    /** The maps that have journal entries. */
    List<String> journaledMaps() {
        return store.withHandle(h -> h.createQuery("SELECT DISTINCT map_id FROM disk_journal_entries ORDER BY map_id")
                .mapTo(String.class).list());
    }

    /** Records objects about to be put, in a transaction of its own, so reclaim knows they may be in flight. */
    void registerObjects(Collection<String> keys, long now) {
        if (keys.isEmpty()) {
            return;
        }
        store.inTransaction(h -> {
            PreparedBatch batch = h.prepareBatch(
                    "INSERT INTO disk_objects (blob_key, committed, created_at) VALUES (:key, FALSE, :now)");
            for (String key : keys) {
                batch.bind("key", key).bind("now", now).add();
            }
            return batch.execute();
        });
    }

    /**
     * Applies block changes to a map (a null ref removes the entry) and commits the new objects. Fails, so that the
     * caller's transaction rolls back, if a new object was reclaimed as abandoned meanwhile.
     */
    void applyChanges(Handle h, String mapId, Map<Long, BlockRef> changes) {
        PreparedBatch delete = h.prepareBatch("DELETE FROM disk_blocks WHERE map_id = :id AND block_index = :index");
        PreparedBatch insert = h.prepareBatch("INSERT INTO disk_blocks (map_id, block_index, blob_key, sha256,"
                + " data_key_id) VALUES (:id, :index, :key, :sha, :keyId)");
        PreparedBatch commit = h.prepareBatch(
                "UPDATE disk_objects SET committed = TRUE WHERE blob_key = :key AND committed = FALSE");
        for (Map.Entry<Long, BlockRef> change : changes.entrySet()) {
            delete.bind("id", mapId).bind("index", change.getKey()).add();
            BlockRef ref = change.getValue();
            if (ref != null) {
                insert.bind("id", mapId).bind("index", change.getKey()).bind("key", ref.blobKey())
                        .bind("sha", ref.sha256()).bind("keyId", ref.keyId().toString()).add();
                commit.bind("key", ref.blobKey()).add();
            }
        }
        delete.execute();
        if (insert.size() > 0) {
            insert.execute();
            for (int updated : commit.execute()) {
                if (updated != 1) {
                    throw new IllegalStateException("a block object written by this flush was reclaimed as "
                            + "abandoned before it could be committed; the flush is retried on the next flush");
                }
            }
        }
    }

    /** Objects that look reclaimable: committed and unreferenced, or uncommitted and registered before a moment. */
    List<String> reclaimCandidates(long abandonedBefore) {
        return store.withHandle(h -> h.createQuery("SELECT o.blob_key FROM disk_objects o WHERE (o.committed = TRUE"
                        + " AND NOT EXISTS (SELECT 1 FROM disk_blocks b WHERE b.blob_key = o.blob_key))"
                        + " OR (o.committed = FALSE AND o.created_at < :before)")
                .bind("before", abandonedBefore).mapTo(String.class).list());
    }

    /**
     * Unregisters an object if it is garbage, deciding under a lock on its row: the lock waits for a transaction
     * committing it, and the reference check that follows is a new statement, so it sees that transaction's maps.
     *
     * @return whether the object was unregistered, so its blob must now be deleted
     */
    boolean unregisterIfGarbage(String key, long abandonedBefore) {
        return store.inTransaction(h -> {
            Optional<Map.Entry<Boolean, Long>> row = h.createQuery(
                            "SELECT committed, created_at FROM disk_objects WHERE blob_key = :key FOR UPDATE")
                    .bind("key", key).map((rs, ctx) -> Map.entry(rs.getBoolean(1), rs.getLong(2))).findOne();
            if (row.isEmpty()) {
                return false;
            }
            boolean committed = row.get().getKey();
            if (!committed && row.get().getValue() >= abandonedBefore) {
                return false;
            }
            boolean referenced = h.createQuery("SELECT count(*) FROM disk_blocks WHERE blob_key = :key")
                    .bind("key", key).mapTo(Long.class).one() > 0;
            if (referenced) {
                return false;
            }
            h.createUpdate("DELETE FROM disk_objects WHERE blob_key = :key").bind("key", key).execute();
            return true;
        });
    }

    boolean isRegistered(String key) {
        return store.withHandle(h -> h.createQuery("SELECT count(*) FROM disk_objects WHERE blob_key = :key")
                .bind("key", key).mapTo(Long.class).one() > 0);
    }

    private static MapRow mapRow(java.sql.ResultSet rs) throws java.sql.SQLException {
        String key = rs.getString("write_key_id");
        return new MapRow(rs.getString("map_id"), Kind.valueOf(rs.getString("kind")), rs.getLong("size_bytes"),
                key == null ? null : UUID.fromString(key), rs.getString("source_id"));
    }
}
