-- The disk journal as a log: each flush adds an entry holding only the ranges of the block changed since its last
-- entry, numbered per block from 0 (replayed in that order), instead of rewriting one growing entry per block. A
-- V16 entry holds every range of its block, so it becomes entry 0.
CREATE TABLE disk_journal_entries (
    map_id      VARCHAR(36) NOT NULL REFERENCES disk_maps(map_id) ON DELETE CASCADE,
    block_index BIGINT NOT NULL,
    seq         INTEGER NOT NULL,
    entry       BYTEA NOT NULL,
    PRIMARY KEY (map_id, block_index, seq)
);
INSERT INTO disk_journal_entries (map_id, block_index, seq, entry)
    SELECT map_id, block_index, 0, entry FROM disk_journal;
DROP TABLE disk_journal;
