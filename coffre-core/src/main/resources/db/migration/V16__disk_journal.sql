-- Small writes a flush made durable without rewriting their 4 MiB block (io.coffre.compute.disk.WriteBackDevice):
-- per block of a disk, one encrypted entry holding the block's buffered ranges and their bytes. A later flush that
-- writes the block into the map deletes its entry in the same transaction; a restart replays what is left.
CREATE TABLE disk_journal (
    map_id      VARCHAR(36) NOT NULL REFERENCES disk_maps(map_id) ON DELETE CASCADE,
    block_index BIGINT NOT NULL,
    entry       BYTEA NOT NULL,
    PRIMARY KEY (map_id, block_index)
);
