-- Restore points (io.coffre.compute) and disks restored from exported manifests.

-- A data key may now be wrapped under several domains: a disk restored from a manifest into another DES keeps the
-- key ids its blocks name, so the target's wrapping joins the source's under the same id. Rebuilt rather than
-- altered, because primary-key constraint names differ between H2 and PostgreSQL.
CREATE TABLE compute_data_keys_v12 (
    key_id      VARCHAR(36)  NOT NULL,
    des_id      VARCHAR(600) NOT NULL,
    disk_id     VARCHAR(600) NOT NULL,
    wrapped     BYTEA        NOT NULL,
    created_at  BIGINT       NOT NULL,
    PRIMARY KEY (key_id, des_id)
);
INSERT INTO compute_data_keys_v12 (key_id, des_id, disk_id, wrapped, created_at)
    SELECT key_id, des_id, disk_id, wrapped, created_at FROM compute_data_keys;
DROP TABLE compute_data_keys;
ALTER TABLE compute_data_keys_v12 RENAME TO compute_data_keys;
CREATE INDEX compute_data_keys_des ON compute_data_keys (des_id);
