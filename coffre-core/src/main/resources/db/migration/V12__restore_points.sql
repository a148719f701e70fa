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

-- Microsoft.Compute/restorePointCollections: restore points of one source VM, in its region.
CREATE TABLE compute_restore_point_collections (
    id_lower         VARCHAR(600) PRIMARY KEY,
    resource_id      VARCHAR(600) NOT NULL,
    subscription_id  VARCHAR(64)  NOT NULL,
    group_lower      VARCHAR(90)  NOT NULL,
    location         VARCHAR(64)  NOT NULL,
    source_id        VARCHAR(600) NOT NULL,
    collection_uid   VARCHAR(36)  NOT NULL,
    tags             VARCHAR(8000),
    created_at       BIGINT       NOT NULL
);
CREATE INDEX compute_rpc_by_group ON compute_restore_point_collections (subscription_id, group_lower);

-- A restore point: state Creating while its disks are frozen, then Succeeded. document holds excludeDisks and the
-- sourceMetadata captured from the VM.
CREATE TABLE compute_restore_points (
    id_lower          VARCHAR(600) PRIMARY KEY,
    resource_id       VARCHAR(600) NOT NULL,
    collection_lower  VARCHAR(600) NOT NULL REFERENCES compute_restore_point_collections(id_lower),
    state             VARCHAR(16)  NOT NULL,
    consistency_mode  VARCHAR(32)  NOT NULL,
    document          VARCHAR      NOT NULL,
    time_created      BIGINT,
    created_at        BIGINT       NOT NULL
);
CREATE INDEX compute_rp_by_collection ON compute_restore_points (collection_lower);

-- One frozen disk of a restore point: a disk-store snapshot (and, for a confidential OS disk, its VMGS snapshot).
-- It reaches its DES key through a holder row (compute_des_key_holders, V13) owned by the restore point.
CREATE TABLE compute_disk_restore_points (
    id_lower             VARCHAR(600) PRIMARY KEY,
    resource_id          VARCHAR(600) NOT NULL,
    restore_point_lower  VARCHAR(600) NOT NULL REFERENCES compute_restore_points(id_lower),
    position             INTEGER      NOT NULL,
    role                 VARCHAR(8)   NOT NULL,
    lun                  INTEGER,
    source_disk_id       VARCHAR(600) NOT NULL,
    store_id             VARCHAR(36)  NOT NULL,
    vmgs_store_id        VARCHAR(36),
    encryption_type      VARCHAR(64)  NOT NULL,
    des_id               VARCHAR(600),
    security_type        VARCHAR(64),
    location             VARCHAR(64)  NOT NULL,
    -- an outstanding beginGetAccess grant (SHA-256 of its token) and the copy it reads through
    access_sha256        BYTEA,
    access_expires       BIGINT,
    export_store_id      VARCHAR(36)
);
CREATE INDEX compute_drp_by_restore_point ON compute_disk_restore_points (restore_point_lower);
