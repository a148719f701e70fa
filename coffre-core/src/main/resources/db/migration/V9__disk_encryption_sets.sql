-- Microsoft.Compute/diskEncryptionSets and the key hierarchy below them (DESIGN.md §6).

-- One row per DES. key_url is the active (desired) versioned key; the key that really wraps the DES key is the
-- kek_key_id of its own row in compute_wrapped_des_keys (they differ only while a rotation is pending).
CREATE TABLE compute_disk_encryption_sets (
    des_key              VARCHAR(600) PRIMARY KEY,   -- lower-case ARM id
    arm_id               VARCHAR(600) NOT NULL,
    subscription_id      VARCHAR(64)  NOT NULL,
    resource_group       VARCHAR(90)  NOT NULL,
    name                 VARCHAR(80)  NOT NULL,
    location             VARCHAR(64)  NOT NULL,
    encryption_type      VARCHAR(64)  NOT NULL,
    key_url              VARCHAR(600) NOT NULL,
    key_base             VARCHAR(600) NOT NULL,      -- lower-case versionless key id, to match new key versions
    source_vault_id      VARCHAR(600),
    rotation_to_latest   BOOLEAN      NOT NULL,
    principal_id         VARCHAR(64)  NOT NULL,
    tenant_id            VARCHAR(64)  NOT NULL,
    previous_keys        VARCHAR(4000) NOT NULL,     -- JSON array of key urls still wrapping copies
    last_rotation_at     BIGINT,
    auto_rotation_error  VARCHAR(4000),              -- JSON {code, message} or null
    tags                 VARCHAR(8000),
    created_at           BIGINT       NOT NULL
);
CREATE INDEX compute_des_key_base ON compute_disk_encryption_sets (key_base);

-- Every stored copy of a wrapped DES key (or platform key): the domain's own copy has owner_id = des_id;
-- snapshots, restore points and recovery points add theirs. Rotation rewrites all copies of a DES in one statement.
CREATE TABLE compute_wrapped_des_keys (
    owner_id    VARCHAR(600) NOT NULL,
    des_id      VARCHAR(600) NOT NULL,   -- lower-case DES ARM id, or platform/{region} for PMK
    kek_key_id  VARCHAR(600) NOT NULL,   -- the versioned key id that wraps it (RSA-OAEP-256)
    wrapped     BYTEA        NOT NULL,
    PRIMARY KEY (owner_id, des_id)
);
CREATE INDEX compute_wrapped_des_keys_des ON compute_wrapped_des_keys (des_id);

-- Disk data keys, wrapped by their DES key with AES-KW (RFC 3394). They never change on rotation.
CREATE TABLE compute_data_keys (
    key_id      VARCHAR(36)  PRIMARY KEY,
    des_id      VARCHAR(600) NOT NULL,
    disk_id     VARCHAR(600) NOT NULL,
    wrapped     BYTEA        NOT NULL,
    created_at  BIGINT       NOT NULL
);

CREATE TABLE compute_des_associations (
    des_id       VARCHAR(600) NOT NULL,
    resource_id  VARCHAR(600) NOT NULL,   -- as given (case kept); unique per DES case-insensitively
    resource_key VARCHAR(600) NOT NULL,
    PRIMARY KEY (des_id, resource_key)
);

-- A rotation in progress or done: the persisted state its resumer continues from.
CREATE TABLE compute_des_rotations (
    operation_id VARCHAR(64)  PRIMARY KEY,
    des_id       VARCHAR(600) NOT NULL,
    old_key_url  VARCHAR(600),
    new_key_url  VARCHAR(600) NOT NULL,
    new_wrapped  BYTEA,                  -- the DES key under the new version, until the copies are updated
    state        VARCHAR(16)  NOT NULL,  -- Started | Wrapped | Published | Completed | Failed
    started_at   BIGINT       NOT NULL
);

-- Published rotation events and who acknowledged them.
CREATE TABLE compute_rotation_events (
    event_id     VARCHAR(64)  PRIMARY KEY,   -- the rotation's operation id
    des_id       VARCHAR(600) NOT NULL,
    old_key_url  VARCHAR(600),
    new_key_url  VARCHAR(600) NOT NULL,
    published_at BIGINT       NOT NULL
);

CREATE TABLE compute_rotation_acks (
    event_id     VARCHAR(64)  NOT NULL,
    consumer     VARCHAR(200) NOT NULL,
    acked_at     BIGINT       NOT NULL,
    PRIMARY KEY (event_id, consumer)
);

-- Every consumer that ever registered: a rotation completes only when all of them acknowledged, also when one
-- registers only after the startup resumed the rotation.
CREATE TABLE compute_rotation_consumers (
    consumer      VARCHAR(200) PRIMARY KEY,
    registered_at BIGINT       NOT NULL
);
