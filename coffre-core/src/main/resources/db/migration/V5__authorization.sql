-- Management-plane RBAC (Microsoft.Authorization): role assignments. Built-in role definitions are shipped data
-- (io/coffre/authorization/built-in-roles.json), not rows.
CREATE TABLE role_assignments (
    name               VARCHAR(36) PRIMARY KEY,
    scope              VARCHAR(1024) NOT NULL,
    scope_lower        VARCHAR(1024) NOT NULL,
    role_definition_id VARCHAR(36) NOT NULL,
    principal_id       VARCHAR(36) NOT NULL,
    principal_type     VARCHAR(32) NOT NULL,
    description        VARCHAR(2048),
    created_at         BIGINT NOT NULL,
    created_by         VARCHAR(36),
    CONSTRAINT role_assignments_unique UNIQUE (scope_lower, role_definition_id, principal_id)
);

CREATE INDEX role_assignments_principal ON role_assignments (principal_id);
