-- The built-in directory: tenant settings, principals, client secrets (hashed), token signing keys (sealed).
CREATE TABLE identity_settings (
    name  VARCHAR(64) PRIMARY KEY,
    setting_value VARCHAR NOT NULL
);

CREATE TABLE principals (
    object_id      VARCHAR(36) PRIMARY KEY,
    app_id         VARCHAR(36) UNIQUE,
    display_name   VARCHAR(256) NOT NULL,
    principal_type VARCHAR(32) NOT NULL,
    first_party    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at     BIGINT NOT NULL
);

CREATE TABLE client_secrets (
    key_id      VARCHAR(36) PRIMARY KEY,
    object_id   VARCHAR(36) NOT NULL REFERENCES principals(object_id) ON DELETE CASCADE,
    secret_hash VARCHAR(64) NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE signing_keys (
    kid        VARCHAR(64) PRIMARY KEY,
    sealed     BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);
