-- Microsoft.Compute virtual machines (io.coffre.compute.vm).
CREATE TABLE compute_virtual_machines (
    id_lower                 VARCHAR(600) PRIMARY KEY,
    resource_id              VARCHAR(600) NOT NULL,
    subscription_id          VARCHAR(64) NOT NULL,
    group_lower              VARCHAR(90) NOT NULL,
    -- the VM's unique id (properties.vmId), also the vmId claim of its attestation tokens
    vm_id                    VARCHAR(36) NOT NULL,
    location                 VARCHAR(64) NOT NULL,
    vm_size                  VARCHAR(64) NOT NULL,
    security_type            VARCHAR(32) NOT NULL,
    security_encryption_type VARCHAR(32),
    -- the confidential OS disk's Disk Encryption Set (customer key), null for platform keys
    des_id                   VARCHAR(600),
    provisioning_state       VARCHAR(16) NOT NULL,
    power_state              VARCHAR(16) NOT NULL,
    -- location, tags, identity and properties as ARM shows them, minus what the columns above hold
    document                 VARCHAR NOT NULL,
    created_at               BIGINT NOT NULL
);
CREATE INDEX compute_vms_by_group ON compute_virtual_machines(subscription_id, group_lower);

-- The disks attached to each VM; role OS or DATA.
CREATE TABLE compute_vm_disks (
    vm_id_lower    VARCHAR(600) NOT NULL,
    disk_id_lower  VARCHAR(600) NOT NULL,
    disk_id        VARCHAR(600) NOT NULL,
    role           VARCHAR(8) NOT NULL,
    lun            INTEGER,
    -- Delete or Detach: what happens to the disk when the VM is deleted
    delete_option  VARCHAR(8) NOT NULL,
    PRIMARY KEY (vm_id_lower, disk_id_lower)
);
CREATE UNIQUE INDEX compute_vm_disks_by_disk ON compute_vm_disks(disk_id_lower);

-- The VM guest state (vTPM / UEFI state) of a confidential OS disk: a small disk of the disk store, owned by the
-- OS disk (it follows the disk to the next VM it is attached to).
CREATE TABLE compute_vm_guest_states (
    os_disk_id_lower VARCHAR(600) PRIMARY KEY,
    store_id         VARCHAR(36) NOT NULL UNIQUE
);
