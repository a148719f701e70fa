-- Microsoft.Features: one row per feature a subscription has ever asked for (absent = NotRegistered). A transitional
-- state (Registering, Unregistering) settles into its end state once the clock reaches settles_at; Pending has no
-- settles_at: it waits for an approval.
CREATE TABLE feature_registrations (
    subscription_id VARCHAR(64)  NOT NULL,
    namespace       VARCHAR(128) NOT NULL,
    name            VARCHAR(128) NOT NULL,
    state           VARCHAR(32)  NOT NULL,
    changed_at      BIGINT       NOT NULL,
    settles_at      BIGINT,
    PRIMARY KEY (subscription_id, namespace, name)
);
