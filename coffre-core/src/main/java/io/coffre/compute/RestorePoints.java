package io.coffre.compute;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.arm.AsyncOperations;
import io.coffre.arm.ResourceIndex;
import io.coffre.catalog.SupportMatrix;
import io.coffre.compute.disk.DiskStore;
import io.coffre.compute.vm.VirtualMachines;
import io.coffre.identity.AccessControl;
import io.coffre.identity.Principal;
import io.coffre.store.MetadataStore;
import io.coffre.time.CoffreClock;
import java.util.List;
import java.util.Optional;

/**
 * Microsoft.Compute/restorePointCollections and their restore points (api-version 2026-04-01, wire shapes of
 * reference/azure-rest-shapes.md §3.3). A restore point freezes the disks of the collection's source VM (its VMGS
 * included) with one multi-disk snapshot of the disk store, and keeps a copy of each DES key it needs, so DES
 * rotation reaches it. A disk restore point is a source for a disk PUT with {@code createOption Restore}.
 *
 * <p>Coffre has no guest agent: whatever the consistency mode, every disk is frozen at one instant (crash-consistent
 * across disks). {@code CrashConsistent} is refused for confidential VMs unless the support matrix allows it, as the
 * platform refuses it.
 */
public interface RestorePoints {
    String COLLECTION_TYPE = "Microsoft.Compute/restorePointCollections";
    String RESTORE_POINT_TYPE = COLLECTION_TYPE + "/restorePoints";
    String DISK_RESTORE_POINT_TYPE = RESTORE_POINT_TYPE + "/diskRestorePoints";
    /** The async operation that takes a restore point. */
    String CREATE_KIND = RESTORE_POINT_TYPE + "/write";

    /** The resource after a PUT, and whether the PUT created it. */
    record Put(ObjectNode resource, boolean created) {
    }

    /** A restore point being taken: its resource now (provisioningState Creating) and the operation to poll. */
    record Accepted(ObjectNode resource, String operationId) {
    }

    /** Creates a collection ({@code properties.source.id} = a VM in the same region) or updates its tags. */
    Put putCollection(Principal caller, String subscriptionId, String resourceGroup, String name, JsonNode body);

    /** @param expandRestorePoints {@code $expand=restorePoints} */
    ObjectNode getCollection(Principal caller, String subscriptionId, String resourceGroup, String name,
                             boolean expandRestorePoints);

    List<ObjectNode> listCollections(Principal caller, String subscriptionId, String resourceGroupOrNull);

    /** Deletes the collection and all its restore points; false when there was none. */
    boolean deleteCollection(Principal caller, String subscriptionId, String resourceGroup, String name);

    /** Starts taking a restore point; validation (VM, excluded disks, consistency mode) happens before. */
    Accepted create(Principal caller, String subscriptionId, String resourceGroup, String collection, String name,
                    JsonNode body);

    /** @param instanceView {@code $expand=instanceView} */
    ObjectNode get(Principal caller, String subscriptionId, String resourceGroup, String collection, String name,
                   boolean instanceView);

    /** Deletes a restore point and its disk restore points' snapshots; false when there was none. */
    boolean delete(Principal caller, String subscriptionId, String resourceGroup, String collection, String name);

    ObjectNode getDiskRestorePoint(Principal caller, String subscriptionId, String resourceGroup, String collection,
                                   String restorePoint, String name);

    List<ObjectNode> listDiskRestorePoints(Principal caller, String subscriptionId, String resourceGroup,
                                           String collection, String restorePoint);

    /**
     * {@code beginGetAccess} with access {@code Read}: a token for the data endpoint ({@link Disks#readData}),
     * reading a copy of the frozen disk. A new grant replaces the previous one. With {@code secureVmGuestState}
     * ({@code getSecureVMGuestStateSAS}) it also reads the VM guest state frozen with a confidential OS disk.
     */
    Disks.Grant grantAccess(Principal caller, String subscriptionId, String resourceGroup, String collection,
                            String restorePoint, String name, String access, long durationSeconds,
                            boolean secureVmGuestState);

    /** {@code endGetAccess}. */
    void revokeAccess(Principal caller, String subscriptionId, String resourceGroup, String collection,
                      String restorePoint, String name);

    /**
     * Opens the service and makes its disk restore points sources of {@code disks} (createOption Restore) and of
     * {@link RestorePointExports#export}.
     */
    static RestorePoints open(MetadataStore metadata, DiskStore store, Disks disks, DiskEncryptionSets encryptionSets,
                              VirtualMachines virtualMachines, ResourceIndex index, AccessControl access,
                              AsyncOperations operations, SupportMatrix supportMatrix, CoffreClock clock) {
        JdbcRestorePoints restorePoints = new JdbcRestorePoints(metadata, store, encryptionSets, virtualMachines,
                index, access, operations, supportMatrix, clock);
        ((JdbcDisks) disks).useRestorePoints(restorePoints::restoreSource, restorePoints::dataGrant,
                new JdbcDisks.GuestStates() {
                    @Override
                    public void set(String osDiskResourceId, String vmgsStoreId) {
                        virtualMachines.setGuestState(osDiskResourceId, vmgsStoreId);
                    }

                    @Override
                    public Optional<String> of(String osDiskResourceId) {
                        return virtualMachines.guestState(osDiskResourceId);
                    }
                });
        return restorePoints;
    }
}
