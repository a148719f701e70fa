-- The generic ARM resource index every provider registers its resources in, and what the LRO routes need on top of
-- V1's async_operations.
CREATE TABLE arm_resources (
    id_lower             VARCHAR(1024) PRIMARY KEY,
    id                   VARCHAR(1024) NOT NULL,
    subscription_id      VARCHAR(64) NOT NULL REFERENCES subscriptions (subscription_id),
    resource_group_lower VARCHAR(90),
    resource_group       VARCHAR(90),
    type_lower           VARCHAR(256) NOT NULL,
    type                 VARCHAR(256) NOT NULL,
    name                 VARCHAR(512) NOT NULL,
    location             VARCHAR(64),
    tags                 VARCHAR,
    -- A resource group with resources cannot disappear under them, whatever races the checks above it lose.
    CONSTRAINT arm_resources_group FOREIGN KEY (subscription_id, resource_group_lower)
        REFERENCES resource_groups (subscription_id, name_lower)
);

CREATE INDEX arm_resources_scope ON arm_resources (subscription_id, resource_group_lower, type_lower);

ALTER TABLE async_operations ADD COLUMN error_status INTEGER;

CREATE INDEX async_operations_status ON async_operations (status);
