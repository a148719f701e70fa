-- The wrapped DES key is stored once per key domain (its row in compute_wrapped_des_keys with owner_id = des_id);
-- snapshots, restore points and recovery points hold a reference to it instead of a byte copy. Every copy always
-- held the same bytes as the domain's own row (a rotation rewrote them all in one statement), so nothing is lost,
-- and a rotation now rewrites one row whatever the number of holders: 100,000 byte copies made it take seconds.
CREATE TABLE compute_des_key_holders (
    owner_id VARCHAR(600) NOT NULL,   -- the snapshot, restore point or recovery point (as given)
    des_id   VARCHAR(600) NOT NULL,   -- lower-case DES ARM id
    PRIMARY KEY (owner_id, des_id)
);
CREATE INDEX compute_des_key_holders_des ON compute_des_key_holders (des_id);

INSERT INTO compute_des_key_holders (owner_id, des_id)
    SELECT owner_id, des_id FROM compute_wrapped_des_keys WHERE owner_id <> des_id;
DELETE FROM compute_wrapped_des_keys WHERE owner_id <> des_id;
