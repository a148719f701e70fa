package io.coffre.compute.vm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.Endpoints;
import io.coffre.arm.AsyncOperations;
import io.coffre.arm.ResourceIndex;
import io.coffre.attestation.AttestationService;
import io.coffre.compute.DiskEncryptionSets;
import io.coffre.compute.Disks;
import io.coffre.compute.EncryptionKeys;
import io.coffre.compute.disk.DiskStore;
import io.coffre.identity.AccessControl;
import io.coffre.identity.Directory;
import io.coffre.keyvault.KeyService;
import io.coffre.store.MetadataStore;
import io.coffre.time.CoffreClock;
import io.coffre.compute.nbd.NbdServer;
import io.coffre.identity.Principal;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Optional;

/**
 * Microsoft.Compute/virtualMachines (api-version 2026-04-01), confidential VMs included. Wire shapes are those of
 * reference/azure-rest-shapes.md §3.3; every method throws {@link io.coffre.arm.ArmException} for anything the
 * caller can fix.
 *
 * <p>A VM's disks are {@code Microsoft.Compute/disks} resources (Attached, {@code managedBy} = the VM). A
 * confidential VM's OS disk carries a VM guest state (VMGS) blob: a small disk of the disk store encrypted like the
 * OS disk, owned by the OS disk (it follows the disk when the disk is attached to another VM).
 *
 * <p>Create, start, power off, deallocate, restart and delete are persisted async operations; the methods return
 * the operation id to poll. Creating or starting a CMK confidential VM releases its DES key to the VM as the
 * Confidential VM Orchestrator would (attestation token, then {@code release}); a refused release fails the
 * operation and leaves the VM stopped (start) or absent (create).
 *
 * <p>While a VM runs, its disks are exported over NBD ({@link #serveNbd}) as {@code {resourceGroup}/{vmName}/os}
 * and {@code {resourceGroup}/{vmName}/lun{N}}; stopping the VM removes the exports and waits for their connections
 * to end, so every acknowledged write is durable when the stop operation succeeds.
 */
public interface VirtualMachines extends AutoCloseable {
    String RESOURCE_TYPE = "Microsoft.Compute/virtualMachines";

    /** What the guest sees; ARM shows it as {@code PowerState/running} etc. in the instance view. */
    enum PowerState {
        RUNNING("running"), STOPPED("stopped"), DEALLOCATED("deallocated");

        public final String wireName;

        PowerState(String wireName) {
            this.wireName = wireName;
        }
    }

    enum DiskRole { OS, DATA, VMGS }

    /**
     * One disk of a VM.
     *
     * @param lun            the data disk's LUN, null for the OS disk and the VMGS
     * @param diskResourceId the {@code Microsoft.Compute/disks} id; for the VMGS, the id of the OS disk it belongs to
     * @param storeId        the disk store id of the disk's block map (what {@code DiskStore.snapshot} takes)
     * @param encryption     where the disk's data keys come from (the VMGS has its OS disk's)
     */
    record VmDisk(DiskRole role, Integer lun, String diskResourceId, String storeId,
                  EncryptionKeys.Setting encryption) {
    }

    /**
     * A VM as the platform sees it (for restore points): no caller checks.
     *
     * @param model                  the VM's ARM body as last PUT (location, tags, properties), read-only fields excluded
     * @param securityEncryptionType the OS disk's {@code securityEncryptionType}, null for non-confidential VMs
     * @param diskEncryptionSetId    the confidential OS disk's DES (CMK), null for PMK and non-confidential VMs
     */
    record VmFacts(String resourceId, String vmId, String location, String vmSize, String securityType,
                   String securityEncryptionType, String diskEncryptionSetId, String provisioningState,
                   PowerState powerState, ObjectNode model, List<VmDisk> disks) {
    }

    /**
     * The result of a call that started an async operation.
     *
     * @param resource    the VM as it is now (for PUT: provisioningState Creating or Updating)
     * @param created     true when a PUT created the VM
     * @param operationId the async operation to poll
     */
    record Accepted(ObjectNode resource, boolean created, String operationId) {
    }

    /**
     * Creates a VM (201 + operation) or updates it (200): tags at once (operation already succeeded); data disks
     * added to or left out of {@code storageProfile.dataDisks} (or {@code toBeDetached}) are attached or detached by
     * the operation, the VM Updating meanwhile. Validation (size, region, security profile, disks, DES) happens
     * before anything is written.
     */
    Accepted put(Principal caller, String subscriptionId, String resourceGroup, String name, JsonNode body);

    /** @param instanceView true for {@code $expand=instanceView} */
    ObjectNode get(Principal caller, String subscriptionId, String resourceGroup, String name, boolean instanceView);

    /** {@code GET .../instanceView}: statuses {@code ProvisioningState/...} and {@code PowerState/...}, disks. */
    ObjectNode instanceView(Principal caller, String subscriptionId, String resourceGroup, String name);

    /**
     * Updates tags, and the data disks as {@link #put} does when {@code storageProfile.dataDisks} is given (a PATCH
     * replaces the array as a whole, as ARM's merge does); answered as an update (200 + operation).
     */
    Accepted patch(Principal caller, String subscriptionId, String resourceGroup, String name, JsonNode body);

    /** The VMs the caller may read in a subscription, or in one resource group when one is given. */
    List<ObjectNode> list(Principal caller, String subscriptionId, String resourceGroupOrNull);

    /**
     * The sizes the VM can be resized to ({@code VirtualMachineSize} entries, its own size included): those its
     * region offers that take its data disks and, for a confidential VM, have its confidential hardware.
     */
    List<ObjectNode> availableSizes(Principal caller, String subscriptionId, String resourceGroup, String name);

    /**
     * Opens the service; VMs that were running keep running (their exports come back once {@link #serveNbd} runs).
     */
    static VirtualMachines open(MetadataStore metadata, Disks disks, DiskStore store,
                                DiskEncryptionSets encryptionSets, ResourceIndex index, AccessControl access,
                                AsyncOperations operations, KeyService keys, AttestationService attestation,
                                Directory directory, Endpoints endpoints, CoffreClock clock) {
        return new JdbcVirtualMachines(metadata, disks, store, encryptionSets, index, access, operations,
                new KeyRelease(encryptionSets, keys, attestation, directory, endpoints), clock);
    }

    /** Power actions: {@code start}, {@code powerOff}, {@code deallocate}, {@code restart}. */
    enum Action {
        START("start"), POWER_OFF("powerOff"), DEALLOCATE("deallocate"), RESTART("restart");

        public final String wireName;

        Action(String wireName) {
            this.wireName = wireName;
        }

        public static Optional<Action> fromWire(String name) {
            for (Action a : values()) {
                if (a.wireName.equalsIgnoreCase(name)) {
                    return Optional.of(a);
                }
            }
            return Optional.empty();
        }
    }

    /** Starts the action's async operation and returns its id. */
    String act(Principal caller, String subscriptionId, String resourceGroup, String name, Action action);

    /**
     * Deletes the VM (async); its disks are deleted or detached (Unattached) by their {@code deleteOption}.
     *
     * @return the operation id, or empty when there is no such VM
     */
    Optional<String> delete(Principal caller, String subscriptionId, String resourceGroup, String name);

    /**
     * The platform's view of a VM, for the restore-point provider. To capture every acknowledged guest write, take
     * {@code DiskStore.snapshot(storeIds)} of {@link VmFacts#disks()}: it flushes the write-back buffers of open
     * devices and holds writes while it copies the maps, so no pause is needed.
     */
    Optional<VmFacts> find(String vmResourceId);

    /**
     * Gives an OS disk a VM guest state (e.g. a disk restored from a restore point, with its restored VMGS copy),
     * replacing the one it had (which is deleted). A VM attaching the disk then uses this VMGS.
     *
     * @param vmgsStoreId a disk store id encrypted with the OS disk's encryption setting
     */
    void setGuestState(String osDiskResourceId, String vmgsStoreId);

    /** The VMGS disk store id of an OS disk, if it has one. */
    Optional<String> guestState(String osDiskResourceId);

    /**
     * Starts the NBD server (loopback only) exporting the disks of running VMs; port 0 picks a free port. One per
     * service; closed with it.
     */
    NbdServer serveNbd(InetSocketAddress bind);

    /** Stops the NBD server (when started): connections end, devices flush. */
    @Override
    void close();
}
