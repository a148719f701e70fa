-- beginGetAccess with getSecureVMGuestStateSAS: the grant also reads the VM guest state of a confidential OS disk
-- (or of a disk restore point), through a copy taken when access is granted. The securityDataAccessSAS names that
-- copy's store id; the grant's token authorises it, read only.
ALTER TABLE compute_disks ADD COLUMN security_data_store_id VARCHAR(36);
CREATE UNIQUE INDEX compute_disks_security_data ON compute_disks(security_data_store_id);
ALTER TABLE compute_disk_restore_points ADD COLUMN security_data_store_id VARCHAR(36);
CREATE UNIQUE INDEX compute_disk_restore_points_security_data ON compute_disk_restore_points(security_data_store_id);
-- Data requests find a disk restore point's grant by its store id: without an index each request scanned them all.
CREATE INDEX compute_drp_by_store ON compute_disk_restore_points(store_id);
