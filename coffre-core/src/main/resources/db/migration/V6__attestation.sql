-- The built-in attestation service's token signing key: the private key sealed by the master key, and the
-- self-signed certificate published as x5c. One row per purpose, so concurrent first starts cannot both win.
CREATE TABLE attestation_signing_keys (
    purpose     VARCHAR(32) PRIMARY KEY,
    kid         VARCHAR(64) NOT NULL UNIQUE,
    sealed_key  BYTEA NOT NULL,
    certificate BYTEA NOT NULL,
    created_at  BIGINT NOT NULL
);
