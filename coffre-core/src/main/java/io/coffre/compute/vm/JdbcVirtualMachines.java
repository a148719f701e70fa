package io.coffre.compute.vm;

import static io.coffre.arm.ResourceId.key;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.arm.ArmException;
import io.coffre.arm.AsyncOperations;
import io.coffre.arm.ResourceId;
import io.coffre.arm.ResourceIndex;
import io.coffre.arm.Tags;
import io.coffre.catalog.VmSizes;
import io.coffre.compute.DiskEncryptionSets;
import io.coffre.compute.Disks;
import io.coffre.compute.EncryptionKeys;
import io.coffre.compute.disk.BlockDevice;
import io.coffre.compute.disk.DiskSource;
import io.coffre.compute.disk.DiskStore;
import io.coffre.compute.nbd.NbdServer;
import io.coffre.identity.AccessControl;
import io.coffre.identity.Principal;
import io.coffre.json.Json;
import io.coffre.store.MetadataStore;
import io.coffre.store.StoreConflictException;
import io.coffre.time.CoffreClock;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.jdbi.v3.core.Handle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@link VirtualMachines} with the VMs in {@code compute_virtual_machines} and their disks as disk resources. */
final class JdbcVirtualMachines implements VirtualMachines {
    private static final Logger LOG = LoggerFactory.getLogger(JdbcVirtualMachines.class);
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}");
    private static final String CONFIDENTIAL_DES_TYPE = "ConfidentialVmEncryptedWithCustomerKey";
    private static final String CREATING = "Creating";
    private static final String SUCCEEDED = "Succeeded";
    private static final String DELETING = "Deleting";
    private static final String UPDATING = "Updating";
    private static final String FAILED = "Failed";
    /** The pending request's list of the disks its run made. */
    private static final String MADE = "made";
    private static final String WRITE_KIND = RESOURCE_TYPE + "/write";
    private static final String DELETE_KIND = RESOURCE_TYPE + "/delete";
    /** Crash seams for the kill tests: after a create or update made a disk (not attached yet) ... */
    static volatile Runnable afterDiskCreated = () -> { };
    /** ... and after a delete detached a disk it is to delete (not deleted yet). */
    static volatile Runnable afterDiskDetached = () -> { };

    private record VmRow(String resourceId, String vmId, String location, String vmSize, String securityType,
                         String securityEncryptionType, String desId, String provisioningState, PowerState powerState,
                         ObjectNode document, long createdAt) {
        ResourceId id() {
            return ResourceId.parse(resourceId);
        }

        String attestationType() {
            return VmSpec.attestationType(VmSizes.builtIn().require(vmSize));
        }

        boolean confidential() {
            return securityType.equals(VmSpec.CONFIDENTIAL_VM);
        }
    }

    private record DiskRow(String diskId, DiskRole role, Integer lun, String deleteOption) {
    }

    /** A disk of the VM to be: created by it or attached, with its resource id resolved. */
    private record PlannedDisk(VmSpec.DiskSpec spec, DiskRole role, String diskId, ObjectNode createBody) {
    }

    private final MetadataStore metadata;
    private final Disks disks;
    private final DiskStore store;
    private final EncryptionKeys encryption;
    private final ResourceIndex index;
    private final AccessControl access;
    private final AsyncOperations operations;
    private final CoffreClock clock;
    private final KeyRelease keyRelease;
    private final VmExports exports;
    private final Map<String, Object> locks = new ConcurrentHashMap<>();
    private final SecureRandom random = new SecureRandom();
    private volatile NbdServer nbd;

    JdbcVirtualMachines(MetadataStore metadata, Disks disks, DiskStore store, DiskEncryptionSets encryptionSets,
                        ResourceIndex index, AccessControl access, AsyncOperations operations, KeyRelease keyRelease,
                        CoffreClock clock) {
        this.metadata = metadata;
        this.disks = disks;
        this.store = store;
        this.encryption = encryptionSets.encryptionKeys();
        this.index = index;
        this.access = access;
        this.operations = operations;
        this.keyRelease = keyRelease;
        this.clock = clock;
        this.exports = new VmExports(store);
        // a guest state belongs to its OS disk: it goes when the disk goes, whoever deletes it
        disks.onDiskDeleted(this::dropGuestState);
        operations.registerResumer(WRITE_KIND, this::resumeWrite);
        operations.registerResumer(DELETE_KIND, this::resumeDelete);
        recoverAfterRestart();
    }

    /**
     * Running VMs keep running across a restart (their exports come back). A create, data disk update or delete a
     * crash interrupted is resumed with its operation ({@link #resumeWrite}, {@link #resumeDelete}). One whose
     * operation was never recorded (a crash between the VM's commit and the operation's) had not started: an update
     * is dropped, a create or delete leaves the VM Failed, to be deleted.
     */
    private void recoverAfterRestart() {
        List<VmRow> unsettled = metadata.withHandle(h -> h.createQuery("SELECT * FROM compute_virtual_machines "
                        + "WHERE provisioning_state IN (:c, :u, :d)").bind("c", CREATING).bind("u", UPDATING)
                .bind("d", DELETING).map((rs, ctx) -> row(rs)).list());
        for (VmRow vm : unsettled) {
            String kind = vm.provisioningState().equals(DELETING) ? DELETE_KIND : WRITE_KIND;
            if (operations.inProgress(vm.resourceId()).stream().anyMatch(op -> op.kind().equals(kind))) {
                continue;
            }
            if (vm.provisioningState().equals(UPDATING)) {
                // nothing of it ran: its reservations go and the VM is as it was
                LOG.warn("the update of {} was interrupted before its operation was recorded; dropped",
                        vm.resourceId());
                abandonUpdate(vm.resourceId(), pendingRequest(vm).path("update"));
            } else {
                LOG.warn("the {} of {} was interrupted before its operation was recorded; the VM is Failed", kind,
                        vm.resourceId());
                markFailed(vm);
            }
        }
        metadata.withHandle(h -> h.createQuery("SELECT * FROM compute_virtual_machines WHERE power_state = :p")
                .bind("p", PowerState.RUNNING.name()).map((rs, ctx) -> row(rs)).list())
                .forEach(vm -> exports.add(exportsOf(vm)));
    }

    // ---- PUT / GET / PATCH / list ----

    @Override
    public Accepted put(Principal caller, String subscriptionId, String resourceGroup, String name, JsonNode body) {
        ResourceId id = resourceId(subscriptionId, resourceGroup, name);
        access.require(caller, id.toString(), RESOURCE_TYPE + "/write", false);
        Optional<VmRow> existing = findRow(id.toString());
        if (existing.isPresent()) {
            return update(caller, existing.get(), body);
        }
        VmSpec spec = VmSpec.parse(body, name);
        List<PlannedDisk> planned = plan(caller, id, spec, false);
        JsonNode stored = withoutSecrets(body);
        VmRow row = new VmRow(id.toString(), UUID.randomUUID().toString(), spec.location(), spec.size().name(),
                spec.securityType(), spec.securityEncryptionType(), spec.diskEncryptionSetId(), CREATING,
                PowerState.STOPPED, model(stored, spec, planned), clock.now().getEpochSecond());
        try {
            ObjectNode pending = Json.object().<ObjectNode>set("caller", callerJson(caller)).set("body", stored);
            metadata.inTransaction(h -> {
                insert(h, row, subscriptionId, resourceGroup, pending);
                planned.forEach(d -> reserve(h, row.resourceId(), d));
                index.put(row.resourceId(), RESOURCE_TYPE, row.location(), tagsJson(row.document()));
                return null;
            });
        } catch (StoreConflictException e) {
            throw ArmException.conflict("Conflict", "The virtual machine " + id + " or one of its disks is being "
                    + "created by another request already; wait for it and retry.");
        }
        AsyncOperations.Operation op;
        try {
            op = operations.runAsync(row.resourceId(), WRITE_KIND, () -> {
                synchronized (lock(row.resourceId())) {
                    provision(caller, row, spec, planned, false);
                }
                return null;
            });
        } catch (RuntimeException e) {
            forget(row.resourceId());
            throw e;
        }
        return new Accepted(render(row, false), true, op.id());
    }

    /**
     * Checks everything that needs stored state before anything is written: DES, disks to attach, disk names. A
     * resumed create plans again without the checks its first run passed and may have made untrue itself (the disks
     * it created exist, the ones it attached are attached).
     */
    private List<PlannedDisk> plan(Principal caller, ResourceId vm, VmSpec spec, boolean resuming) {
        if (spec.diskEncryptionSetId() != null) {
            encryption.check(caller, new EncryptionKeys.Setting(CONFIDENTIAL_DES_TYPE, spec.diskEncryptionSetId(),
                    spec.location()));
        }
        List<PlannedDisk> planned = new ArrayList<>();
        planned.add(planDisk(caller, vm, spec, spec.osDisk(), DiskRole.OS, resuming));
        for (VmSpec.DiskSpec d : spec.dataDisks()) {
            planned.add(planDisk(caller, vm, spec, d, DiskRole.DATA, resuming));
        }
        if (planned.stream().map(p -> key(p.diskId())).distinct().count() != planned.size()) {
            throw VmSpec.invalid("storageProfile", "two of its disks name the same disk resource; give each disk "
                    + "its own name or managedDisk.id");
        }
        return planned;
    }

    private PlannedDisk planDisk(Principal caller, ResourceId vm, VmSpec spec, VmSpec.DiskSpec d, DiskRole role,
                                 boolean resuming) {
        String where = role == DiskRole.OS ? "storageProfile.osDisk" : "storageProfile.dataDisks (lun " + d.lun() + ")";
        if (!d.creates()) {
            return new PlannedDisk(d, role, resuming ? d.attachId() : checkAttachable(caller, spec, d, role, where),
                    null);
        }
        ResourceId diskId;
        try {
            diskId = madeDiskId(vm, d);
        } catch (ArmException e) {
            throw VmSpec.invalid(where + ".name", "'" + d.name() + "' is not a valid disk name");
        }
        access.require(caller, diskId.toString(), "Microsoft.Compute/disks/write", false);
        if (!resuming && disks.facts(diskId.toString()).isPresent()) {
            throw ArmException.conflict("Conflict", "A disk named " + d.name() + " exists already in resource group "
                    + vm.resourceGroup() + " (" + where + "); give the new disk another name or attach the existing "
                    + "one with createOption Attach.");
        }
        ObjectNode body = Json.object().put("location", spec.location());
        body.putObject("sku").put("name", d.storageAccountType());
        ObjectNode p = body.putObject("properties");
        p.putObject("creationData").put("createOption", "Empty");
        p.put("diskSizeGB", d.sizeGb());
        p.put("hyperVGeneration", "V2");
        String securityType = role == DiskRole.OS ? spec.osDiskSecurityType() : null;
        if (securityType != null) {
            ObjectNode security = p.putObject("securityProfile").put("securityType", securityType);
            if (spec.diskEncryptionSetId() != null) {
                security.put("secureVMDiskEncryptionSetId", spec.diskEncryptionSetId());
            }
        }
        if (d.atRestDesId() != null) {
            EncryptionKeys.Setting atRest = new EncryptionKeys.Setting("EncryptionAtRestWithCustomerKey",
                    d.atRestDesId(), spec.location());
            encryption.check(caller, atRest);
            p.putObject("encryption").put("type", atRest.type()).put("diskEncryptionSetId", d.atRestDesId());
        }
        return new PlannedDisk(d, role, diskId.toString(), body);
    }

    /** An attached disk must be Unattached, in the VM's region and encrypted as the VM's security profile says. */
    private String checkAttachable(Principal caller, VmSpec spec, VmSpec.DiskSpec d, DiskRole role, String where) {
        access.require(caller, d.attachId(), "Microsoft.Compute/disks/write", false);
        Disks.DiskFacts disk = disks.facts(d.attachId()).orElseThrow(() -> ArmException.notFound("NotFound",
                "The disk " + d.attachId() + " to attach (" + where + ".managedDisk.id) was not found."));
        if (!disk.diskState().equals("Unattached")) {
            throw ArmException.conflict("OperationNotAllowed", "The disk " + disk.resourceId() + " is "
                    + disk.diskState() + (disk.managedBy() == null ? "" : " (managed by " + disk.managedBy() + ")")
                    + "; only an Unattached disk can be attached. Detach it or end its access first.");
        }
        if (!disk.location().equals(spec.location())) {
            throw VmSpec.invalid(where + ".managedDisk.id", "the disk is in " + disk.location() + " but the VM in "
                    + spec.location() + "; attach a disk of the VM's region");
        }
        String expected = role == DiskRole.OS ? spec.osDiskSecurityType() : null;
        String actual = disk.securityType();
        boolean confidentialDisk = actual != null && actual.startsWith("ConfidentialVM");
        if (role == DiskRole.DATA && confidentialDisk) {
            throw VmSpec.invalid(where + ".managedDisk.id", "the disk has securityType " + actual + ", which only "
                    + "an OS disk can have; attach it as the OS disk");
        }
        if (role == DiskRole.OS && (spec.confidential() || confidentialDisk) && !String.valueOf(expected)
                .equals(String.valueOf(actual))) {
            throw VmSpec.invalid(where + ".managedDisk.id", "the disk has securityType " + actual + " but this VM's "
                    + "security profile needs " + expected + "; attach a disk created for the same security type and"
                    + " securityEncryptionType (and the same disk encryption set)");
        }
        if (spec.diskEncryptionSetId() != null && role == DiskRole.OS
                && !spec.diskEncryptionSetId().equalsIgnoreCase(disk.encryption().diskEncryptionSetId())) {
            throw VmSpec.invalid(where + ".managedDisk.securityProfile.diskEncryptionSet", "the disk is encrypted "
                    + "with disk encryption set " + disk.encryption().diskEncryptionSetId() + ", not "
                    + spec.diskEncryptionSetId() + "; name the disk's own DES");
        }
        return disk.resourceId();
    }

    /**
     * Runs a create: release the key (CMK), create and attach the disks, the guest state; all or nothing. Resuming,
     * it takes over what the interrupted run did: disks it created, attachments, the guest state.
     */
    private void provision(Principal caller, VmRow vm, VmSpec spec, List<PlannedDisk> planned, boolean resuming) {
        Deque<Runnable> undo = new ArrayDeque<>();
        try {
            if (vm.desId() != null) {
                keyRelease.release(vm.desId(), vm.vmId(), spec.attestationType());
            }
            for (PlannedDisk d : planned) {
                attach(caller, vm, d.diskId(), d.createBody(), resuming, undo);
            }
            if (spec.hasGuestState()) {
                String osDisk = planned.get(0).diskId();
                if (guestState(osDisk).isEmpty()) {
                    createGuestState(osDisk, vm);
                    undo.push(() -> dropGuestState(osDisk));
                }
            }
            metadata.inTransaction(h -> h.createUpdate("UPDATE compute_virtual_machines SET provisioning_state = :s, "
                            + "power_state = :p, pending_request = NULL WHERE id_lower = :id").bind("s", SUCCEEDED)
                    .bind("p", PowerState.RUNNING.name()).bind("id", key(vm.resourceId())).execute());
            exports.add(exportsOf(findRow(vm.resourceId()).orElseThrow()));
        } catch (RuntimeException e) {
            undoAll(undo, "create", vm.resourceId());
            forget(vm.resourceId());
            throw e;
        }
    }

    /**
     * Attaches a disk to the VM, making it first from {@code createBodyOrNull} unless it was made already (see
     * {@link #madeBy}); pushes what undoes each step.
     */
    private void attach(Principal caller, VmRow vm, String diskId, JsonNode createBodyOrNull, boolean resuming,
                        Deque<Runnable> undo) {
        if (createBodyOrNull != null) {
            ResourceId disk = ResourceId.parse(diskId);
            if (!madeBy(vm, diskId, resuming)) {
                disks.put(caller, Disks.Kind.DISK, disk.subscriptionId(), disk.resourceGroup(), disk.name(),
                        createBodyOrNull);
                recordMade(vm.resourceId(), diskId);
                afterDiskCreated.run();
            }
            undo.push(() -> deleteDisk(caller, diskId));
        }
        disks.setManagedBy(diskId, vm.resourceId());
        undo.push(() -> disks.setManagedBy(diskId, null));
    }

    private void deleteDisk(Principal caller, String diskId) {
        ResourceId disk = ResourceId.parse(diskId);
        disks.delete(caller, Disks.Kind.DISK, disk.subscriptionId(), disk.resourceGroup(), disk.name());
    }

    /**
     * Notes a disk the running create or update made in the VM's pending request, so that after a crash an undo
     * knows it for its own. A disk made just before the crash, before this note, is known by its name in the request
     * and by being attached to nothing (see {@link #undoInterruptedCreate}).
     */
    private void recordMade(String vmId, String diskId) {
        metadata.inTransaction(h -> {
            String json = h.createQuery("SELECT pending_request FROM compute_virtual_machines WHERE id_lower = :id")
                    .bind("id", key(vmId)).mapTo(String.class).findOne().orElse(null);
            if (json != null) {
                ObjectNode pending = (ObjectNode) Json.parse(json);
                (pending.has(MADE) ? (ArrayNode) pending.get(MADE) : pending.putArray(MADE)).add(diskId);
                h.createUpdate("UPDATE compute_virtual_machines SET pending_request = :p WHERE id_lower = :id")
                        .bind("p", Json.write(pending)).bind("id", key(vmId)).execute();
            }
            return null;
        });
    }

    /** Runs the undo steps of a failed create or update, newest first; one that fails does not stop the others. */
    private static void undoAll(Deque<Runnable> undo, String what, String vmId) {
        while (!undo.isEmpty()) {
            try {
                undo.pop().run();
            } catch (RuntimeException cleanup) {
                LOG.warn("undoing the failed {} of {}: {}", what, vmId, cleanup.getMessage());
            }
        }
    }

    /** Reserves a disk for the VM: a disk is in one VM's rows at most, so no other create or update takes it. */
    private static void reserve(Handle h, String vmId, PlannedDisk d) {
        h.createUpdate("INSERT INTO compute_vm_disks (vm_id_lower, disk_id_lower, disk_id, role, lun, delete_option) "
                        + "VALUES (:vm, :dl, :d, :r, :lun, :del)")
                .bind("vm", key(vmId)).bind("dl", key(d.diskId())).bind("d", d.diskId()).bind("r", d.role().name())
                .bind("lun", d.spec().lun()).bind("del", d.spec().deleteOption()).execute();
    }

    private static void unreserve(Handle h, String diskId) {
        h.createUpdate("DELETE FROM compute_vm_disks WHERE disk_id_lower = :d").bind("d", key(diskId)).execute();
    }

    /**
     * Whether the disk a create is to make exists already as its own: attached to the VM, or (resuming) not attached
     * to anything, made by the interrupted run just before the crash. Any other disk of that name was made by someone
     * else meanwhile, and the create fails rather than take it.
     */
    private boolean madeBy(VmRow vm, String diskId, boolean resuming) {
        Optional<Disks.DiskFacts> disk = disks.facts(diskId);
        if (disk.isEmpty()) {
            return false;
        }
        String managedBy = disk.get().managedBy();
        if (vm.resourceId().equalsIgnoreCase(managedBy) || (resuming && managedBy == null)) {
            return true;
        }
        throw ArmException.conflict("Conflict", "The disk " + diskId + " that the virtual machine " + vm.id().name()
                + " was to create was created by another request meanwhile; delete or rename it and create the VM "
                + "again.");
    }

    /** The disk a create or update makes for {@code d}: named by it, in the VM's resource group. */
    private static ResourceId madeDiskId(ResourceId vm, VmSpec.DiskSpec d) {
        return ResourceId.resourceGroup(vm.subscriptionId(), vm.resourceGroup()).resource("Microsoft.Compute",
                "disks", d.name());
    }

    /** A fresh guest state: encrypted like its OS disk, with a header and a random vTPM seed really stored. */
    private void createGuestState(String osDiskId, VmRow vm) {
        Disks.DiskFacts os = disks.facts(osDiskId).orElseThrow();
        String storeId = store.create(Disks.GUEST_STATE_BYTES, DiskSource.empty(), encryption.ring(os.encryption()));
        byte[] content = new byte[DiskStore.SECTOR_BYTES * 2];
        byte[] header = ("COFFRE-VMGS 1 vm=" + vm.vmId() + " disk=" + osDiskId + "\n")
                .getBytes(StandardCharsets.UTF_8);
        System.arraycopy(header, 0, content, 0, Math.min(header.length, DiskStore.SECTOR_BYTES));
        byte[] seed = new byte[DiskStore.SECTOR_BYTES];
        random.nextBytes(seed);
        System.arraycopy(seed, 0, content, DiskStore.SECTOR_BYTES, seed.length);
        try (BlockDevice device = store.open(storeId)) {
            device.write(0, content, 0, content.length, true);
        }
        try {
            metadata.inTransaction(h -> h.createUpdate("INSERT INTO compute_vm_guest_states (os_disk_id_lower, "
                    + "store_id) VALUES (:d, :s)").bind("d", key(osDiskId)).bind("s", storeId).execute());
        } catch (RuntimeException e) {
            store.delete(storeId);
            throw e;
        }
    }

    private void dropGuestState(String osDiskId) {
        guestState(osDiskId).ifPresent(storeId -> {
            metadata.inTransaction(h -> h.createUpdate("DELETE FROM compute_vm_guest_states WHERE os_disk_id_lower ="
                    + " :d").bind("d", key(osDiskId)).execute());
            store.delete(storeId);
        });
    }

    /** The body less what ARM never returns and Coffre, running no guest, has no use for: the OS profile's secrets. */
    private static JsonNode withoutSecrets(JsonNode body) {
        JsonNode copy = body.deepCopy();
        if (copy.path("properties").path("osProfile") instanceof ObjectNode osProfile) {
            osProfile.remove(List.of("adminPassword", "customData"));
        }
        return copy;
    }

    /** The stored model: the body's location, tags, identity and properties with the disks resolved. */
    private static ObjectNode model(JsonNode body, VmSpec spec, List<PlannedDisk> planned) {
        ObjectNode model = Json.object();
        model.put("location", spec.location());
        for (String field : List.of("tags", "identity", "zones", "plan")) {
            if (body.has(field) && !body.get(field).isNull()) {
                model.set(field, body.get(field).deepCopy());
            }
        }
        ObjectNode properties = body.path("properties").deepCopy();
        properties.remove(List.of("provisioningState", "vmId", "instanceView", "timeCreated"));
        ObjectNode storage = properties.with("storageProfile");
        ObjectNode os = storage.with("osDisk");
        fillDisk(os, planned.get(0));
        os.put("osType", os.path("osType").asText("Linux"));
        ArrayNode data = storage.putArray("dataDisks");
        for (PlannedDisk d : planned.subList(1, planned.size())) {
            data.add(dataDiskEntry(body, d));
        }
        model.set("properties", properties);
        return model;
    }

    /** A data disk as the model shows it: the body's entry for its LUN, with the disk resolved. */
    private static ObjectNode dataDiskEntry(JsonNode body, PlannedDisk d) {
        ObjectNode disk = Json.object().put("lun", d.spec().lun());
        for (JsonNode given : body.path("properties").path("storageProfile").path("dataDisks")) {
            if (given.path("lun").asInt(-1) == d.spec().lun()) {
                disk.setAll((ObjectNode) given.deepCopy());
            }
        }
        disk.remove("toBeDetached");
        fillDisk(disk, d);
        return disk;
    }

    private static void fillDisk(ObjectNode disk, PlannedDisk d) {
        disk.put("name", ResourceId.parse(d.diskId()).name());
        disk.put("createOption", d.spec().createOption());
        disk.put("deleteOption", d.spec().deleteOption());
        if (d.spec().sizeGb() != null) {
            disk.put("diskSizeGB", d.spec().sizeGb());
        }
        ObjectNode managed = disk.with("managedDisk");
        managed.put("id", d.diskId());
        managed.put("storageAccountType", d.spec().storageAccountType());
    }

    private void checkUnchangeable(VmRow row, JsonNode body) {
        if (!body.isObject()) {
            throw ArmException.badRequest("InvalidRequestContent", "The request body must be a JSON object.");
        }
        String security = body.path("properties").path("securityProfile").path("securityType").asText(null);
        if (security != null && !security.equals(row.securityType())) {
            throw ArmException.conflict("PropertyChangeNotAllowed", "Changing securityProfile.securityType from "
                    + row.securityType() + " to " + security + " is not allowed; create a new VM.");
        }
        JsonNode osDisk = body.path("properties").path("storageProfile").path("osDisk");
        DiskRow os = diskRows(row.resourceId()).stream().filter(d -> d.role() == DiskRole.OS).findFirst()
                .orElseThrow();
        if (osDisk.isObject() && !names(osDisk, os)) {
            throw ArmException.conflict("PropertyChangeNotAllowed", "The OS disk of a virtual machine cannot be "
                    + "swapped here: it is " + os.diskId() + ". Create a new VM that attaches the other disk.");
        }
    }

    /** Whether a disk entry of a request, by what it names (managedDisk.id, name), is that disk. */
    private static boolean names(JsonNode entry, DiskRow disk) {
        String id = entry.path("managedDisk").path("id").asText(null);
        String name = entry.path("name").asText(null);
        return (id == null || ResourceId.parse(id).toString().equalsIgnoreCase(disk.diskId()))
                && (name == null || name.equalsIgnoreCase(ResourceId.parse(disk.diskId()).name()));
    }

    // ---- attaching and detaching data disks (a PUT on an existing VM, as az vm disk attach / detach send) ----

    /** What an update does to the data disks, and the VM's model once done. */
    private record DiskChanges(List<PlannedDisk> attach, List<DiskRow> detach, ObjectNode document) {
        boolean isEmpty() {
            return attach.isEmpty() && detach.isEmpty();
        }
    }

    /** The data disk entries a request adds and the LUNs it keeps; the disks it leaves out are detached. */
    private record Requested(List<VmSpec.DiskSpec> attach, Set<Integer> kept, List<DiskRow> detach) {
        boolean isEmpty() {
            return attach.isEmpty() && detach.isEmpty();
        }
    }

    /**
     * What a request's {@code storageProfile.dataDisks} adds (new LUNs) and removes (LUNs left out or {@code
     * toBeDetached}), checked before anything is looked up. Without {@code dataDisks} the disks stay as they are.
     */
    private Requested requested(VmRow vm, JsonNode body) {
        JsonNode entries = body.path("properties").path("storageProfile").path("dataDisks");
        if (!entries.isArray()) {
            return new Requested(List.of(), Set.of(), List.of());
        }
        Map<Integer, DiskRow> current = new LinkedHashMap<>();
        diskRows(vm.resourceId()).stream().filter(d -> d.role() == DiskRole.DATA).forEach(d -> current.put(d.lun(), d));
        Set<Integer> luns = new HashSet<>();
        Set<Integer> kept = new HashSet<>();
        List<VmSpec.DiskSpec> attach = new ArrayList<>();
        int index = 0;
        for (JsonNode d : entries) {
            String where = "storageProfile.dataDisks[" + index++ + "]";
            int lun = VmSpec.lun(d, where, luns);
            boolean detach = d.path("toBeDetached").asBoolean(false);
            DiskRow now = current.get(lun);
            if (now != null && !names(d, now)) {
                throw ArmException.conflict("OperationNotAllowed", "LUN " + lun + " of the virtual machine "
                        + vm.id().name() + " holds disk " + now.diskId() + ", not the disk " + where + " names; "
                        + "detach it first (leave it out of dataDisks, or set toBeDetached) and attach the other disk "
                        + "in a second update.");
            }
            if (now != null && !detach) {
                kept.add(lun);
            } else if (now == null && !detach) {
                attach.add(VmSpec.dataDisk(d, where, lun, vm.id().name()));
            }
        }
        VmSpec.checkDataDiskCount(VmSizes.builtIn().require(vm.vmSize()), kept.size() + attach.size());
        return new Requested(attach, kept, current.values().stream().filter(d -> !kept.contains(d.lun())).toList());
    }

    /** The requested changes with the disks to attach checked as a create checks them, and the VM's model after. */
    private DiskChanges diskChanges(Principal caller, VmRow vm, JsonNode body) {
        Requested requested = requested(vm, body);
        if (requested.isEmpty()) {
            return new DiskChanges(List.of(), List.of(), null);
        }
        VmSpec spec = new VmSpec(vm.location(), VmSizes.builtIn().require(vm.vmSize()), vm.securityType(),
                vm.securityEncryptionType(), vm.desId(), null, List.of());
        List<PlannedDisk> attach = requested.attach().stream()
                .map(d -> planDisk(caller, vm.id(), spec, d, DiskRole.DATA, false)).toList();
        if (attach.stream().map(p -> key(p.diskId())).distinct().count() != attach.size()) {
            throw VmSpec.invalid("storageProfile.dataDisks", "two of its disks name the same disk resource");
        }
        ObjectNode document = vm.document().deepCopy();
        if (body.has("tags")) {
            document.set("tags", Tags.toJson(Tags.validate(Tags.parse(body.get("tags")))));
        }
        ArrayNode data = ((ObjectNode) document.path("properties")).with("storageProfile").putArray("dataDisks");
        for (JsonNode entry : vm.document().path("properties").path("storageProfile").path("dataDisks")) {
            if (requested.kept().contains(entry.path("lun").asInt(-1))) {
                data.add(entry.deepCopy());
            }
        }
        attach.forEach(p -> data.add(dataDiskEntry(body, p)));
        return new DiskChanges(attach, requested.detach(), document);
    }

    /**
     * Reserves the disks to attach (a disk belongs to one VM's rows) and records the plan with the VM, Updating,
     * then carries it out as the operation: a crash leaves it to {@link #resumeWrite}.
     */
    private Accepted startUpdate(Principal caller, VmRow vm, DiskChanges changes) {
        ObjectNode plan = Json.object();
        ArrayNode attach = plan.putArray("attach");
        for (PlannedDisk d : changes.attach()) {
            ObjectNode entry = attach.addObject().put("diskId", d.diskId()).put("lun", d.spec().lun());
            if (d.createBody() != null) {
                entry.set("createBody", d.createBody());
            }
        }
        ArrayNode detach = plan.putArray("detach");
        changes.detach().forEach(d -> detach.addObject().put("diskId", d.diskId()).put("lun", d.lun()));
        plan.set("document", changes.document());
        ObjectNode pending = Json.object().<ObjectNode>set("caller", callerJson(caller)).set("update", plan);
        try {
            metadata.inTransaction(h -> {
                // the row lock this takes orders concurrent updates; the plan holds only if the VM is as it was read
                int settled = h.createUpdate("UPDATE compute_virtual_machines SET provisioning_state = :s, "
                                + "pending_request = :p WHERE id_lower = :id AND provisioning_state = :was")
                        .bind("s", UPDATING).bind("p", Json.write(pending)).bind("id", key(vm.resourceId()))
                        .bind("was", vm.provisioningState()).execute();
                boolean unchanged = settled == 1 && h.createQuery("SELECT document FROM compute_virtual_machines "
                                + "WHERE id_lower = :id").bind("id", key(vm.resourceId())).mapTo(String.class)
                        .findOne().map(Json::parse).filter(vm.document()::equals).isPresent();
                if (!unchanged) {
                    throw ArmException.conflict("Conflict", "The virtual machine " + vm.id().name() + " changed "
                            + "while this update was checked (another update ran); read it again and retry.");
                }
                changes.attach().forEach(d -> reserve(h, vm.resourceId(), d));
                return null;
            });
        } catch (StoreConflictException e) {
            throw ArmException.conflict("Conflict", "A disk this update attaches to " + vm.id().name() + " is being "
                    + "attached to a virtual machine by another request; wait for it and retry.");
        }
        // the answer is the VM as accepted (Updating), read before the work starts: read after, it could already
        // show the update done, or half done (VmNbdTest once saw Succeeded)
        ObjectNode accepted = render(findRow(vm.resourceId()).orElseThrow(), false);
        AsyncOperations.Operation op;
        try {
            op = operations.runAsync(vm.resourceId(), WRITE_KIND, () -> {
                applyUpdate(caller, vm.resourceId(), plan, false);
                return operationResult(vm.resourceId());
            });
        } catch (RuntimeException e) {
            abandonUpdate(vm.resourceId(), plan);
            throw e;
        }
        return new Accepted(accepted, false, op.id());
    }

    /**
     * Attaches (making new disks first), then detaches, then commits the model; on failure undoes what it did and
     * the VM stays as it was. Resuming, it takes over what the interrupted run did.
     */
    private void applyUpdate(Principal caller, String vmId, JsonNode plan, boolean resuming) {
        synchronized (lock(vmId)) {
            VmRow vm = findRow(vmId).orElseThrow();
            Deque<Runnable> undo = new ArrayDeque<>();
            try {
                for (JsonNode a : plan.path("attach")) {
                    attach(caller, vm, a.path("diskId").asText(), a.get("createBody"), resuming, undo);
                }
                for (JsonNode d : plan.path("detach")) {
                    String diskId = d.path("diskId").asText();
                    if (vm.powerState() == PowerState.RUNNING) {
                        // the guest stops writing first; disconnecting flushes what it wrote
                        stopExport(vm, d.path("lun").asInt());
                        undo.push(() -> exports.add(exportsOf(vm)));
                    }
                    if (disks.facts(diskId).map(f -> vmId.equalsIgnoreCase(f.managedBy())).orElse(false)) {
                        disks.setManagedBy(diskId, null);
                        undo.push(() -> disks.setManagedBy(diskId, vmId));
                    }
                }
                metadata.inTransaction(h -> {
                    plan.path("detach").forEach(d -> unreserve(h, d.path("diskId").asText()));
                    h.createUpdate("UPDATE compute_virtual_machines SET provisioning_state = :s, document = :doc, "
                                    + "pending_request = NULL WHERE id_lower = :id").bind("s", SUCCEEDED)
                            .bind("doc", Json.write(plan.path("document"))).bind("id", key(vmId)).execute();
                    index.put(vmId, RESOURCE_TYPE, vm.location(), tagsJson((ObjectNode) plan.path("document")));
                    return null;
                });
            } catch (RuntimeException e) {
                undoAll(undo, "update", vmId);
                abandonUpdate(vmId, plan);
                throw e;
            }
            if (vm.powerState() == PowerState.RUNNING) {
                exports.add(exportsOf(findRow(vmId).orElseThrow()));
            }
        }
    }

    /** Drops an update's reservations: the VM is back as it was before it. */
    private void abandonUpdate(String vmId, JsonNode plan) {
        metadata.inTransaction(h -> {
            plan.path("attach").forEach(a -> unreserve(h, a.path("diskId").asText()));
            h.createUpdate("UPDATE compute_virtual_machines SET provisioning_state = :s, pending_request = NULL "
                    + "WHERE id_lower = :id").bind("s", SUCCEEDED).bind("id", key(vmId)).execute();
            return null;
        });
    }

    /**
     * The size an update asks for when it differs from the VM's, checked as a create checks a size, plus what a
     * resize needs: the same confidential hardware (the key's release policy names it) and room for the data disks
     * the VM has.
     */
    private Optional<VmSizes.VmSize> resizeTo(VmRow vm, JsonNode body) {
        String name = body.path("properties").path("hardwareProfile").path("vmSize").asText(null);
        if (name == null || name.equalsIgnoreCase(vm.vmSize())) {
            return Optional.empty();
        }
        VmSizes sizes = VmSizes.builtIn();
        VmSizes.VmSize size = sizes.require(name);
        VmSizes.VmSize current = sizes.require(vm.vmSize());
        VmSpec.requireConfidentialCapable(size, vm.confidential());
        if (vm.confidential() && size.confidentialTechnology() != current.confidentialTechnology()) {
            throw ArmException.conflict("OperationNotAllowed", "The confidential VM " + vm.id().name() + " runs on "
                    + current.confidentialTechnology() + " hardware (" + current.name() + "); it can be resized only "
                    + "to a size of the same hardware, not to " + size.name() + " (" + size.confidentialTechnology()
                    + "). List them with GET .../virtualMachines/" + vm.id().name() + "/vmSizes.");
        }
        sizes.requireOffered(size, vm.location(), vm.confidential());
        VmSpec.checkDataDiskCount(size, dataDiskCount(vm));
        return Optional.of(size);
    }

    /**
     * Resizes a running VM as Azure does, by a restart, as the operation: stopped (its exports closed, their writes
     * flushed), resized, started again (a confidential VM's key released again). A refused release leaves it
     * stopped at its new size and fails the operation, as a failed start does. A crash interrupts it as it interrupts
     * a restart: the operation fails, and the VM is as far as it got (running at its old size, or stopped at either).
     */
    private Accepted resizeByRestart(VmRow vm, JsonNode body, VmSizes.VmSize size) {
        AsyncOperations.Operation op = operations.runAsync(vm.resourceId(), RESOURCE_TYPE + "/resize", () -> {
            synchronized (lock(vm.resourceId())) {
                VmRow current = findRow(vm.resourceId()).orElseThrow(() -> ArmException.notFound("ResourceNotFound",
                        "The virtual machine " + vm.resourceId() + " was deleted meanwhile."));
                // what would refuse the resize is checked before the stop, so that a refusal leaves the VM running
                requireSettled(current, "update");
                requireUnresized(current, vm);
                boolean running = current.powerState() == PowerState.RUNNING;
                if (running) {
                    stop(current, PowerState.STOPPED);
                }
                updateInPlace(vm, body, Optional.of(size));
                if (running) {
                    start(findRow(vm.resourceId()).orElseThrow());
                }
            }
            return operationResult(vm.resourceId());
        });
        return new Accepted(render(vm, false), false, op.id());
    }

    /**
     * Changes tags and the size at once, in one transaction, under the VM's lock (a start takes it too), on the VM
     * as it is now: a start or another update since the checks is caught, not overwritten.
     */
    private ObjectNode updateInPlace(VmRow checked, JsonNode body, Optional<VmSizes.VmSize> resize) {
        if (!body.has("tags") && resize.isEmpty()) {
            return render(checked, false);
        }
        Map<String, String> tags = body.has("tags") ? Tags.validate(Tags.parse(body.get("tags"))) : null;
        synchronized (lock(checked.resourceId())) {
            VmRow row = findRow(checked.resourceId()).orElseThrow(() -> ArmException.notFound("ResourceNotFound",
                    "The virtual machine " + checked.id().name() + " was deleted meanwhile."));
            requireSettled(row, "update");
            ObjectNode document = row.document().deepCopy();
            if (tags != null) {
                document.set("tags", Tags.toJson(tags));
            }
            String size = row.vmSize();
            if (resize.isPresent()) {
                requireUnresized(row, checked);
                if (row.powerState() == PowerState.RUNNING) {
                    throw ArmException.conflict("Conflict", "The virtual machine " + row.id().name() + " was "
                            + "started by another request meanwhile; read it again and retry the resize.");
                }
                size = resize.get().name();
                ((ObjectNode) document.path("properties")).with("hardwareProfile").put("vmSize", size);
            }
            String newSize = size;
            metadata.inTransaction(h -> {
                h.createUpdate("UPDATE compute_virtual_machines SET document = :d, vm_size = :size "
                                + "WHERE id_lower = :id")
                        .bind("d", Json.write(document)).bind("size", newSize).bind("id", key(row.resourceId()))
                        .execute();
                index.put(row.resourceId(), RESOURCE_TYPE, row.location(), tagsJson(document));
                return null;
            });
        }
        return render(findRow(checked.resourceId()).orElseThrow(), false);
    }

    private int dataDiskCount(VmRow vm) {
        return (int) diskRows(vm.resourceId()).stream().filter(d -> d.role() == DiskRole.DATA).count();
    }

    private static void requireUnresized(VmRow now, VmRow checked) {
        if (!now.vmSize().equals(checked.vmSize())) {
            throw ArmException.conflict("Conflict", "The virtual machine " + now.id().name() + " was resized by "
                    + "another request meanwhile; read it again and retry.");
        }
    }

    @Override
    public List<ObjectNode> availableSizes(Principal caller, String subscriptionId, String resourceGroup,
                                           String name) {
        VmRow vm = require(caller, subscriptionId, resourceGroup, name, "/vmSizes/read");
        VmSizes sizes = VmSizes.builtIn();
        VmSizes.VmSize current = sizes.require(vm.vmSize());
        int dataDisks = dataDiskCount(vm);
        return sizes.offeredIn(vm.location()).stream()
                .filter(s -> !vm.confidential() || s.confidentialTechnology() == current.confidentialTechnology())
                .filter(s -> s.maxDataDisks() >= dataDisks)
                .map(VmSizeCatalog::vmSize).toList();
    }

    @Override
    public ObjectNode get(Principal caller, String subscriptionId, String resourceGroup, String name,
                          boolean instanceView) {
        return render(require(caller, subscriptionId, resourceGroup, name, "/read"), instanceView);
    }

    @Override
    public ObjectNode instanceView(Principal caller, String subscriptionId, String resourceGroup, String name) {
        return instanceView(require(caller, subscriptionId, resourceGroup, name, "/read"));
    }

    @Override
    public Accepted patch(Principal caller, String subscriptionId, String resourceGroup, String name,
                          JsonNode body) {
        return update(caller, require(caller, subscriptionId, resourceGroup, name, "/write"), body);
    }

    /**
     * A PUT of an existing VM or a PATCH: both replace {@code storageProfile.dataDisks} when they carry it (a PATCH
     * replaces arrays as a whole), so both attach and detach through the same operation; tags and the size
     * ({@code hardwareProfile.vmSize}) of a VM that does not run change at once, a running VM is resized by a
     * restart.
     */
    private Accepted update(Principal caller, VmRow vm, JsonNode body) {
        // an update must not report success on a VM whose create is running or failed
        requireSettled(vm, "update");
        checkUnchangeable(vm, body);
        Optional<VmSizes.VmSize> resize = resizeTo(vm, body);
        DiskChanges changes = diskChanges(caller, vm, body);
        if (!changes.isEmpty()) {
            if (resize.isPresent()) {
                throw ArmException.conflict("OperationNotAllowed", "A resize cannot attach or detach data disks in "
                        + "the same update; resize the virtual machine " + vm.id().name() + " first, then change its "
                        + "disks in a second update.");
            }
            return startUpdate(caller, vm, changes);
        }
        if (resize.isPresent() && vm.powerState() == PowerState.RUNNING) {
            return resizeByRestart(vm, body, resize.get());
        }
        ObjectNode updated = updateInPlace(vm, body, resize);
        AsyncOperations.Operation op = operations.start(vm.resourceId(), WRITE_KIND);
        operations.succeed(op.id(), Json.write(updated));
        return new Accepted(updated, false, op.id());
    }

    /**
     * What an update's {@code Location} URL answers once it is done: the VM, which is where a PATCH's poller reads
     * its result (a PUT's reads the VM's own URL).
     */
    private String operationResult(String vmId) {
        return Json.write(render(findRow(vmId).orElseThrow(), false));
    }

    @Override
    public List<ObjectNode> list(Principal caller, String subscriptionId, String resourceGroupOrNull) {
        AccessControl.Grants grants = access.grantsOf(caller);
        String read = RESOURCE_TYPE + "/read";
        return metadata.withHandle(h -> h.createQuery("SELECT * FROM compute_virtual_machines WHERE "
                        + "lower(subscription_id) = :s" + (resourceGroupOrNull == null ? "" : " AND group_lower = :g")
                        + " ORDER BY id_lower")
                .bind("s", subscriptionId.toLowerCase(Locale.ROOT))
                .bind("g", resourceGroupOrNull == null ? "" : resourceGroupOrNull.toLowerCase(Locale.ROOT))
                .map((rs, ctx) -> row(rs)).list())
                .stream().filter(r -> grants.allows(r.resourceId(), read, false)).map(r -> render(r, false)).toList();
    }

    // ---- power actions and delete ----

    @Override
    public String act(Principal caller, String subscriptionId, String resourceGroup, String name, Action action) {
        VmRow vm = require(caller, subscriptionId, resourceGroup, name, "/" + action.wireName + "/action");
        requireSettled(vm, action.wireName);
        if (action == Action.RESTART && vm.powerState() != PowerState.RUNNING) {
            throw ArmException.conflict("OperationNotAllowed", "Cannot restart the virtual machine " + name
                    + " because it is " + vm.powerState().wireName + "; start it instead.");
        }
        return operations.runAsync(vm.resourceId(), RESOURCE_TYPE + "/" + action.wireName, () -> {
            synchronized (lock(vm.resourceId())) {
                VmRow current = findRow(vm.resourceId()).orElseThrow(() -> ArmException.notFound("ResourceNotFound",
                        "The virtual machine " + vm.resourceId() + " was deleted meanwhile."));
                switch (action) {
                    case START -> start(current);
                    case POWER_OFF -> stop(current, PowerState.STOPPED);
                    case DEALLOCATE -> stop(current, PowerState.DEALLOCATED);
                    case RESTART -> {
                        stop(current, PowerState.STOPPED);
                        start(findRow(vm.resourceId()).orElseThrow());
                    }
                }
            }
            // the SDK pollers read the Location URL after a POST action and accept 200 or 202 there, not 204
            return AsyncOperations.EMPTY_RESULT;
        }).id();
    }

    /** Releases the key first: a refused release leaves the VM as it was (stopped) and fails the operation. */
    private void start(VmRow vm) {
        if (vm.powerState() == PowerState.RUNNING) {
            return;
        }
        if (vm.desId() != null) {
            keyRelease.release(vm.desId(), vm.vmId(), vm.attestationType());
        }
        setPower(vm, PowerState.RUNNING);
        exports.add(exportsOf(vm));
    }

    /** Exports go first, then their connections end (devices flushed): acknowledged writes are durable after. */
    private void stop(VmRow vm, PowerState to) {
        stopExports(vm);
        setPower(vm, to);
    }

    private void stopExport(VmRow vm, int lun) {
        ResourceId id = vm.id();
        String name = VmExports.dataExport(id.resourceGroup(), id.name(), lun);
        exports.removeExactly(name);
        NbdServer server = nbd;
        if (server != null) {
            server.disconnect(name);
        }
    }

    private void stopExports(VmRow vm) {
        ResourceId id = vm.id();
        List<String> names = exports.remove(VmExports.prefix(id.resourceGroup(), id.name()));
        NbdServer server = nbd;
        if (server != null) {
            names.forEach(server::disconnect);
        }
    }

    private void setPower(VmRow vm, PowerState to) {
        metadata.inTransaction(h -> h.createUpdate("UPDATE compute_virtual_machines SET power_state = :p WHERE "
                + "id_lower = :id").bind("p", to.name()).bind("id", key(vm.resourceId())).execute());
    }

    @Override
    public Optional<String> delete(Principal caller, String subscriptionId, String resourceGroup, String name) {
        ResourceId id = resourceId(subscriptionId, resourceGroup, name);
        access.require(caller, id.toString(), RESOURCE_TYPE + "/delete", false);
        Optional<VmRow> found = findRow(id.toString());
        if (found.isEmpty()) {
            return Optional.empty();
        }
        VmRow vm = found.get();
        requireSettled(vm, "delete");
        ObjectNode pending = Json.object().<ObjectNode>set("caller", callerJson(caller))
                .put("after", vm.provisioningState());
        metadata.inTransaction(h -> h.createUpdate("UPDATE compute_virtual_machines SET provisioning_state = :s, "
                        + "pending_request = :p WHERE id_lower = :id").bind("s", DELETING)
                .bind("p", Json.write(pending)).bind("id", key(vm.resourceId())).execute());
        return Optional.of(operations.runAsync(vm.resourceId(), DELETE_KIND, () -> {
            deleteNow(caller, vm, vm.provisioningState().equals(SUCCEEDED));
            return null;
        }).id());
    }

    /**
     * Detaches the VM's disks, deletes those with deleteOption Delete, then the VM. Only disks attached to this VM
     * are touched: one a Failed create never attached may belong to someone else by now. Disks already detached are
     * taken too when the VM was provisioned, as only this delete can have detached them ({@code provisioned}).
     */
    private void deleteNow(Principal caller, VmRow vm, boolean provisioned) {
        synchronized (lock(vm.resourceId())) {
            stopExports(vm);
            for (DiskRow d : diskRows(vm.resourceId())) {
                Optional<Disks.DiskFacts> disk = disks.facts(d.diskId());
                String managedBy = disk.map(Disks.DiskFacts::managedBy).orElse(null);
                if (disk.isEmpty() || !(vm.resourceId().equalsIgnoreCase(managedBy)
                        || (provisioned && managedBy == null))) {
                    continue;
                }
                disks.setManagedBy(d.diskId(), null);
                if (d.deleteOption().equals("Delete")) {
                    afterDiskDetached.run();
                    deleteDisk(caller, d.diskId());
                }
            }
            forget(vm.resourceId());
        }
    }

    // ---- resuming after a crash ----

    /**
     * A create or an update of the data disks a crash interrupted runs again from what it recorded, taking over what
     * it had done; a create that cannot be planned again is undone instead. A write operation on a settled VM (a
     * tags update, or a create that committed just before the crash) is done.
     */
    private void resumeWrite(AsyncOperations.Operation op) {
        VmRow vm = findRow(op.resourceId()).orElseThrow(() -> new ArmException(500, "OperationInterrupted",
                "The create of the virtual machine " + op.resourceId() + " was interrupted by a restart of Coffre "
                        + "and undone; create it again."));
        if (vm.provisioningState().equals(CREATING)) {
            JsonNode pending;
            Principal caller;
            try {
                pending = pendingRequest(vm);
                caller = caller(pending.path("caller"));
            } catch (RuntimeException e) {
                // what the interrupted run attached stays attached to the Failed VM until it is deleted
                markFailed(vm);
                throw e;
            }
            VmSpec spec;
            List<PlannedDisk> planned;
            try {
                spec = VmSpec.parse(pending.path("body"), vm.id().name());
                planned = plan(caller, vm.id(), spec, true);
            } catch (RuntimeException e) {
                synchronized (lock(vm.resourceId())) {
                    undoInterruptedCreate(caller, vm, pending);
                }
                throw e;
            }
            synchronized (lock(vm.resourceId())) {
                provision(caller, vm, spec, planned, true);
            }
        } else if (vm.provisioningState().equals(UPDATING)) {
            JsonNode pending = pendingRequest(vm);
            applyUpdate(caller(pending.path("caller")), vm.resourceId(), pending.path("update"), true);
        }
        operations.succeed(op.id(), operationResult(vm.resourceId()));
    }

    private void resumeDelete(AsyncOperations.Operation op) {
        Optional<VmRow> found = findRow(op.resourceId());
        if (found.isPresent()) {
            JsonNode pending;
            try {
                pending = pendingRequest(found.get());
            } catch (ArmException e) {
                markFailed(found.get());
                throw e;
            }
            deleteNow(caller(pending.path("caller")), found.get(), pending.path("after").asText().equals(SUCCEEDED));
        }
        operations.succeed(op.id(), null);
    }

    /**
     * Undoes what an interrupted create did when it cannot go on (planning it again failed, e.g. the DES lost its key
     * permissions while Coffre was down), as a failed create undoes itself: the disks it attached are detached, those
     * it made (noted by {@link #recordMade}, or named in its request and attached to nothing) are deleted with their
     * guest state, and the VM is gone.
     */
    private void undoInterruptedCreate(Principal caller, VmRow vm, JsonNode pending) {
        Set<String> made = new HashSet<>();
        pending.path(MADE).forEach(d -> made.add(key(d.asText())));
        Set<String> toMake = disksToMake(vm, pending);
        Deque<Runnable> undo = new ArrayDeque<>();
        for (DiskRow d : diskRows(vm.resourceId())) {
            Optional<Disks.DiskFacts> disk = disks.facts(d.diskId());
            if (disk.isEmpty()) {
                continue;
            }
            // a disk the create was to make and that is attached to nothing was made by it just before the crash,
            // before its note: the rule a resumed create follows too (see madeBy)
            if (made.contains(key(d.diskId()))
                    || toMake.contains(key(d.diskId())) && disk.get().managedBy() == null) {
                undo.push(() -> deleteDisk(caller, d.diskId()));
                undo.push(() -> dropGuestState(d.diskId()));
            }
            if (vm.resourceId().equalsIgnoreCase(disk.get().managedBy())) {
                undo.push(() -> disks.setManagedBy(d.diskId(), null));
            }
        }
        undoAll(undo, "create", vm.resourceId());
        forget(vm.resourceId());
    }

    /** The disks the create's request makes rather than attaches, by key; none if it no longer parses. */
    private static Set<String> disksToMake(VmRow vm, JsonNode pending) {
        Set<String> toMake = new HashSet<>();
        try {
            VmSpec spec = VmSpec.parse(pending.path("body"), vm.id().name());
            List<VmSpec.DiskSpec> requested = new ArrayList<>(spec.dataDisks());
            requested.add(spec.osDisk());
            for (VmSpec.DiskSpec d : requested) {
                if (d.creates()) {
                    toMake.add(key(madeDiskId(vm.id(), d).toString()));
                }
            }
        } catch (ArmException e) {
            LOG.warn("the request of the interrupted create of {} no longer parses ({}); only the disks it noted as "
                    + "made are deleted", vm.resourceId(), e.getMessage());
            return Set.of();
        }
        return toMake;
    }

    private void markFailed(VmRow vm) {
        metadata.inTransaction(h -> h.createUpdate("UPDATE compute_virtual_machines SET provisioning_state = :f, "
                + "pending_request = NULL WHERE id_lower = :id").bind("f", FAILED).bind("id", key(vm.resourceId()))
                .execute());
    }

    private JsonNode pendingRequest(VmRow vm) {
        String json = metadata.withHandle(h -> h.createQuery("SELECT pending_request FROM compute_virtual_machines "
                + "WHERE id_lower = :id").bind("id", key(vm.resourceId())).mapTo(String.class).one());
        if (json == null) {
            // left by a version of Coffre that did not record it
            throw new ArmException(500, "OperationInterrupted", "The virtual machine " + vm.resourceId() + " was "
                    + vm.provisioningState() + " when Coffre restarted and cannot be resumed; it is Failed now: "
                    + "delete it (and create it again).");
        }
        return Json.parse(json);
    }

    private static ObjectNode callerJson(Principal caller) {
        return Json.object().put("objectId", caller.objectId()).put("appId", caller.appId())
                .put("displayName", caller.displayName()).put("type", caller.type().name())
                .put("tenantId", caller.tenantId());
    }

    private static Principal caller(JsonNode json) {
        return new Principal(json.path("objectId").asText(), json.path("appId").asText(null),
                json.path("displayName").asText(null), Principal.Type.valueOf(json.path("type").asText()),
                json.path("tenantId").asText(null));
    }

    private static void requireSettled(VmRow vm, String what) {
        if (List.of(CREATING, UPDATING, DELETING).contains(vm.provisioningState())) {
            throw ArmException.conflict("OperationNotAllowed", "Cannot " + what + " the virtual machine "
                    + vm.id().name() + " while it is " + vm.provisioningState() + "; wait for that to finish.");
        }
        if (vm.provisioningState().equals(FAILED) && !what.equals("delete")) {
            throw ArmException.conflict("OperationNotAllowed", "The virtual machine " + vm.id().name() + " is in "
                    + "provisioning state Failed (a crash interrupted its create or delete, which could not be "
                    + "resumed); delete it and create it again.");
        }
    }

    /** Removes the VM's rows: its disks are detached or deleted by now. */
    private void forget(String vmId) {
        metadata.inTransaction(h -> {
            h.createUpdate("DELETE FROM compute_vm_disks WHERE vm_id_lower = :id").bind("id", key(vmId)).execute();
            h.createUpdate("DELETE FROM compute_virtual_machines WHERE id_lower = :id").bind("id", key(vmId))
                    .execute();
            index.remove(vmId);
            return null;
        });
    }

    // ---- platform view ----

    @Override
    public Optional<VmFacts> find(String vmResourceId) {
        return findRow(ResourceId.parse(vmResourceId).toString()).map(this::facts);
    }

    private VmFacts facts(VmRow vm) {
        List<VmDisk> list = new ArrayList<>();
        for (DiskRow d : diskRows(vm.resourceId())) {
            Optional<Disks.DiskFacts> disk = disks.facts(d.diskId());
            if (disk.isEmpty() || !vm.resourceId().equalsIgnoreCase(disk.get().managedBy())) {
                continue; // not attached (yet, or any more): a create or update running, interrupted or undone
            }
            list.add(new VmDisk(d.role(), d.lun(), disk.get().resourceId(), disk.get().storeId(),
                    disk.get().encryption()));
            if (d.role() == DiskRole.OS) {
                guestState(d.diskId()).ifPresent(vmgs -> list.add(new VmDisk(DiskRole.VMGS, null,
                        disk.get().resourceId(), vmgs, disk.get().encryption())));
            }
        }
        return new VmFacts(vm.resourceId(), vm.vmId(), vm.location(), vm.vmSize(), vm.securityType(),
                vm.securityEncryptionType(), vm.desId(), vm.provisioningState(), vm.powerState(),
                vm.document().deepCopy(), List.copyOf(list));
    }

    @Override
    public void setGuestState(String osDiskResourceId, String vmgsStoreId) {
        store.info(vmgsStoreId); // DiskNotFound when it is not a disk of the store
        Optional<String> previous = guestState(osDiskResourceId);
        metadata.inTransaction(h -> {
            h.createUpdate("DELETE FROM compute_vm_guest_states WHERE os_disk_id_lower = :d")
                    .bind("d", key(osDiskResourceId)).execute();
            h.createUpdate("INSERT INTO compute_vm_guest_states (os_disk_id_lower, store_id) VALUES (:d, :s)")
                    .bind("d", key(osDiskResourceId)).bind("s", vmgsStoreId).execute();
            return null;
        });
        previous.filter(p -> !p.equals(vmgsStoreId)).ifPresent(store::delete);
    }

    @Override
    public Optional<String> guestState(String osDiskResourceId) {
        return metadata.withHandle(h -> h.createQuery("SELECT store_id FROM compute_vm_guest_states WHERE "
                + "os_disk_id_lower = :d").bind("d", key(osDiskResourceId)).mapTo(String.class).findOne());
    }

    @Override
    public synchronized NbdServer serveNbd(InetSocketAddress bind) {
        if (nbd != null) {
            throw new IllegalStateException("the NBD server runs already on port " + nbd.port());
        }
        nbd = NbdServer.start(bind, exports);
        return nbd;
    }

    @Override
    public synchronized void close() {
        if (nbd != null) {
            nbd.close();
            nbd = null;
        }
    }

    // ---- rendering ----

    private Map<String, String> exportsOf(VmRow vm) {
        ResourceId id = vm.id();
        Map<String, String> byName = new LinkedHashMap<>();
        for (VmDisk d : facts(vm).disks()) {
            if (d.role() == DiskRole.OS) {
                byName.put(VmExports.osExport(id.resourceGroup(), id.name()), d.storeId());
            } else if (d.role() == DiskRole.DATA) {
                byName.put(VmExports.dataExport(id.resourceGroup(), id.name(), d.lun()), d.storeId());
            }
        }
        return byName;
    }

    private ObjectNode render(VmRow vm, boolean withInstanceView) {
        ResourceId id = vm.id();
        ObjectNode out = Json.object();
        out.put("id", vm.resourceId());
        out.put("name", id.name());
        out.put("type", RESOURCE_TYPE);
        out.put("location", vm.location());
        for (String field : List.of("tags", "identity", "zones", "plan")) {
            if (vm.document().has(field)) {
                out.set(field, vm.document().get(field).deepCopy());
            }
        }
        ObjectNode properties = vm.document().path("properties").deepCopy();
        properties.put("vmId", vm.vmId());
        properties.put("provisioningState", vm.provisioningState());
        properties.put("timeCreated", Instant.ofEpochSecond(vm.createdAt()).toString());
        if (withInstanceView) {
            properties.set("instanceView", instanceView(vm));
        }
        out.set("properties", properties);
        return out;
    }

    private ObjectNode instanceView(VmRow vm) {
        ObjectNode view = Json.object();
        String computerName = vm.document().path("properties").path("osProfile").path("computerName").asText(null);
        if (computerName != null) {
            view.put("computerName", computerName);
        }
        view.put("hyperVGeneration", "V2");
        ArrayNode diskViews = view.putArray("disks");
        for (VmDisk d : facts(vm).disks()) {
            if (d.role() != DiskRole.VMGS) {
                ObjectNode dv = diskViews.addObject().put("name", ResourceId.parse(d.diskResourceId()).name());
                dv.putArray("statuses").add(status("ProvisioningState/succeeded", "Provisioning succeeded"));
            }
        }
        ArrayNode statuses = view.putArray("statuses");
        String provisioning = vm.provisioningState();
        statuses.add(status("ProvisioningState/" + provisioning.toLowerCase(Locale.ROOT), switch (provisioning) {
            case SUCCEEDED -> "Provisioning succeeded";
            case FAILED -> "Provisioning failed";
            default -> provisioning;
        }).put("time", Instant.ofEpochSecond(vm.createdAt()).toString()));
        statuses.add(status("PowerState/" + vm.powerState().wireName, "VM " + vm.powerState().wireName));
        return view;
    }

    private static ObjectNode status(String code, String display) {
        return Json.object().put("code", code).put("level", "Info").put("displayStatus", display);
    }

    // ---- storage ----

    private VmRow require(Principal caller, String subscriptionId, String resourceGroup, String name, String action) {
        ResourceId id = resourceId(subscriptionId, resourceGroup, name);
        access.require(caller, id.toString(), RESOURCE_TYPE + action, false);
        return findRow(id.toString()).orElseThrow(() -> ArmException.notFound("ResourceNotFound", "The Resource '"
                + RESOURCE_TYPE + "/" + name + "' under resource group '" + resourceGroup + "' was not found."));
    }

    private static ResourceId resourceId(String subscriptionId, String resourceGroup, String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw ArmException.badRequest("InvalidResourceName", "The resource name '" + name + "' is invalid: use "
                    + "1 to 64 letters, digits, '_', '.' or '-', starting with a letter, digit or '_'.");
        }
        return ResourceId.resourceGroup(subscriptionId, resourceGroup).resource("Microsoft.Compute",
                "virtualMachines", name);
    }

    private Object lock(String vmId) {
        return locks.computeIfAbsent(key(vmId), k -> new Object());
    }

    private void insert(Handle h, VmRow row, String subscriptionId, String resourceGroup, ObjectNode pending) {
        h.createUpdate("INSERT INTO compute_virtual_machines (id_lower, resource_id, subscription_id, group_lower, "
                        + "vm_id, location, vm_size, security_type, security_encryption_type, des_id, "
                        + "provisioning_state, power_state, document, created_at, pending_request) VALUES (:idl, :id, "
                        + ":s, :g, :vm, :loc, :size, :st, :set, :des, :ps, :pw, :doc, :t, :pending)")
                .bind("idl", key(row.resourceId())).bind("id", row.resourceId()).bind("s", subscriptionId)
                .bind("g", resourceGroup.toLowerCase(Locale.ROOT)).bind("vm", row.vmId()).bind("loc", row.location())
                .bind("size", row.vmSize()).bind("st", row.securityType()).bind("set", row.securityEncryptionType())
                .bind("des", row.desId()).bind("ps", row.provisioningState()).bind("pw", row.powerState().name())
                .bind("doc", Json.write(row.document())).bind("t", row.createdAt())
                .bind("pending", Json.write(pending)).execute();
    }

    private Optional<VmRow> findRow(String resourceId) {
        return metadata.withHandle(h -> h.createQuery("SELECT * FROM compute_virtual_machines WHERE id_lower = :id")
                .bind("id", key(resourceId)).map((rs, ctx) -> row(rs)).findOne());
    }

    private List<DiskRow> diskRows(String vmId) {
        return metadata.withHandle(h -> h.createQuery("SELECT * FROM compute_vm_disks WHERE vm_id_lower = :id "
                        + "ORDER BY role DESC, lun").bind("id", key(vmId))
                .map((rs, ctx) -> {
                    int lun = rs.getInt("lun");
                    Integer maybeLun = rs.wasNull() ? null : lun;
                    return new DiskRow(rs.getString("disk_id"), DiskRole.valueOf(rs.getString("role")), maybeLun,
                            rs.getString("delete_option"));
                }).list());
    }

    private static VmRow row(ResultSet rs) throws SQLException {
        return new VmRow(rs.getString("resource_id"), rs.getString("vm_id"), rs.getString("location"),
                rs.getString("vm_size"), rs.getString("security_type"), rs.getString("security_encryption_type"),
                rs.getString("des_id"), rs.getString("provisioning_state"),
                PowerState.valueOf(rs.getString("power_state")), (ObjectNode) Json.parse(rs.getString("document")),
                rs.getLong("created_at"));
    }

    private static String tagsJson(ObjectNode document) {
        return document.has("tags") && document.get("tags").isObject() ? Json.write(document.get("tags")) : null;
    }
}
