package io.coffre.compute;

/** Where a disk's data keys come from: its Disk Encryption Set (CMK) or the platform key of its region (PMK). */
public interface EncryptionKeys {
    record Setting(String type, String diskEncryptionSetId, String region) {
        // type: EncryptionAtRestWithPlatformKey | EncryptionAtRestWithCustomerKey | ConfidentialVmEncryptedWithCustomerKey ...
    }

    /** Validates a disk's requested encryption (DES exists, same region, type fits, the DES identity can use its key) -> ArmException naming the fix. */
    void check(io.coffre.identity.Principal caller, Setting setting);

    /** A ring whose newKey() creates a data key wrapped under this setting's DES key (or the regional platform key) and whose key(id) resolves ANY data key id Coffre holds (copies read inherited keys). */
    io.coffre.compute.disk.DataKeyRing ring(Setting setting);
}
