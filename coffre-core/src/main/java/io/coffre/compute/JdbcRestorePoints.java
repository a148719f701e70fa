package io.coffre.compute;

import static io.coffre.arm.ResourceId.key;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.arm.ArmException;
import io.coffre.arm.AsyncOperations;
import io.coffre.arm.Locations;
import io.coffre.arm.ResourceId;
import io.coffre.arm.ResourceIndex;
import io.coffre.catalog.SupportMatrix;
import io.coffre.compute.disk.DiskStore;
import io.coffre.compute.vm.VirtualMachines;
import io.coffre.compute.vm.VirtualMachines.DiskRole;
import io.coffre.compute.vm.VirtualMachines.VmDisk;
import io.coffre.compute.vm.VirtualMachines.VmFacts;
import io.coffre.identity.AccessControl;
import io.coffre.identity.Principal;
import io.coffre.json.Json;
import io.coffre.store.MetadataStore;
import io.coffre.time.CoffreClock;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;
import org.jdbi.v3.core.Handle;

/** {@link RestorePoints} over the disk store's multi-disk snapshots, with the resources in {@code compute_*} (V12). */
final class JdbcRestorePoints implements RestorePoints {
    private static final String NAMESPACE = "Microsoft.Compute";
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,79}");
    static final String APPLICATION_CONSISTENT = "ApplicationConsistent";
    static final String CRASH_CONSISTENT = "CrashConsistent";
    private static final Set<String> CONSISTENCY_MODES = Set.of(CRASH_CONSISTENT, "FileSystemConsistent",
            APPLICATION_CONSISTENT);
    private static final String CREATING = "Creating";
    private static final String SUCCEEDED = "Succeeded";

    private record Collection(String resourceId, String location, String sourceId, String uid, String tagsJson) {
    }

    private record Point(String resourceId, String collectionKey, String state, String consistencyMode,
                         ObjectNode document, Long timeCreated) {
    }

    private record DiskPoint(String resourceId, String restorePointKey, int position, String role, Integer lun,
                             String sourceDiskId, String storeId, String vmgsStoreId, String encryptionType,
                             String desId, String securityType, String location, byte[] accessSha256,
                             Long accessExpires, String exportStoreId, String securityDataStoreId) {
        EncryptionKeys.Setting encryption() {
            return new EncryptionKeys.Setting(encryptionType, desId, location);
        }
    }

    private final MetadataStore metadata;
    private final DiskStore store;
    private final DiskEncryptionSets encryptionSets;
    private final EncryptionKeys encryption;
    private final VirtualMachines virtualMachines;
    private final ResourceIndex index;
    private final AccessControl access;
    private final AsyncOperations operations;
    private final SupportMatrix supportMatrix;
    private final CoffreClock clock;
    private final SecureRandom random = new SecureRandom();

    JdbcRestorePoints(MetadataStore metadata, DiskStore store, DiskEncryptionSets encryptionSets,
                      VirtualMachines virtualMachines, ResourceIndex index, AccessControl access,
                      AsyncOperations operations, SupportMatrix supportMatrix, CoffreClock clock) {
        this.metadata = metadata;
        this.store = store;
        this.encryptionSets = encryptionSets;
        this.encryption = encryptionSets.encryptionKeys();
        this.virtualMachines = virtualMachines;
        this.index = index;
        this.access = access;
        this.operations = operations;
        this.supportMatrix = supportMatrix;
        this.clock = clock;
    }

    // ---- collections ----

    @Override
    public Put putCollection(Principal caller, String subscriptionId, String resourceGroup, String name,
                             JsonNode body) {
        ResourceId id = collectionId(subscriptionId, resourceGroup, name);
        access.require(caller, id.toString(), COLLECTION_TYPE + "/write", false);
        if (body == null || !body.isObject()) {
            throw ArmException.badRequest("InvalidRequestContent", "The request body must be a JSON object.");
        }
        JsonNode tags = body.get("tags");
        if (tags != null && !tags.isNull() && !tags.isObject()) {
            throw ArmException.badRequest("InvalidTag", "tags must be a JSON object of strings.");
        }
        String tagsJson = tags == null || tags.isNull() ? null : Json.write(tags);
        String sourceText = body.path("properties").path("source").path("id").asText(null);
        Optional<Collection> existing = findCollection(id.toString());
        if (existing.isPresent()) {
            Collection current = existing.get();
            if (sourceText != null && !ResourceId.parse(sourceText).toString().equalsIgnoreCase(current.sourceId())) {
                throw ArmException.conflict("PropertyChangeNotAllowed", "Changing property 'source.id' is not"
                        + " allowed: the collection holds restore points of " + current.sourceId() + ". Create"
                        + " another collection for another VM.");
            }
            metadata.inTransaction(h -> {
                h.createUpdate("UPDATE compute_restore_point_collections SET tags = :tags WHERE id_lower = :id")
                        .bind("tags", tagsJson).bind("id", key(id.toString())).execute();
                index.put(current.resourceId(), COLLECTION_TYPE, current.location(), tagsJson);
                return null;
            });
            return new Put(render(findCollection(id.toString()).orElseThrow(), false), false);
        }
        String location = Locations.normalize(body.path("location").asText(null));
        if (sourceText == null || sourceText.isBlank()) {
            throw ArmException.badRequest("InvalidParameter", "properties.source.id is required: the id of the"
                    + " virtual machine whose restore points the collection holds.");
        }
        ResourceId sourceId = ResourceId.parse(sourceText);
        if (!sourceId.type().equalsIgnoreCase(VirtualMachines.RESOURCE_TYPE)) {
            throw ArmException.badRequest("InvalidParameter", "properties.source.id must name a virtual machine"
                    + " (" + VirtualMachines.RESOURCE_TYPE + "); got " + sourceText + ".");
        }
        access.require(caller, sourceId.toString(), VirtualMachines.RESOURCE_TYPE + "/read", false);
        VmFacts vm = virtualMachines.find(sourceId.toString()).orElseThrow(() -> vmNotFound(sourceId.toString()));
        if (!vm.location().equals(location)) {
            throw ArmException.badRequest("SourceVmInAnotherRegion", "The restore point collection is in "
                    + location + " but its source VM " + vm.resourceId() + " is in " + vm.location()
                    + ". Create the collection in " + vm.location() + ".");
        }
        Collection created = new Collection(id.toString(), location, vm.resourceId(), UUID.randomUUID().toString(),
                tagsJson);
        metadata.inTransaction(h -> {
            h.createUpdate("INSERT INTO compute_restore_point_collections (id_lower, resource_id, subscription_id,"
                            + " group_lower, location, source_id, collection_uid, tags, created_at) VALUES (:idl, :id,"
                            + " :sub, :g, :loc, :src, :uid, :tags, :now)")
                    .bind("idl", key(id.toString())).bind("id", id.toString()).bind("sub", subscriptionId)
                    .bind("g", resourceGroup.toLowerCase(Locale.ROOT)).bind("loc", location)
                    .bind("src", created.sourceId()).bind("uid", created.uid()).bind("tags", tagsJson)
                    .bind("now", clock.now().getEpochSecond()).execute();
            index.put(id.toString(), COLLECTION_TYPE, location, tagsJson);
            return null;
        });
        return new Put(render(created, false), true);
    }

    @Override
    public ObjectNode getCollection(Principal caller, String subscriptionId, String resourceGroup, String name,
                                    boolean expandRestorePoints) {
        ResourceId id = collectionId(subscriptionId, resourceGroup, name);
        access.require(caller, id.toString(), COLLECTION_TYPE + "/read", false);
        return render(requireCollection(id), expandRestorePoints);
    }

    @Override
    public List<ObjectNode> listCollections(Principal caller, String subscriptionId, String resourceGroupOrNull) {
        AccessControl.Grants grants = access.grantsOf(caller);
        return metadata.withHandle(h -> h.createQuery("SELECT * FROM compute_restore_point_collections WHERE"
                                + " lower(subscription_id) = :s" + (resourceGroupOrNull == null ? ""
                                : " AND group_lower = :g") + " ORDER BY id_lower")
                        .bind("s", subscriptionId.toLowerCase(Locale.ROOT))
                        .bind("g", resourceGroupOrNull == null ? "" : resourceGroupOrNull.toLowerCase(Locale.ROOT))
                        .map((rs, ctx) -> collection(rs)).list())
                .stream().filter(c -> grants.allows(c.resourceId(), COLLECTION_TYPE + "/read", false))
                .map(c -> render(c, false)).toList();
    }

    @Override
    public boolean deleteCollection(Principal caller, String subscriptionId, String resourceGroup, String name) {
        ResourceId id = collectionId(subscriptionId, resourceGroup, name);
        access.require(caller, id.toString(), COLLECTION_TYPE + "/delete", false);
        Optional<Collection> found = findCollection(id.toString());
        if (found.isEmpty()) {
            return false;
        }
        for (Point point : points(key(id.toString()))) {
            deletePoint(point);
        }
        metadata.inTransaction(h -> {
            h.createUpdate("DELETE FROM compute_restore_point_collections WHERE id_lower = :id")
                    .bind("id", key(id.toString())).execute();
            index.remove(found.get().resourceId());
            return null;
        });
        return true;
    }

    // ---- restore points ----

    @Override
    public Accepted create(Principal caller, String subscriptionId, String resourceGroup, String collectionName,
                           String name, JsonNode body) {
        ResourceId collectionId = collectionId(subscriptionId, resourceGroup, collectionName);
        ResourceId id = collectionId.child("restorePoints", checkName(name));
        access.require(caller, id.toString(), RESTORE_POINT_TYPE + "/write", false);
        Collection collection = requireCollection(collectionId);
        if (findPoint(id.toString()).isPresent()) {
            throw ArmException.conflict("RestorePointAlreadyExists", "The restore point " + id + " exists; restore"
                    + " points cannot be changed. Create one with another name.");
        }
        JsonNode properties = body == null ? Json.object() : body.path("properties");
        String mode = properties.path("consistencyMode").asText(APPLICATION_CONSISTENT);
        if (!CONSISTENCY_MODES.contains(mode)) {
            throw ArmException.badRequest("InvalidParameter", "consistencyMode '" + mode + "' is not valid; use "
                    + String.join(", ", CONSISTENCY_MODES.stream().sorted().toList()) + ".");
        }
        VmFacts vm = virtualMachines.find(collection.sourceId()).orElseThrow(() -> vmNotFound(collection.sourceId()));
        if ("ConfidentialVM".equals(vm.securityType())) {
            supportMatrix.checkRestorePoint(vm.location(), vm.vmSize(), mode.equals(CRASH_CONSISTENT))
                    .ifPresent(refusal -> {
                        throw refusal.toException();
                    });
        }
        Set<String> excluded = excludedDisks(properties.path("excludeDisks"), vm);
        List<VmDisk> included = vm.disks().stream()
                .filter(d -> d.role() == DiskRole.VMGS || !excluded.contains(key(d.diskResourceId()))).toList();
        ObjectNode document = Json.object();
        ArrayNode excludeDisks = document.putArray("excludeDisks");
        vm.disks().stream().filter(d -> d.role() != DiskRole.VMGS && excluded.contains(key(d.diskResourceId())))
                .forEach(d -> excludeDisks.addObject().put("id", d.diskResourceId()));
        Point creating = new Point(id.toString(), key(collectionId.toString()), CREATING, mode, document, null);
        metadata.inTransaction(h -> h.createUpdate("INSERT INTO compute_restore_points (id_lower, resource_id,"
                        + " collection_lower, state, consistency_mode, document, created_at) VALUES (:idl, :id, :c,"
                        + " :st, :mode, :doc, :now)").bind("idl", key(id.toString())).bind("id", id.toString())
                .bind("c", creating.collectionKey()).bind("st", CREATING).bind("mode", mode)
                .bind("doc", Json.write(document)).bind("now", clock.now().getEpochSecond()).execute());
        AsyncOperations.Operation operation;
        try {
            operation = operations.runAsync(id.toString(), CREATE_KIND, () -> {
                take(creating, vm, included);
                return null;
            });
        } catch (RuntimeException e) {
            deleteRow(creating);
            throw e;
        }
        return new Accepted(render(creating, false), operation.id());
    }

    /** Excluded data disks, lower-case ids: each must be a data disk of the VM. */
    private static Set<String> excludedDisks(JsonNode excludeDisks, VmFacts vm) {
        Set<String> excluded = new LinkedHashSet<>();
        if (excludeDisks.isMissingNode() || excludeDisks.isNull()) {
            return excluded;
        }
        if (!excludeDisks.isArray()) {
            throw ArmException.badRequest("InvalidParameter", "excludeDisks must be an array of {\"id\": <disk id>}.");
        }
        for (JsonNode entry : excludeDisks) {
            String diskId = entry.path("id").asText("");
            Optional<VmDisk> disk = diskId.isEmpty() ? Optional.empty() : vm.disks().stream()
                    .filter(d -> d.role() != DiskRole.VMGS && d.diskResourceId().equalsIgnoreCase(diskId))
                    .findFirst();
            if (disk.isEmpty()) {
                throw ArmException.badRequest("ExcludedDiskNotAttached", "The excluded disk '" + diskId + "' is not"
                        + " a disk of " + vm.resourceId() + "; exclude only data disks attached to it.");
            }
            if (disk.get().role() == DiskRole.OS) {
                throw ArmException.badRequest("OsDiskCannotBeExcluded", "The OS disk " + diskId + " cannot be"
                        + " excluded from a restore point; exclude data disks only.");
            }
            excluded.add(key(disk.get().diskResourceId()));
        }
        return excluded;
    }

    /** Freezes every included disk (VMGS too) at one instant, then records the disk restore points. */
    private void take(Point point, VmFacts vm, List<VmDisk> included) {
        List<String> snapshots;
        try {
            snapshots = store.snapshot(included.stream().map(VmDisk::storeId).toList());
        } catch (RuntimeException e) {
            deleteRow(point);
            throw e;
        }
        try {
            String vmgsSnapshot = null;
            for (int i = 0; i < included.size(); i++) {
                if (included.get(i).role() == DiskRole.VMGS) {
                    vmgsSnapshot = snapshots.get(i);
                }
            }
            List<DiskPoint> diskPoints = new ArrayList<>();
            for (int i = 0; i < included.size(); i++) {
                VmDisk disk = included.get(i);
                if (disk.role() == DiskRole.VMGS) {
                    continue;
                }
                String diskName = ResourceId.parse(disk.diskResourceId()).name();
                String drpName = diskName + "_" + UUID.randomUUID().toString().substring(0, 8);
                String securityType = disk.role() == DiskRole.OS ? osDiskSecurityType(vm) : null;
                diskPoints.add(new DiskPoint(ResourceId.parse(point.resourceId()).child("diskRestorePoints", drpName)
                        .toString(), key(point.resourceId()), diskPoints.size(), disk.role() == DiskRole.OS
                        ? RestorePointExports.ROLE_OS : RestorePointExports.ROLE_DATA, disk.lun(),
                        disk.diskResourceId(), snapshots.get(i), disk.role() == DiskRole.OS ? vmgsSnapshot : null,
                        disk.encryption().type(), disk.encryption().diskEncryptionSetId(), securityType,
                        vm.location(), null, null, null, null));
            }
            ObjectNode document = point.document().deepCopy();
            document.set("sourceMetadata", sourceMetadata(vm, diskPoints));
            long now = clock.now().getEpochSecond();
            metadata.inTransaction(h -> {
                for (DiskPoint d : diskPoints) {
                    insert(h, d);
                    if (d.desId() != null) {
                        encryptionSets.associate(d.desId(), d.resourceId());
                        // the restore point's own copy of the wrapped DES key: rotation rewrites it with the rest
                        encryptionSets.copyWrappedKey(d.desId(), point.resourceId());
                    }
                }
                h.createUpdate("UPDATE compute_restore_points SET state = :st, document = :doc, time_created = :t"
                                + " WHERE id_lower = :id").bind("st", SUCCEEDED).bind("doc", Json.write(document))
                        .bind("t", now).bind("id", key(point.resourceId())).execute();
                return null;
            });
        } catch (RuntimeException e) {
            snapshots.forEach(this::deleteQuietly);
            deleteRow(point);
            throw e;
        }
    }

    private static String osDiskSecurityType(VmFacts vm) {
        if (!"ConfidentialVM".equals(vm.securityType())) {
            return null;
        }
        return vm.diskEncryptionSetId() != null ? "ConfidentialVM_DiskEncryptedWithCustomerKey"
                : "ConfidentialVM_DiskEncryptedWithPlatformKey";
    }

    /** The VM as it was: hardware, security, vmId, location and each disk with its disk restore point. */
    private static ObjectNode sourceMetadata(VmFacts vm, List<DiskPoint> diskPoints) {
        JsonNode properties = vm.model().path("properties");
        ObjectNode metadata = Json.object();
        for (String field : List.of("hardwareProfile", "securityProfile")) {
            if (properties.has(field)) {
                metadata.set(field, properties.get(field).deepCopy());
            }
        }
        JsonNode storage = properties.path("storageProfile");
        ObjectNode storageProfile = metadata.putObject("storageProfile");
        ArrayNode dataDisks = storageProfile.putArray("dataDisks");
        for (DiskPoint d : diskPoints) {
            ObjectNode disk;
            JsonNode model;
            if (d.role().equals(RestorePointExports.ROLE_OS)) {
                disk = storageProfile.putObject("osDisk");
                model = storage.path("osDisk");
                if (model.has("osType")) {
                    disk.put("osType", model.get("osType").asText());
                }
            } else {
                disk = dataDisks.addObject().put("lun", d.lun());
                model = modelDataDisk(storage, d.lun());
            }
            disk.put("name", ResourceId.parse(d.sourceDiskId()).name());
            ObjectNode managed = disk.putObject("managedDisk").put("id", d.sourceDiskId());
            if (model.path("managedDisk").has("securityProfile")) {
                managed.set("securityProfile", model.path("managedDisk").get("securityProfile").deepCopy());
            }
            disk.putObject("diskRestorePoint").put("id", d.resourceId()).set("encryption", encryptionJson(d));
        }
        metadata.put("vmId", vm.vmId());
        metadata.put("location", vm.location());
        return metadata;
    }

    private static JsonNode modelDataDisk(JsonNode storage, Integer lun) {
        for (JsonNode disk : storage.path("dataDisks")) {
            if (lun != null && disk.path("lun").asInt(-1) == lun) {
                return disk;
            }
        }
        return Json.object();
    }

    private static ObjectNode encryptionJson(DiskPoint d) {
        ObjectNode encryption = Json.object().put("type", d.encryptionType());
        if (d.desId() != null) {
            encryption.putObject("diskEncryptionSet").put("id", d.desId());
        }
        return encryption;
    }

    @Override
    public ObjectNode get(Principal caller, String subscriptionId, String resourceGroup, String collection,
                          String name, boolean instanceView) {
        ResourceId id = collectionId(subscriptionId, resourceGroup, collection).child("restorePoints",
                checkName(name));
        access.require(caller, id.toString(), RESTORE_POINT_TYPE + "/read", false);
        return render(findPoint(id.toString()).orElseThrow(() -> notFound(RESTORE_POINT_TYPE, id)), instanceView);
    }

    @Override
    public boolean delete(Principal caller, String subscriptionId, String resourceGroup, String collection,
                          String name) {
        ResourceId id = collectionId(subscriptionId, resourceGroup, collection).child("restorePoints",
                checkName(name));
        access.require(caller, id.toString(), RESTORE_POINT_TYPE + "/delete", false);
        Optional<Point> point = findPoint(id.toString());
        if (point.isEmpty()) {
            return false;
        }
        deletePoint(point.get());
        return true;
    }

    private void deletePoint(Point point) {
        if (point.state().equals(CREATING)) {
            throw ArmException.conflict("OperationNotAllowed", "The restore point " + point.resourceId() + " is"
                    + " still being created; delete it once its operation has finished.");
        }
        List<DiskPoint> diskPoints = diskPoints(key(point.resourceId()));
        metadata.inTransaction(h -> {
            for (DiskPoint d : diskPoints) {
                if (d.desId() != null) {
                    encryptionSets.dissociate(d.desId(), d.resourceId());
                }
            }
            encryptionSets.dropWrappedKeys(point.resourceId());
            h.createUpdate("DELETE FROM compute_disk_restore_points WHERE restore_point_lower = :rp")
                    .bind("rp", key(point.resourceId())).execute();
            h.createUpdate("DELETE FROM compute_restore_points WHERE id_lower = :id")
                    .bind("id", key(point.resourceId())).execute();
            return null;
        });
        for (DiskPoint d : diskPoints) {
            deleteQuietly(d.storeId());
            deleteQuietly(d.vmgsStoreId());
            deleteQuietly(d.exportStoreId());
            deleteQuietly(d.securityDataStoreId());
        }
    }

    // ---- disk restore points ----

    @Override
    public ObjectNode getDiskRestorePoint(Principal caller, String subscriptionId, String resourceGroup,
                                          String collection, String restorePoint, String name) {
        ResourceId id = diskPointId(subscriptionId, resourceGroup, collection, restorePoint, name);
        access.require(caller, id.toString(), DISK_RESTORE_POINT_TYPE + "/read", false);
        return render(requireDiskPoint(id));
    }

    @Override
    public List<ObjectNode> listDiskRestorePoints(Principal caller, String subscriptionId, String resourceGroup,
                                                  String collection, String restorePoint) {
        ResourceId pointId = collectionId(subscriptionId, resourceGroup, collection).child("restorePoints",
                checkName(restorePoint));
        access.require(caller, pointId.toString(), RESTORE_POINT_TYPE + "/read", false);
        findPoint(pointId.toString()).orElseThrow(() -> notFound(RESTORE_POINT_TYPE, pointId));
        return diskPoints(key(pointId.toString())).stream().map(this::render).toList();
    }

    @Override
    public Disks.Grant grantAccess(Principal caller, String subscriptionId, String resourceGroup, String collection,
                                   String restorePoint, String name, String level, long durationSeconds,
                                   boolean secureVmGuestState) {
        if (!"Read".equalsIgnoreCase(level)) {
            throw ArmException.badRequest("InvalidParameter", "A disk restore point grants 'access' Read only; got '"
                    + level + "'.");
        }
        if (durationSeconds <= 0) {
            throw ArmException.badRequest("InvalidParameter", "'durationInSeconds' must be a positive number of"
                    + " seconds; got " + durationSeconds + ".");
        }
        ResourceId id = diskPointId(subscriptionId, resourceGroup, collection, restorePoint, name);
        access.require(caller, id.toString(), DISK_RESTORE_POINT_TYPE + "/beginGetAccess/action", false);
        DiskPoint point = requireDiskPoint(id);
        if (secureVmGuestState && point.vmgsStoreId() == null) {
            throw ArmException.badRequest("InvalidParameter", "getSecureVMGuestStateSAS applies to the OS disk "
                    + "restore point of a confidential VM, which holds its VM guest state; " + point.resourceId()
                    + " has none. Grant access without it.");
        }
        byte[] token = new byte[32];
        random.nextBytes(token);
        String tokenText = Json.b64url(token);
        // read through copies: a snapshot is never opened as a device
        String export = store.copy(point.storeId(), encryption.ring(point.encryption()));
        String securityData = null;
        try {
            securityData = secureVmGuestState ? store.copy(point.vmgsStoreId(), encryption.ring(point.encryption()))
                    : null;
            String security = securityData;
            metadata.inTransaction(h -> h.createUpdate("UPDATE compute_disk_restore_points SET access_sha256 = :sha,"
                            + " access_expires = :exp, export_store_id = :export, security_data_store_id = :security"
                            + " WHERE id_lower = :id")
                    .bind("sha", JdbcDisks.sha256(tokenText))
                    .bind("exp", clock.now().getEpochSecond() + durationSeconds)
                    .bind("export", export).bind("security", security).bind("id", key(id.toString())).execute());
        } catch (RuntimeException e) {
            deleteQuietly(export);
            deleteQuietly(securityData);
            throw e;
        }
        deleteQuietly(point.exportStoreId());
        deleteQuietly(point.securityDataStoreId());
        return new Disks.Grant(point.storeId(), tokenText, securityData);
    }

    @Override
    public void revokeAccess(Principal caller, String subscriptionId, String resourceGroup, String collection,
                             String restorePoint, String name) {
        ResourceId id = diskPointId(subscriptionId, resourceGroup, collection, restorePoint, name);
        access.require(caller, id.toString(), DISK_RESTORE_POINT_TYPE + "/endGetAccess/action", false);
        DiskPoint point = requireDiskPoint(id);
        metadata.inTransaction(h -> h.createUpdate("UPDATE compute_disk_restore_points SET access_sha256 = NULL,"
                + " access_expires = NULL, export_store_id = NULL, security_data_store_id = NULL WHERE id_lower = :id")
                .bind("id", key(id.toString())).execute());
        deleteQuietly(point.exportStoreId());
        deleteQuietly(point.securityDataStoreId());
    }

    // ---- as sources of disks, exports and the data endpoint ----

    Optional<JdbcDisks.RestoreSource> restoreSource(Principal caller, ResourceId id) {
        if (!id.type().equalsIgnoreCase(DISK_RESTORE_POINT_TYPE)) {
            return Optional.empty();
        }
        DiskPoint point = findDiskPoint(id.toString()).orElseThrow(() -> ArmException.notFound("NotFound",
                "The disk restore point " + id + " was not found: its restore point was deleted, or the id is"
                        + " wrong. List the restore point's disk restore points for valid ids."));
        access.require(caller, point.resourceId(), DISK_RESTORE_POINT_TYPE + "/read", false);
        return Optional.of(new JdbcDisks.RestoreSource(point.resourceId(), point.storeId(), point.vmgsStoreId()));
    }

    Optional<ManifestExchange.Source> exportSource(Principal caller, ResourceId id) {
        if (!id.type().equalsIgnoreCase(RESTORE_POINT_TYPE)) {
            return Optional.empty();
        }
        access.require(caller, id.toString(), RESTORE_POINT_TYPE + "/read", false);
        Point point = findPoint(id.toString()).filter(p -> p.state().equals(SUCCEEDED))
                .orElseThrow(() -> notFound(RESTORE_POINT_TYPE, id));
        Collection collection = findCollection(ResourceId.parse(point.resourceId()).parent().orElseThrow().toString())
                .orElseThrow();
        List<ManifestExchange.SourceDisk> disks = new ArrayList<>();
        for (DiskPoint d : diskPoints(key(point.resourceId()))) {
            disks.add(new ManifestExchange.SourceDisk(d.resourceId(), d.role(), d.lun(), d.storeId()));
            if (d.vmgsStoreId() != null) {
                disks.add(new ManifestExchange.SourceDisk(d.resourceId(), RestorePointExports.ROLE_VMGS, null,
                        d.vmgsStoreId()));
            }
        }
        return Optional.of(new ManifestExchange.Source(point.resourceId(), collection.location(),
                point.resourceId(), disks));
    }

    /** The store a valid token reads: the export of the frozen disk, or the copy of its guest state. */
    Optional<String> dataGrant(String dataId, String token) {
        byte[] presented = JdbcDisks.sha256(token);
        // two lookups, each by an indexed column: the common one first
        return metadata.withHandle(h -> diskPointBy(h, "store_id", dataId)
                        .or(() -> diskPointBy(h, "security_data_store_id", dataId)))
                .filter(d -> d.accessSha256() != null && MessageDigest.isEqual(d.accessSha256(), presented)
                        && d.accessExpires() > clock.now().getEpochSecond())
                .map(d -> dataId.equals(d.securityDataStoreId()) ? dataId : d.exportStoreId());
    }

    private static Optional<DiskPoint> diskPointBy(Handle h, String column, String storeId) {
        return h.createQuery("SELECT * FROM compute_disk_restore_points WHERE " + column + " = :s")
                .bind("s", storeId).map((rs, ctx) -> diskPoint(rs)).findOne();
    }

    // ---- rendering ----

    private ObjectNode render(Collection c, boolean expandRestorePoints) {
        ResourceId id = ResourceId.parse(c.resourceId());
        ObjectNode out = Json.object().put("id", c.resourceId()).put("name", id.name()).put("type", COLLECTION_TYPE)
                .put("location", c.location());
        if (c.tagsJson() != null) {
            out.set("tags", Json.parse(c.tagsJson()));
        }
        ObjectNode p = out.putObject("properties");
        p.putObject("source").put("id", c.sourceId()).put("location", c.location());
        p.put("restorePointCollectionId", c.uid());
        p.put("provisioningState", SUCCEEDED);
        if (expandRestorePoints) {
            ArrayNode points = p.putArray("restorePoints");
            points(key(c.resourceId())).forEach(point -> points.add(render(point, false)));
        }
        return out;
    }

    private ObjectNode render(Point point, boolean instanceView) {
        ResourceId id = ResourceId.parse(point.resourceId());
        ObjectNode out = Json.object().put("id", point.resourceId()).put("name", id.name())
                .put("type", RESTORE_POINT_TYPE);
        ObjectNode p = out.putObject("properties");
        p.set("excludeDisks", point.document().path("excludeDisks").deepCopy());
        p.put("consistencyMode", point.consistencyMode());
        if (point.document().has("sourceMetadata")) {
            p.set("sourceMetadata", point.document().get("sourceMetadata").deepCopy());
        }
        if (point.timeCreated() != null) {
            p.put("timeCreated", Instant.ofEpochSecond(point.timeCreated()).toString());
        }
        p.put("provisioningState", point.state());
        if (instanceView) {
            ObjectNode view = p.putObject("instanceView");
            ArrayNode disks = view.putArray("diskRestorePoints");
            for (DiskPoint d : diskPoints(key(point.resourceId()))) {
                ObjectNode disk = disks.addObject().put("id", d.resourceId())
                        .put("snapshotAccessState", "Available");
                disk.putObject("replicationStatus").put("completionPercent", 100).putObject("status")
                        .put("code", "ReplicationState/succeeded").put("level", "Info")
                        .put("displayStatus", "Succeeded");
            }
            String state = point.state().toLowerCase(Locale.ROOT);
            view.putArray("statuses").addObject().put("code", "ProvisioningState/" + state).put("level", "Info")
                    .put("displayStatus", point.state().equals(SUCCEEDED) ? "Provisioning succeeded"
                            : "Creating");
        }
        return out;
    }

    private ObjectNode render(DiskPoint d) {
        ResourceId id = ResourceId.parse(d.resourceId());
        ObjectNode out = Json.object().put("id", d.resourceId()).put("name", id.name())
                .put("type", DISK_RESTORE_POINT_TYPE);
        ObjectNode p = out.putObject("properties");
        Point point = findPoint(id.parent().orElseThrow().toString()).orElseThrow();
        if (point.timeCreated() != null) {
            p.put("timeCreated", Instant.ofEpochSecond(point.timeCreated()).toString());
        }
        p.put("sourceResourceId", d.sourceDiskId());
        long size = store.info(d.storeId()).sizeBytes();
        p.put("diskSizeGB", (size + (1L << 30) - 1) >> 30);
        p.put("sourceUniqueId", d.storeId());
        p.set("encryption", encryptionJson(d));
        if (d.securityType() != null) {
            ObjectNode security = p.putObject("securityProfile").put("securityType", d.securityType());
            if (d.securityType().endsWith("CustomerKey")) {
                security.put("secureVMDiskEncryptionSetId", d.desId());
            }
        }
        p.put("supportsHibernation", false);
        p.put("diskRestorePointState", d.exportStoreId() == null ? "Available" : "ActiveSAS");
        return out;
    }

    // ---- storage ----

    private void insert(Handle h, DiskPoint d) {
        h.createUpdate("INSERT INTO compute_disk_restore_points (id_lower, resource_id, restore_point_lower, position,"
                        + " role, lun, source_disk_id, store_id, vmgs_store_id, encryption_type, des_id, security_type,"
                        + " location) VALUES (:idl, :id, :rp, :pos, :role, :lun, :src, :store, :vmgs, :enc, :des,"
                        + " :sec, :loc)")
                .bind("idl", key(d.resourceId())).bind("id", d.resourceId()).bind("rp", d.restorePointKey())
                .bind("pos", d.position()).bind("role", d.role()).bind("lun", d.lun())
                .bind("src", d.sourceDiskId()).bind("store", d.storeId()).bind("vmgs", d.vmgsStoreId())
                .bind("enc", d.encryptionType()).bind("des", d.desId()).bind("sec", d.securityType())
                .bind("loc", d.location()).execute();
    }

    private void deleteRow(Point point) {
        metadata.inTransaction(h -> h.createUpdate("DELETE FROM compute_restore_points WHERE id_lower = :id")
                .bind("id", key(point.resourceId())).execute());
    }

    private void deleteQuietly(String storeId) {
        if (storeId == null) {
            return;
        }
        try {
            store.delete(storeId);
        } catch (ArmException e) {
            // already gone: nothing left to release
        }
    }

    private Optional<Collection> findCollection(String id) {
        return metadata.withHandle(h -> h.createQuery("SELECT * FROM compute_restore_point_collections"
                + " WHERE id_lower = :id").bind("id", key(id)).map((rs, ctx) -> collection(rs)).findOne());
    }

    private Collection requireCollection(ResourceId id) {
        return findCollection(id.toString()).orElseThrow(() -> notFound(COLLECTION_TYPE, id));
    }

    private Optional<Point> findPoint(String id) {
        return metadata.withHandle(h -> h.createQuery("SELECT * FROM compute_restore_points WHERE id_lower = :id")
                .bind("id", key(id)).map((rs, ctx) -> point(rs)).findOne());
    }

    private List<Point> points(String collectionKey) {
        return metadata.withHandle(h -> h.createQuery("SELECT * FROM compute_restore_points"
                        + " WHERE collection_lower = :c ORDER BY created_at, id_lower").bind("c", collectionKey)
                .map((rs, ctx) -> point(rs)).list());
    }

    private Optional<DiskPoint> findDiskPoint(String id) {
        return metadata.withHandle(h -> h.createQuery("SELECT * FROM compute_disk_restore_points WHERE id_lower = :id")
                .bind("id", key(id)).map((rs, ctx) -> diskPoint(rs)).findOne());
    }

    private DiskPoint requireDiskPoint(ResourceId id) {
        return findDiskPoint(id.toString()).orElseThrow(() -> notFound(DISK_RESTORE_POINT_TYPE, id));
    }

    private List<DiskPoint> diskPoints(String restorePointKey) {
        return metadata.withHandle(h -> h.createQuery("SELECT * FROM compute_disk_restore_points"
                        + " WHERE restore_point_lower = :rp ORDER BY position").bind("rp", restorePointKey)
                .map((rs, ctx) -> diskPoint(rs)).list());
    }

    private static Collection collection(ResultSet rs) throws SQLException {
        return new Collection(rs.getString("resource_id"), rs.getString("location"), rs.getString("source_id"),
                rs.getString("collection_uid"), rs.getString("tags"));
    }

    private static Point point(ResultSet rs) throws SQLException {
        long created = rs.getLong("time_created");
        Long timeCreated = rs.wasNull() ? null : created;
        return new Point(rs.getString("resource_id"), rs.getString("collection_lower"), rs.getString("state"),
                rs.getString("consistency_mode"), (ObjectNode) Json.parse(rs.getString("document")), timeCreated);
    }

    private static DiskPoint diskPoint(ResultSet rs) throws SQLException {
        int lun = rs.getInt("lun");
        Integer lunOrNull = rs.wasNull() ? null : lun;
        long expires = rs.getLong("access_expires");
        Long accessExpires = rs.wasNull() ? null : expires;
        return new DiskPoint(rs.getString("resource_id"), rs.getString("restore_point_lower"), rs.getInt("position"),
                rs.getString("role"), lunOrNull, rs.getString("source_disk_id"), rs.getString("store_id"),
                rs.getString("vmgs_store_id"), rs.getString("encryption_type"), rs.getString("des_id"),
                rs.getString("security_type"), rs.getString("location"), rs.getBytes("access_sha256"),
                accessExpires, rs.getString("export_store_id"), rs.getString("security_data_store_id"));
    }

    // ---- ids and errors ----

    private static ResourceId collectionId(String subscriptionId, String resourceGroup, String name) {
        return ResourceId.resourceGroup(subscriptionId, resourceGroup).resource(NAMESPACE, "restorePointCollections",
                checkName(name));
    }

    private static ResourceId diskPointId(String subscriptionId, String resourceGroup, String collection,
                                          String restorePoint, String name) {
        return collectionId(subscriptionId, resourceGroup, collection).child("restorePoints", checkName(restorePoint))
                .child("diskRestorePoints", checkName(name));
    }

    private static String checkName(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw ArmException.badRequest("InvalidResourceName", "The resource name '" + name + "' is invalid: use"
                    + " 1 to 80 letters, digits, '_', '.' or '-', starting with a letter, digit or '_'.");
        }
        return name;
    }

    private static ArmException notFound(String type, ResourceId id) {
        return ArmException.notFound("ResourceNotFound", "The Resource '" + type + "/" + id.name() + "' under"
                + " resource group '" + id.resourceGroup() + "' was not found.");
    }

    private static ArmException vmNotFound(String vmId) {
        return ArmException.notFound("ResourceNotFound", "The source virtual machine " + vmId + " was not found."
                + " A restore point collection takes restore points of an existing VM.");
    }
}
