-- Microsoft.KeyVault: security domains, vaults and managed HSMs, keys and their versions, Managed HSM local RBAC,
-- and the key service's release-signing key. Key material exists only inside sealed_material (sealed under the
-- store's security-domain key, itself sealed by the master key).

CREATE TABLE kv_security_domains (
    domain_id  VARCHAR(200) PRIMARY KEY,
    sealed_key BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE kv_stores (
    store_id           VARCHAR(36) PRIMARY KEY,
    kind               VARCHAR(16) NOT NULL,
    name               VARCHAR(24) NOT NULL,
    name_lower         VARCHAR(24) NOT NULL,
    subscription_id    VARCHAR(64) NOT NULL,
    resource_group     VARCHAR(90) NOT NULL,
    location           VARCHAR(64) NOT NULL,
    domain_id          VARCHAR(200) NOT NULL REFERENCES kv_security_domains(domain_id),
    tenant_id          VARCHAR(64) NOT NULL,
    sku                VARCHAR(32) NOT NULL,
    retention_days     INT NOT NULL,
    purge_protection   BOOLEAN NOT NULL,
    rbac_authorization BOOLEAN NOT NULL,
    access_policies    VARCHAR NOT NULL,
    tags               VARCHAR NOT NULL,
    settings           VARCHAR NOT NULL,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    deleted_at         BIGINT,
    scheduled_purge_at BIGINT,
    -- Names are DNS labels: one namespace per kind, held by soft-deleted stores until they are purged.
    CONSTRAINT kv_stores_name UNIQUE (kind, name_lower)
);

CREATE TABLE kv_keys (
    store_id                VARCHAR(36) NOT NULL REFERENCES kv_stores(store_id),
    name_lower              VARCHAR(127) NOT NULL,
    name                    VARCHAR(127) NOT NULL,
    rotation_policy         VARCHAR,
    rotation_policy_created BIGINT,
    rotation_policy_updated BIGINT,
    deleted_at              BIGINT,
    scheduled_purge_at      BIGINT,
    PRIMARY KEY (store_id, name_lower)
);

CREATE TABLE kv_key_versions (
    store_id        VARCHAR(36) NOT NULL,
    name_lower      VARCHAR(127) NOT NULL,
    version         VARCHAR(32) NOT NULL,
    seq             INT NOT NULL,
    kty             VARCHAR(16) NOT NULL,
    key_size        INT,
    curve           VARCHAR(16),
    key_ops         VARCHAR NOT NULL,
    enabled         BOOLEAN NOT NULL,
    not_before      BIGINT,
    expires_at      BIGINT,
    exportable      BOOLEAN NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    tags            VARCHAR NOT NULL,
    release_policy  VARCHAR,
    public_jwk      VARCHAR NOT NULL,
    thumbprint      VARCHAR(64) NOT NULL,
    sealed_material BYTEA NOT NULL,
    PRIMARY KEY (store_id, name_lower, version),
    -- Two writers adding "the next version" at once collide here, so a key is never rotated twice for one due date.
    CONSTRAINT kv_key_versions_seq UNIQUE (store_id, name_lower, seq),
    FOREIGN KEY (store_id, name_lower) REFERENCES kv_keys(store_id, name_lower)
);

CREATE TABLE kv_role_definitions (
    store_id          VARCHAR(36) NOT NULL REFERENCES kv_stores(store_id),
    name              VARCHAR(36) NOT NULL,
    role_name         VARCHAR(256) NOT NULL,
    description       VARCHAR NOT NULL,
    permissions       VARCHAR NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    PRIMARY KEY (store_id, name)
);

CREATE TABLE kv_role_assignments (
    store_id        VARCHAR(36) NOT NULL REFERENCES kv_stores(store_id),
    name            VARCHAR(36) NOT NULL,
    scope           VARCHAR(140) NOT NULL,
    role_definition VARCHAR(36) NOT NULL,
    principal_id    VARCHAR(36) NOT NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (store_id, name)
);

CREATE TABLE kv_release_signing_keys (
    kid         VARCHAR(64) PRIMARY KEY,
    sealed_key  BYTEA NOT NULL,
    certificate BYTEA NOT NULL,
    created_at  BIGINT NOT NULL
);
