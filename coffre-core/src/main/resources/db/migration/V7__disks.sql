-- Encrypted disks (io.coffre.compute.disk). A block map belongs to a disk (it changes as the disk is written) or
-- to a snapshot (frozen); disks and snapshots share one id space.
CREATE TABLE disk_maps (
    map_id       VARCHAR(36) PRIMARY KEY,
    kind         VARCHAR(16) NOT NULL,
    size_bytes   BIGINT NOT NULL,
    -- a disk's own data key, the only one its new blocks are written under; NULL for a snapshot
    write_key_id VARCHAR(36),
    -- the disk a snapshot was taken of, or the disk or snapshot a copy started from
    source_id    VARCHAR(36),
    created_at   BIGINT NOT NULL
);

-- Block index -> the immutable object holding it. A missing row reads as zeros.
CREATE TABLE disk_blocks (
    map_id      VARCHAR(36) NOT NULL REFERENCES disk_maps(map_id) ON DELETE CASCADE,
    block_index BIGINT NOT NULL,
    blob_key    VARCHAR(128) NOT NULL,
    sha256      BYTEA NOT NULL,
    data_key_id VARCHAR(36) NOT NULL,
    PRIMARY KEY (map_id, block_index)
);
CREATE INDEX disk_blocks_by_blob ON disk_blocks(blob_key);

-- Every block object, registered before it is put and committed in the transaction that first maps it. Reclaim
-- deletes committed objects no map refers to, and uncommitted ones old enough to be the leftovers of a crash.
CREATE TABLE disk_objects (
    blob_key   VARCHAR(128) PRIMARY KEY,
    committed  BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL
);
