package io.coffre.compute;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.arm.ResourceIndex;
import io.coffre.compute.disk.DiskStore;
import io.coffre.identity.AccessControl;
import io.coffre.identity.Principal;
import io.coffre.store.MetadataStore;
import io.coffre.time.CoffreClock;
import java.io.OutputStream;
import java.util.List;
import java.util.Optional;

/**
 * Microsoft.Compute disks and snapshots: ARM resources over the {@link DiskStore}, plus the direct upload / export
 * data path of {@code beginGetAccess}. Bodies and results are ARM JSON. Errors are {@link io.coffre.arm.ArmException}s;
 * those of the data path carry Azure Storage codes ({@code AuthenticationFailed}, {@code
 * AuthorizationPermissionMismatch}, {@code InvalidPageRange}, {@code InvalidRange}, {@code RequestBodyTooLarge},
 * {@code InvalidHeaderValue}).
 */
public interface Disks {
    /** Largest page write, as page blobs allow. */
    int MAX_PAGE_WRITE_BYTES = 4 * 1024 * 1024;

    enum Kind {
        DISK("disks"), SNAPSHOT("snapshots");

        public final String collection;

        Kind(String collection) {
            this.collection = collection;
        }

        public String resourceType() {
            return "Microsoft.Compute/" + collection;
        }
    }

    /** The size of a VM guest state (vTPM and UEFI state, VMGS): what a confidential OS disk's guest state holds. */
    int GUEST_STATE_BYTES = 4 << 20;

    /** The resource after a PUT, and whether the PUT created it. */
    record Put(ObjectNode resource, boolean created) {
    }

    /**
     * A granted access: the disk store id the data URL names and the token that authorises it (shown once); with
     * {@code getSecureVMGuestStateSAS}, also the id the VM guest state's data URL names (the same token reads it).
     */
    record Grant(String dataId, String token, String securityDataId) {
        Grant(String dataId, String token) {
            this(dataId, token, null);
        }
    }

    /** Disks take their data keys from {@code encryptionSets} and register with the DES they use. */
    static Disks open(MetadataStore metadata, DiskStore store, DiskEncryptionSets encryptionSets, ResourceIndex index,
                      AccessControl access, CoffreClock clock) {
        return new JdbcDisks(metadata, store, encryptionSets, index, access, clock);
    }

    /**
     * Creates (createOption Empty, Copy, Restore, Upload, UploadPreparedSecure) or updates tags of a disk or snapshot.
     */
    Put put(Principal caller, Kind kind, String subscriptionId, String resourceGroup, String name, JsonNode body);

    ObjectNode get(Principal caller, Kind kind, String subscriptionId, String resourceGroup, String name);

    /** Updates tags; size and creation data cannot change. */
    ObjectNode patch(Principal caller, Kind kind, String subscriptionId, String resourceGroup, String name,
                     JsonNode patch);

    /** @return false when there was nothing to delete */
    boolean delete(Principal caller, Kind kind, String subscriptionId, String resourceGroup, String name);

    List<ObjectNode> list(Principal caller, Kind kind, String subscriptionId, String resourceGroupOrNull);

    /**
     * {@code beginGetAccess}: {@code Write} on a disk ready to upload (state ActiveUpload), {@code Read} on an
     * unattached disk or a snapshot (state ActiveSAS). A new grant replaces the previous one. With
     * {@code secureVmGuestState} ({@code getSecureVMGuestStateSAS}, Read only) it also reads the VM guest state of a
     * confidential VM's OS disk, as it was at the grant.
     */
    Grant grantAccess(Principal caller, Kind kind, String subscriptionId, String resourceGroup, String name,
                      String access, long durationSeconds, boolean secureVmGuestState);

    /** {@code endGetAccess}: the token stops working; an uploaded disk becomes Unattached. */
    void revokeAccess(Principal caller, Kind kind, String subscriptionId, String resourceGroup, String name);

    /**
     * What the virtual-machine layer needs to know about a disk; read without a caller (the VM layer authorised its
     * own caller).
     *
     * @param managedBy the ARM id of the VM the disk is attached to, or null
     */
    record DiskFacts(String resourceId, String storeId, String location, String diskState,
                     EncryptionKeys.Setting encryption, String securityType, String managedBy) {
    }

    /** Facts of a disk (not a snapshot), or empty when there is none. */
    Optional<DiskFacts> facts(String diskResourceId);

    /**
     * Attaches a disk to a VM (diskState {@code Attached}, {@code managedBy} = the VM) or, with a null VM, detaches
     * it ({@code Unattached}). Attaching the disk to the VM it is attached to already is a no-op.
     *
     * @throws io.coffre.arm.ArmException 404 {@code NotFound} for an unknown disk, 409 {@code OperationNotAllowed} when
     *                                    attaching a disk that is not Unattached
     */
    void setManagedBy(String diskResourceId, String vmResourceIdOrNull);

    /**
     * Registers a listener told the ARM id of every disk (not snapshot) deleted, inside the delete's transaction:
     * the VM layer drops the guest state an OS disk owned.
     */
    void onDiskDeleted(java.util.function.Consumer<String> listener);

    /** The size in bytes of the disk the token grants (read or write) access to. */
    long dataSize(String dataId, String token);

    /**
     * Writes {@code data} at {@code offset} (both 512-byte aligned, at most {@value #MAX_PAGE_WRITE_BYTES} bytes);
     * durable when it returns. {@code data == null} clears {@code length} bytes (they read as zeros). The disk may
     * keep {@code data} as it is instead of copying it: the caller must not change it afterwards.
     */
    void writeData(String dataId, String token, long offset, long length, byte[] data);

    /** Streams {@code length} bytes from {@code offset}; the range must lie within the disk. */
    void readData(String dataId, String token, long offset, long length, OutputStream out);

    /** Bytes {@code start} to {@code end}, both inclusive, as a page blob's page list names them. */
    record ByteRange(long start, long end) {
    }

    /**
     * A page list: the granted disk's size and the parts of it that hold data, in order and merged where they touch:
     * whole {@value DiskStore#BLOCK_BYTES}-byte blocks (the last one cut at the disk's end), since a block is stored
     * as a whole. A block written in part is listed whole, its unwritten bytes reading as zeros; a block never
     * written, or trimmed, is not listed.
     */
    record PageList(long sizeBytes, List<ByteRange> ranges) {
    }

    PageList pageList(String dataId, String token);
}
