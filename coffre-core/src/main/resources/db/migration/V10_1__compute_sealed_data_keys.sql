-- Disk data keys sealed under the master key (SealedPlatformKeys): platform-managed encryption until disks take
-- their keys from the DES key hierarchy.
CREATE TABLE compute_sealed_data_keys (
    key_id     VARCHAR(36) PRIMARY KEY,
    disk_id    VARCHAR(36) NOT NULL,
    sealed     BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);
