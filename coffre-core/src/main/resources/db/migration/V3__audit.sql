-- Tamper-evident audit log. Each entry's hash covers its fields and the previous entry's hash (see
-- io.coffre.audit.HashChainedAuditLog for the exact encoding), so an edited, removed or inserted entry breaks the chain.
CREATE TABLE audit_log (
    sequence     BIGINT PRIMARY KEY,
    time_millis  BIGINT NOT NULL,
    principal_id VARCHAR,
    operation    VARCHAR NOT NULL,
    resource     VARCHAR NOT NULL,
    key_version  VARCHAR,
    allowed      BOOLEAN NOT NULL,
    detail       VARCHAR,
    prev_hash    VARCHAR(64) NOT NULL,
    hash         VARCHAR(64) NOT NULL
);

-- The newest entry, kept apart from the log: appends lock this one row (so they are serialized), and a log whose
-- last entries were removed no longer reaches the sequence and hash recorded here.
CREATE TABLE audit_head (
    id            INTEGER PRIMARY KEY,
    last_sequence BIGINT NOT NULL,
    last_hash     VARCHAR(64) NOT NULL
);

INSERT INTO audit_head (id, last_sequence, last_hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
