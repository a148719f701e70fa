-- Microsoft.Compute disks and snapshots (io.coffre.compute): the ARM resources over the disk store's block maps.
CREATE TABLE compute_disks (
    id_lower         VARCHAR(600) PRIMARY KEY,
    resource_id      VARCHAR(600) NOT NULL,
    kind             VARCHAR(16) NOT NULL,
    subscription_id  VARCHAR(64) NOT NULL,
    group_lower      VARCHAR(90) NOT NULL,
    -- the disk store's id of this disk's block map (a snapshot's frozen map)
    store_id         VARCHAR(36) NOT NULL UNIQUE,
    location         VARCHAR(64) NOT NULL,
    disk_state       VARCHAR(32) NOT NULL,
    encryption_type  VARCHAR(64) NOT NULL,
    des_id           VARCHAR(600),
    -- the resource as ARM shows it, minus what the columns above hold
    document         VARCHAR NOT NULL,
    -- an outstanding beginGetAccess grant: only the SHA-256 of its token is kept
    access_level     VARCHAR(8),
    access_sha256    BYTEA,
    access_expires   BIGINT,
    -- a snapshot being read through a grant is read through a copy of it (a snapshot is never opened as a device)
    export_store_id  VARCHAR(36),
    created_at       BIGINT NOT NULL
);
CREATE INDEX compute_disks_by_group ON compute_disks(subscription_id, group_lower, kind);
