-- ARM basics: subscriptions, resource groups, persisted async operations.
CREATE TABLE subscriptions (
    subscription_id VARCHAR(64) PRIMARY KEY,
    tenant_id       VARCHAR(64) NOT NULL,
    display_name    VARCHAR(256) NOT NULL,
    flags           VARCHAR NOT NULL DEFAULT '[]'
);

CREATE TABLE resource_groups (
    subscription_id VARCHAR(64) NOT NULL REFERENCES subscriptions(subscription_id),
    name_lower      VARCHAR(90) NOT NULL,
    name            VARCHAR(90) NOT NULL,
    location        VARCHAR(64) NOT NULL,
    tags            VARCHAR NOT NULL DEFAULT '{}',
    PRIMARY KEY (subscription_id, name_lower)
);

CREATE TABLE async_operations (
    operation_id    VARCHAR(64) PRIMARY KEY,
    resource_id     VARCHAR(1024) NOT NULL,
    kind            VARCHAR(128) NOT NULL,
    status          VARCHAR(32) NOT NULL,
    started_at      BIGINT NOT NULL,
    ended_at        BIGINT,
    error_code      VARCHAR(128),
    error_message   VARCHAR,
    result          VARCHAR
);
