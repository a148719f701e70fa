package io.coffre.compute;

import static io.coffre.arm.ResourceId.key;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.arm.ArmException;
import io.coffre.arm.Locations;
import io.coffre.arm.ResourceId;
import io.coffre.arm.ResourceIndex;
import io.coffre.compute.disk.BlockDevice;
import io.coffre.compute.disk.DiskSource;
import io.coffre.compute.disk.DiskStore;
import io.coffre.identity.AccessControl;
import io.coffre.identity.Principal;
import io.coffre.json.Json;
import io.coffre.store.MetadataStore;
import io.coffre.store.StoreConflictException;
import io.coffre.time.CoffreClock;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import org.jdbi.v3.core.Handle;

/** {@link Disks} over the disk store, with the ARM resources in {@code compute_disks}. */
final class JdbcDisks implements Disks {
    static final String PLATFORM_KEY = "EncryptionAtRestWithPlatformKey";
    private static final String NAMESPACE = "Microsoft.Compute";
    private static final long GIB = 1L << 30;
    private static final int MAX_DISK_SIZE_GB = 32767;
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,79}");
    private static final Set<String> ENCRYPTION_TYPES = Set.of(PLATFORM_KEY, "EncryptionAtRestWithCustomerKey",
            "EncryptionAtRestWithPlatformAndCustomerKeys", "ConfidentialVmEncryptedWithCustomerKey");
    private static final String CONFIDENTIAL_CMK = "ConfidentialVM_DiskEncryptedWithCustomerKey";
    private static final String CONFIDENTIAL_DES_TYPE = "ConfidentialVmEncryptedWithCustomerKey";
    private static final Set<String> SECURITY_TYPES = Set.of("Standard", "TrustedLaunch",
            "ConfidentialVM_VMGuestStateOnlyEncryptedWithPlatformKey", "ConfidentialVM_DiskEncryptedWithPlatformKey",
            "ConfidentialVM_DiskEncryptedWithCustomerKey", "ConfidentialVM_NonPersistedTPM");

    /** Azure's diskState values this provider uses; Attached is set by virtual machines. */
    static final String UNATTACHED = "Unattached";
    static final String ATTACHED = "Attached";
    static final String READY_TO_UPLOAD = "ReadyToUpload";
    static final String ACTIVE_UPLOAD = "ActiveUpload";
    static final String ACTIVE_SAS = "ActiveSAS";

    private static final String READ = "Read";
    private static final String UPLOAD_PREPARED_SECURE = "UploadPreparedSecure";
    private static final String WRITE = "Write";

    /** @param newGuestState a VMGS restored with the disk, to hand to the VM layer once the disk exists; else null */
    private record Row(String resourceId, Kind kind, String storeId, String location, String diskState,
                       String encryptionType, String desId, ObjectNode document, String accessLevel,
                       byte[] accessSha256, Long accessExpires, String exportStoreId, String securityDataStoreId,
                       String newGuestState) {
        EncryptionKeys.Setting encryption() {
            return new EncryptionKeys.Setting(encryptionType, desId, location);
        }

        /** The disk store id that data requests read and write. */
        String dataStoreId() {
            return exportStoreId != null ? exportStoreId : storeId;
        }
    }

    private final MetadataStore metadata;
    private final DiskStore store;
    private final DiskEncryptionSets encryptionSets;
    private final EncryptionKeys encryption;
    private final ResourceIndex index;
    private final AccessControl access;
    private final CoffreClock clock;
    private final SecureRandom random = new SecureRandom();
    private final List<java.util.function.Consumer<String>> deleteListeners =
            new java.util.concurrent.CopyOnWriteArrayList<>();

    JdbcDisks(MetadataStore metadata, DiskStore store, DiskEncryptionSets encryptionSets, ResourceIndex index,
              AccessControl access, CoffreClock clock) {
        this.metadata = metadata;
        this.store = store;
        this.encryptionSets = encryptionSets;
        this.encryption = encryptionSets.encryptionKeys();
        this.index = index;
        this.access = access;
        this.clock = clock;
    }

    @Override
    public Put put(Principal caller, Kind kind, String subscriptionId, String resourceGroup, String name,
                   JsonNode body) {
        ResourceId id = resourceId(kind, subscriptionId, resourceGroup, name);
        access.require(caller, id.toString(), kind.resourceType() + "/write", false);
        if (!body.isObject()) {
            throw ArmException.badRequest("InvalidRequestContent", "The request body must be a JSON object.");
        }
        String location = Locations.normalize(body.path("location").asText(null));
        Optional<Row> existing = find(id.toString());
        if (existing.isPresent()) {
            return new Put(update(existing.get(), body), false);
        }
        JsonNode properties = body.path("properties");
        JsonNode creation = properties.path("creationData");
        String option = creation.path("createOption").asText("");
        checkSecurityProfile(properties.path("securityProfile"));
        ObjectNode document = Json.object();
        document.set("properties", properties.deepCopy());
        // read-only in Azure and always there (the SDK models parse it as a date); kept as the creation time
        if (document.get("properties") instanceof ObjectNode p) {
            p.put("timeCreated", clock.now().toString());
        }
        copyIfPresent(body, document, "sku", "tags", "zones", "extendedLocation");
        Row row = kind == Kind.SNAPSHOT
                ? snapshot(caller, id, location, option, creation, properties, document)
                : disk(caller, id, location, option, creation, properties, document);
        try {
            metadata.inTransaction(h -> {
                insert(h, row, subscriptionId, resourceGroup);
                index.put(id.toString(), kind.resourceType(), location, tagsJson(document));
                if (row.desId() != null) {
                    encryptionSets.associate(row.desId(), row.resourceId());
                    if (kind == Kind.SNAPSHOT) {
                        // the snapshot keeps its own copy of the wrapped DES key, as restore points do
                        encryptionSets.copyWrappedKey(row.desId(), row.resourceId());
                    }
                }
                return null;
            });
        } catch (StoreConflictException e) {
            // a concurrent PUT created it first: this one updates it, as it would have had it come second
            discard(row);
            return new Put(update(find(id.toString()).orElseThrow(() -> e), body), false);
        } catch (RuntimeException e) {
            discard(row);
            throw e;
        }
        if (row.newGuestState() != null) {
            guestStates.set(row.resourceId(), row.newGuestState());
        }
        return new Put(render(row), true);
    }

    private void discard(Row row) {
        store.delete(row.storeId());
        if (row.newGuestState() != null) {
            store.delete(row.newGuestState());
        }
    }

    private Row disk(Principal caller, ResourceId id, String location, String option, JsonNode creation,
                     JsonNode properties, ObjectNode document) {
        EncryptionKeys.Setting atRest = encryptionOf(properties.path("encryption"), location);
        ((ObjectNode) document.path("properties")).set("encryption", render(atRest));
        EncryptionKeys.Setting setting = confidentialSetting(properties.path("securityProfile"), location)
                .orElse(atRest);
        encryption.check(caller, setting);
        String state = UNATTACHED;
        long size;
        DiskSource source;
        String guestState = null;
        switch (option) {
            case "Empty" -> {
                size = sizeGb(properties, true) * GIB;
                source = DiskSource.empty();
            }
            case "Upload", UPLOAD_PREPARED_SECURE -> {
                size = uploadSize(creation);
                source = DiskSource.empty();
                state = READY_TO_UPLOAD;
            }
            case "Copy", "Restore" -> {
                Optional<RestoreSource> restorePoint = option.equals("Restore") ? restoreSource(caller, creation)
                        : Optional.empty();
                String fromStore = restorePoint.map(RestoreSource::storeId)
                        .orElseGet(() -> source(caller, creation, option.equals("Restore")).storeId());
                long asked = sizeGb(properties, false) * GIB;
                size = Math.max(asked, store.info(fromStore).sizeBytes());
                source = DiskSource.copyOf(fromStore);
                guestState = restorePoint.map(RestoreSource::vmgsStoreId).orElse(null);
            }
            default -> throw unsupportedOption(option, "Empty, Copy, Restore, Upload or UploadPreparedSecure");
        }
        boolean secureUpload = option.equals(UPLOAD_PREPARED_SECURE);
        if (secureUpload) {
            requireGuestStateType(properties.path("securityProfile"));
        }
        String storeId = store.create(size, source, encryption.ring(setting));
        // a secure upload's guest state is written through its securityDataAccessSAS, under the disk's keys
        String guestStateCopy = secureUpload
                ? store.create(GUEST_STATE_BYTES, DiskSource.empty(), encryption.ring(setting))
                : guestState == null ? null : store.copy(guestState, encryption.ring(setting));
        return new Row(id.toString(), Kind.DISK, storeId, location, state, setting.type(),
                setting.diskEncryptionSetId(), document, null, null, null, null, null, guestStateCopy);
    }

    /** A snapshot freezes a disk's map and keeps the disk's encryption: its blocks stay under the disk's keys. */
    private Row snapshot(Principal caller, ResourceId id, String location, String option, JsonNode creation,
                         JsonNode properties, ObjectNode document) {
        if (!option.equals("Copy") && !option.equals("CopyStart")) {
            throw unsupportedOption(option, "Copy (of a disk)");
        }
        Row from = source(caller, creation, false);
        if (from.kind() != Kind.DISK) {
            throw ArmException.badRequest("InvalidParameter", "The snapshot source " + from.resourceId()
                    + " is a snapshot; take snapshots of disks, or create a disk from this snapshot first.");
        }
        JsonNode sourceEncryption = from.document().path("properties").path("encryption");
        JsonNode asked = properties.path("encryption");
        if (asked.isObject() && !render(encryptionOf(asked, location)).equals(sourceEncryption)) {
            throw ArmException.badRequest("InvalidParameter", "A snapshot keeps the encryption of its source disk "
                    + from.resourceId() + " (" + sourceEncryption + "); omit 'encryption' or give the same.");
        }
        ((ObjectNode) document.path("properties")).set("encryption", sourceEncryption.deepCopy());
        ((ObjectNode) document.path("properties")).put("incremental", properties.path("incremental").asBoolean(false));
        String storeId = store.snapshot(from.storeId());
        return new Row(id.toString(), Kind.SNAPSHOT, storeId, location, UNATTACHED, from.encryptionType(),
                from.desId(), document, null, null, null, null, null, null);
    }

    private Row source(Principal caller, JsonNode creation, boolean snapshotOnly) {
        String sourceId = creation.path("sourceResourceId").asText("");
        if (sourceId.isEmpty()) {
            throw ArmException.badRequest("InvalidParameter", "creationData.sourceResourceId is required: the id of "
                    + "the disk or snapshot to copy.");
        }
        ResourceId parsed = ResourceId.parse(sourceId);
        Row from = find(parsed.toString()).orElseThrow(() -> ArmException.notFound("NotFound",
                "The source resource " + sourceId + " was not found."));
        access.require(caller, from.resourceId(), from.kind().resourceType() + "/read", false);
        if (snapshotOnly && from.kind() != Kind.SNAPSHOT) {
            throw ArmException.badRequest("InvalidParameter", "createOption Restore takes a snapshot or a disk"
                    + " restore point as sourceResourceId; to copy a disk use createOption Copy.");
        }
        if (from.diskState().equals(READY_TO_UPLOAD) || from.diskState().equals(ACTIVE_UPLOAD)) {
            throw ArmException.conflict("OperationNotAllowed", "The source disk " + from.resourceId() + " is in state "
                    + from.diskState() + "; finish its upload with endGetAccess before copying it.");
        }
        return from;
    }

    // ---- restore points as sources (set by RestorePoints.open) ----

    /** A disk restore point as the source of createOption Restore. */
    record RestoreSource(String resourceId, String storeId, String vmgsStoreId) {
    }

    interface RestoreSources {
        /** The disk restore point {@code id} names (the caller may read it), or empty when {@code id} is no DRP id. */
        Optional<RestoreSource> find(Principal caller, ResourceId id);
    }

    interface DataGrants {
        /** The store id a valid read token for {@code dataId} reads, or empty when the grant is not theirs. */
        Optional<String> readableStore(String dataId, String token);
    }

    private volatile RestoreSources restoreSources = (caller, id) -> Optional.empty();
    private volatile DataGrants dataGrants = (dataId, token) -> Optional.empty();
    /** The VM layer's guest states, kept per OS disk. */
    interface GuestStates {
        /** Makes {@code vmgsStoreId} the guest state of the OS disk {@code osDiskResourceId}. */
        void set(String osDiskResourceId, String vmgsStoreId);

        /** The guest state store of an OS disk, or empty when it has none. */
        Optional<String> of(String osDiskResourceId);
    }

    private volatile GuestStates guestStates = new GuestStates() {
        @Override
        public void set(String osDiskResourceId, String vmgsStoreId) {
            throw new IllegalStateException("no virtual-machine layer to take the guest state of " + osDiskResourceId);
        }

        @Override
        public Optional<String> of(String osDiskResourceId) {
            return Optional.empty();
        }
    };

    void useRestorePoints(RestoreSources sources, DataGrants grants, GuestStates guestStates) {
        this.restoreSources = sources;
        this.dataGrants = grants;
        this.guestStates = guestStates;
    }

    private Optional<RestoreSource> restoreSource(Principal caller, JsonNode creation) {
        String sourceId = creation.path("sourceResourceId").asText("");
        return sourceId.isEmpty() ? Optional.empty() : restoreSources.find(caller, ResourceId.parse(sourceId));
    }

    // ---- for RestorePointExports ----

    /** A snapshot as an export source: one disk, its role from its OS type. */
    Optional<ManifestExchange.Source> exportSource(Principal caller, ResourceId id) {
        if (!id.type().equalsIgnoreCase(Kind.SNAPSHOT.resourceType())) {
            return Optional.empty();
        }
        Row row = find(id.toString()).orElseThrow(() -> notFound(Kind.SNAPSHOT, id));
        access.require(caller, row.resourceId(), Kind.SNAPSHOT.resourceType() + "/read", false);
        boolean os = row.document().path("properties").hasNonNull("osType");
        return Optional.of(new ManifestExchange.Source(row.resourceId(), row.location(), row.resourceId(),
                List.of(new ManifestExchange.SourceDisk(row.resourceId(), os ? RestorePointExports.ROLE_OS
                        : RestorePointExports.ROLE_DATA, null, row.storeId()))));
    }

    /** Checks a restored disk may be created under this name: the caller may write it and it does not exist yet. */
    ResourceId newRestoredDisk(Principal caller, String subscriptionId, String resourceGroup, String name) {
        ResourceId id = resourceId(Kind.DISK, subscriptionId, resourceGroup, name);
        access.require(caller, id.toString(), Kind.DISK.resourceType() + "/write", false);
        if (find(id.toString()).isPresent()) {
            throw ArmException.conflict("DiskAlreadyExists", "The disk " + id + " already exists; restore into new"
                    + " disk names, or delete it first.");
        }
        return id;
    }

    /** Records a disk whose blocks were imported into {@code storeId}, in the caller's transaction. */
    void insertRestored(Handle h, ResourceId id, String storeId, EncryptionKeys.Setting setting, String sourceId) {
        ObjectNode document = Json.object();
        ObjectNode properties = document.putObject("properties");
        ObjectNode creation = properties.putObject("creationData").put("createOption", "Restore");
        if (sourceId != null) {
            creation.put("sourceResourceId", sourceId);
        }
        if (setting.type().equals(CONFIDENTIAL_DES_TYPE)) {
            properties.putObject("securityProfile").put("securityType", CONFIDENTIAL_CMK)
                    .put("secureVMDiskEncryptionSetId", setting.diskEncryptionSetId());
        } else {
            properties.set("encryption", render(setting));
        }
        Row row = new Row(id.toString(), Kind.DISK, storeId, setting.region(), UNATTACHED, setting.type(),
                setting.diskEncryptionSetId(), document, null, null, null, null, null, null);
        insert(h, row, id.subscriptionId(), id.resourceGroup());
        index.put(id.toString(), Kind.DISK.resourceType(), row.location(), null);
        if (row.desId() != null) {
            encryptionSets.associate(row.desId(), row.resourceId());
        }
    }

    ObjectNode render(ResourceId id) {
        return render(find(id.toString()).orElseThrow(() -> notFound(Kind.DISK, id)));
    }

    private ObjectNode update(Row row, JsonNode body) {
        String option = body.path("properties").path("creationData").path("createOption").asText(null);
        String current = row.document().path("properties").path("creationData").path("createOption").asText(null);
        if (option != null && !option.equals(current)) {
            throw ArmException.conflict("PropertyChangeNotAllowed", "Changing property 'creationData.createOption' "
                    + "is not allowed; delete " + row.resourceId() + " and create it again.");
        }
        JsonNode size = body.path("properties").path("diskSizeGB");
        if (!size.isMissingNode() && size.asLong() != sizeGb(store.info(row.storeId()).sizeBytes())) {
            throw ArmException.conflict("OperationNotAllowed", "Coffre does not resize disks; create a copy with the "
                    + "larger diskSizeGB (createOption Copy) instead.");
        }
        return patchTags(row, body);
    }

    @Override
    public ObjectNode get(Principal caller, Kind kind, String subscriptionId, String resourceGroup, String name) {
        return render(require(caller, kind, subscriptionId, resourceGroup, name, "/read"));
    }

    @Override
    public ObjectNode patch(Principal caller, Kind kind, String subscriptionId, String resourceGroup, String name,
                            JsonNode patch) {
        Row row = require(caller, kind, subscriptionId, resourceGroup, name, "/write");
        return update(row, patch);
    }

    private ObjectNode patchTags(Row row, JsonNode body) {
        if (!body.has("tags")) {
            return render(row);
        }
        ObjectNode document = row.document().deepCopy();
        document.set("tags", body.get("tags"));
        metadata.inTransaction(h -> {
            h.createUpdate("UPDATE compute_disks SET document = :d WHERE id_lower = :id")
                    .bind("d", Json.write(document)).bind("id", key(row.resourceId())).execute();
            index.put(row.resourceId(), row.kind().resourceType(), row.location(), tagsJson(document));
            return null;
        });
        return render(find(row.resourceId()).orElseThrow());
    }

    @Override
    public boolean delete(Principal caller, Kind kind, String subscriptionId, String resourceGroup, String name) {
        ResourceId id = resourceId(kind, subscriptionId, resourceGroup, name);
        access.require(caller, id.toString(), kind.resourceType() + "/delete", false);
        return metadata.inTransaction(h -> {
            Optional<Row> found = lock(h, id.toString());
            if (found.isEmpty()) {
                return false;
            }
            Row row = found.get();
            if (!row.diskState().equals(UNATTACHED) && !row.diskState().equals(READY_TO_UPLOAD)) {
                throw ArmException.conflict("OperationNotAllowed", "The " + kind.collection + " resource "
                        + row.resourceId() + " is in state " + row.diskState() + " and cannot be deleted; "
                        + (row.diskState().equals(ATTACHED) ? "detach it first."
                        : "revoke access (endGetAccess) first."));
            }
            h.createUpdate("DELETE FROM compute_disks WHERE id_lower = :id").bind("id", key(row.resourceId()))
                    .execute();
            index.remove(row.resourceId());
            if (row.desId() != null) {
                encryptionSets.dissociate(row.desId(), row.resourceId());
                encryptionSets.dropWrappedKeys(row.resourceId());
            }
            store.delete(row.storeId());
            if (kind == Kind.DISK) {
                deleteListeners.forEach(listener -> listener.accept(row.resourceId()));
            }
            return true;
        });
    }

    @Override
    public void onDiskDeleted(java.util.function.Consumer<String> listener) {
        deleteListeners.add(listener);
    }

    @Override
    public List<ObjectNode> list(Principal caller, Kind kind, String subscriptionId, String resourceGroupOrNull) {
        AccessControl.Grants grants = access.grantsOf(caller);
        String read = kind.resourceType() + "/read";
        return metadata.withHandle(h -> h.createQuery("SELECT * FROM compute_disks WHERE kind = :k AND "
                        + "lower(subscription_id) = :s" + (resourceGroupOrNull == null ? "" : " AND group_lower = :g")
                        + " ORDER BY id_lower")
                .bind("k", kind.name()).bind("s", subscriptionId.toLowerCase(Locale.ROOT))
                .bind("g", resourceGroupOrNull == null ? "" : resourceGroupOrNull.toLowerCase(Locale.ROOT))
                .map((rs, ctx) -> row(rs)).list())
                .stream().filter(r -> grants.allows(r.resourceId(), read, false)).map(this::render).toList();
    }

    @Override
    public Grant grantAccess(Principal caller, Kind kind, String subscriptionId, String resourceGroup, String name,
                             String level, long durationSeconds, boolean secureVmGuestState) {
        String granted = WRITE.equalsIgnoreCase(level) ? WRITE : READ.equalsIgnoreCase(level) ? READ : null;
        if (granted == null) {
            throw ArmException.badRequest("InvalidParameter", "'access' must be Read or Write; got '" + level + "'.");
        }
        if (durationSeconds <= 0) {
            throw ArmException.badRequest("InvalidParameter", "'durationInSeconds' must be a positive number of "
                    + "seconds; got " + durationSeconds + ".");
        }
        ResourceId id = resourceId(kind, subscriptionId, resourceGroup, name);
        access.require(caller, id.toString(), kind.resourceType() + "/beginGetAccess/action", false);
        byte[] token = new byte[32];
        random.nextBytes(token);
        String tokenText = Json.b64url(token);
        return metadata.inTransaction(h -> {
            Row row = lock(h, id.toString()).orElseThrow(() -> notFound(kind, id));
            boolean secureUpload = granted.equals(WRITE) && isSecureUpload(row);
            if (secureVmGuestState && granted.equals(WRITE) && !secureUpload) {
                throw ArmException.badRequest("InvalidParameter", "getSecureVMGuestStateSAS with access Write "
                        + "uploads a VM guest state, which only a disk created with createOption "
                        + UPLOAD_PREPARED_SECURE + " takes; " + row.resourceId() + " was not. Grant Write without it.");
            }
            String state = stateForGrant(row, granted);
            String guestState = secureVmGuestState || secureUpload ? requireGuestState(row) : null;
            dropExport(row);
            String export = row.kind() == Kind.SNAPSHOT ? store.copy(row.storeId(), encryption.ring(row.encryption()))
                    : null;
            // an upload writes the guest state itself; a read goes through a copy, as a snapshot's does, so the
            // guest state of an OS disk is never opened as a device here
            String securityData = guestState == null || secureUpload ? guestState
                    : store.copy(guestState, encryption.ring(row.encryption()));
            h.createUpdate("UPDATE compute_disks SET disk_state = :st, access_level = :l, access_sha256 = :sha, "
                            + "access_expires = :exp, export_store_id = :export, security_data_store_id = :security"
                            + " WHERE id_lower = :id")
                    .bind("st", state).bind("l", granted).bind("sha", sha256(tokenText)).bind("export", export)
                    .bind("security", securityData).bind("exp", clock.now().getEpochSecond() + durationSeconds)
                    .bind("id", key(row.resourceId())).execute();
            return new Grant(row.storeId(), tokenText, securityData);
        });
    }

    /** The guest state store of a confidential VM's OS disk, which getSecureVMGuestStateSAS reads. */
    private String requireGuestState(Row row) {
        Optional<String> guestState = row.kind() == Kind.DISK ? guestStates.of(row.resourceId()) : Optional.empty();
        return guestState.orElseThrow(() -> ArmException.badRequest("InvalidParameter", "getSecureVMGuestStateSAS "
                + "applies to the OS disk of a confidential VM, which holds its VM guest state; "
                + row.resourceId() + " has none. Grant access without it."));
    }

    /** Write access is direct upload (from ReadyToUpload); read access is export of an unattached disk. */
    private static String stateForGrant(Row row, String level) {
        String state = row.diskState();
        if (state.equals(ATTACHED)) {
            throw ArmException.conflict("OperationNotAllowed", "The disk " + row.resourceId() + " is attached to a "
                    + "virtual machine; detach it (or deallocate the VM) before granting access.");
        }
        if (level.equals(WRITE)) {
            if (state.equals(READY_TO_UPLOAD) || state.equals(ACTIVE_UPLOAD)) {
                return ACTIVE_UPLOAD;
            }
            throw ArmException.conflict("OperationNotAllowed", "Write access is granted only to disks created with "
                    + "createOption Upload that are ReadyToUpload; " + row.resourceId() + " is " + state + ".");
        }
        if (state.equals(READY_TO_UPLOAD) || state.equals(ACTIVE_UPLOAD)) {
            throw ArmException.conflict("OperationNotAllowed", "The disk " + row.resourceId() + " is waiting for an "
                    + "upload (" + state + "); finish it with endGetAccess before granting Read access.");
        }
        return ACTIVE_SAS;
    }

    @Override
    public void revokeAccess(Principal caller, Kind kind, String subscriptionId, String resourceGroup, String name) {
        ResourceId id = resourceId(kind, subscriptionId, resourceGroup, name);
        access.require(caller, id.toString(), kind.resourceType() + "/endGetAccess/action", false);
        metadata.inTransaction(h -> {
            Row row = lock(h, id.toString()).orElseThrow(() -> notFound(kind, id));
            String state = row.diskState().equals(ACTIVE_UPLOAD) || row.diskState().equals(ACTIVE_SAS)
                    ? UNATTACHED : row.diskState();
            dropExport(row);
            h.createUpdate("UPDATE compute_disks SET disk_state = :st, access_level = NULL, access_sha256 = NULL, "
                    + "access_expires = NULL, export_store_id = NULL, security_data_store_id = NULL"
                    + " WHERE id_lower = :id").bind("st", state)
                    .bind("id", key(row.resourceId()))
                    .execute();
            return null;
        });
    }

    /** Drops what the current grant reads through: copies, made for Read grants only. */
    private void dropExport(Row row) {
        if (row.exportStoreId() != null) {
            store.delete(row.exportStoreId());
        }
        if (row.securityDataStoreId() != null && READ.equals(row.accessLevel())) {
            store.delete(row.securityDataStoreId());
        }
    }

    private static boolean isSecureUpload(Row row) {
        return row.document().path("properties").path("creationData").path("createOption").asText("")
                .equals(UPLOAD_PREPARED_SECURE);
    }

    @Override
    public Optional<DiskFacts> facts(String diskResourceId) {
        return find(diskResourceId).filter(r -> r.kind() == Kind.DISK).map(r -> new DiskFacts(r.resourceId(),
                r.storeId(), r.location(), r.diskState(), r.encryption(),
                r.document().path("properties").path("securityProfile").path("securityType").asText(null),
                r.document().path("managedBy").asText(null)));
    }

    @Override
    public void setManagedBy(String diskResourceId, String vmResourceIdOrNull) {
        metadata.inTransaction(h -> {
            Row row = lock(h, diskResourceId).filter(r -> r.kind() == Kind.DISK).orElseThrow(() ->
                    ArmException.notFound("NotFound", "The disk " + diskResourceId + " was not found."));
            String current = row.document().path("managedBy").asText(null);
            if (vmResourceIdOrNull != null && vmResourceIdOrNull.equalsIgnoreCase(current)) {
                return null;
            }
            if (vmResourceIdOrNull != null && !row.diskState().equals(UNATTACHED)) {
                throw ArmException.conflict("OperationNotAllowed", "The disk " + row.resourceId() + " is "
                        + row.diskState() + (current == null ? "" : " (managed by " + current + ")") + "; only an "
                        + "Unattached disk can be attached to a virtual machine. Detach it or end its access first.");
            }
            ObjectNode document = row.document().deepCopy();
            if (vmResourceIdOrNull == null) {
                document.remove("managedBy");
            } else {
                document.put("managedBy", vmResourceIdOrNull);
            }
            h.createUpdate("UPDATE compute_disks SET disk_state = :st, document = :d WHERE id_lower = :id")
                    .bind("st", vmResourceIdOrNull == null ? UNATTACHED : ATTACHED).bind("d", Json.write(document))
                    .bind("id", key(row.resourceId())).execute();
            return null;
        });
    }

    @Override
    public long dataSize(String dataId, String token) {
        return store.sizeBytes(readableStoreId(dataId, token));
    }

    @Override
    public void writeData(String dataId, String token, long offset, long length, byte[] data) {
        String writable;
        try {
            writable = authorized(dataId, token, true);
        } catch (ArmException e) {
            if (token != null && dataGrants.readableStore(dataId, token).isPresent()) {
                throw readOnlyGrant(); // a restore point's grant: valid, but for reading
            }
            throw e;
        }
        try (BlockDevice device = store.open(writable)) {
            checkWrite(offset, length, data, device.size());
            // the page is acknowledged (201) only once it is durable, as a page blob's Put Page is
            if (data == null) {
                device.trim(offset, length);
                device.flush();
            } else {
                device.writeOwned(offset, data, true); // the body is not used after this
            }
        }
    }

    /** Checks a page write against the disk's size before anything of it is buffered. */
    private static void checkWrite(long offset, long length, byte[] data, long size) {
        checkRange(offset, length, size);
        if (data != null) {
            if (length > MAX_PAGE_WRITE_BYTES) {
                throw new ArmException(413, "RequestBodyTooLarge", "A page write carries at most "
                        + MAX_PAGE_WRITE_BYTES + " bytes; split the upload into ranges of 4 MiB or less.");
            }
            if (data.length != length) {
                throw ArmException.badRequest("InvalidHeaderValue", "The range names " + length + " bytes but the "
                        + "body has " + data.length + "; send exactly the bytes of the range.");
            }
        }
    }

    @Override
    public void readData(String dataId, String token, long offset, long length, OutputStream out) {
        String readable = readableStoreId(dataId, token);
        try (BlockDevice device = store.open(readable)) {
            long size = device.size();
            if (offset < 0 || length <= 0 || offset + length > size) {
                throw new ArmException(416, "InvalidRange", "The range " + offset + "-" + (offset + length - 1)
                        + " is not within the disk's " + size + " bytes.");
            }
            device.transferTo(offset, length, out);
        } catch (IOException e) {
            throw new UncheckedIOException("the client stopped reading", e);
        }
    }

    @Override
    public PageList pageList(String dataId, String token) {
        String readable = readableStoreId(dataId, token);
        long size = store.sizeBytes(readable);
        List<ByteRange> ranges = new ArrayList<>();
        for (DiskStore.StoredBlock block : store.storedBlocks(readable)) {
            long start = block.index() * DiskStore.BLOCK_BYTES;
            long end = Math.min(start + DiskStore.BLOCK_BYTES, size) - 1;
            int last = ranges.size() - 1;
            if (last >= 0 && ranges.get(last).end() + 1 == start) {
                ranges.set(last, new ByteRange(ranges.get(last).start(), end));
            } else {
                ranges.add(new ByteRange(start, end));
            }
        }
        return new PageList(size, ranges);
    }

    /** What a read token reads: a disk's or snapshot's grant, else a disk restore point's. */
    private String readableStoreId(String dataId, String token) {
        Optional<String> restorePoint = token == null ? Optional.empty() : dataGrants.readableStore(dataId, token);
        return restorePoint.orElseGet(() -> authorized(dataId, token, false));
    }

    /** Page ranges: 512-byte aligned start and length, inside the disk. */
    private static void checkRange(long offset, long length, long size) {
        if (offset < 0 || length <= 0 || offset % DiskStore.SECTOR_BYTES != 0 || length % DiskStore.SECTOR_BYTES != 0) {
            throw ArmException.badRequest("InvalidPageRange", "The page range starting at " + offset + " of " + length
                    + " bytes is not valid: start and length must be positive multiples of 512 bytes "
                    + "(x-ms-range: bytes=S-E with S % 512 == 0 and (E + 1) % 512 == 0).");
        }
        if (offset + length > size) {
            throw new ArmException(416, "InvalidRange", "The page range " + offset + "-" + (offset + length - 1)
                    + " ends past the disk's " + size + " bytes.");
        }
    }

    /**
     * The data endpoint authenticates by the grant's token alone, as a SAS does. Reads only the grant's columns:
     * every page of an upload or download passes here, and the whole row would parse the disk's JSON document each
     * time.
     *
     * @return the disk store id the grant reads (the disk, its export or its guest state copy) and writes
     */
    private String authorized(String dataId, String token, boolean write) {
        // two lookups, each by an indexed column: the common one first
        Optional<AccessGrant> found = metadata.withHandle(h -> accessGrant(h, "store_id", dataId)
                .or(() -> accessGrant(h, "security_data_store_id", dataId)));
        AccessGrant grant = found.filter(g -> g.sha256() != null && token != null && g.expires() != null
                        && MessageDigest.isEqual(g.sha256(), sha256(token))
                        && g.expires() > clock.now().getEpochSecond())
                .orElseThrow(() -> new ArmException(403, "AuthenticationFailed", "The access signature is not valid "
                        + "or has expired or been revoked; ask for a new one with beginGetAccess."));
        if (write && !WRITE.equals(grant.level())) {
            throw readOnlyGrant();
        }
        return grant.dataStoreId();
    }

    /** The grant of the disk whose {@code column} (a store id column) is {@code dataId}, with the store it reads. */
    private static Optional<AccessGrant> accessGrant(Handle h, String column, String dataId) {
        return h.createQuery("SELECT store_id, export_store_id, security_data_store_id, access_level, access_sha256,"
                        + " access_expires FROM compute_disks WHERE " + column + " = :s")
                .bind("s", dataId).map((rs, ctx) -> {
                    long expires = rs.getLong("access_expires");
                    Long accessExpires = rs.wasNull() ? null : expires;
                    String export = rs.getString("export_store_id");
                    String readable = dataId.equals(rs.getString("security_data_store_id")) ? dataId
                            : export != null ? export : rs.getString("store_id");
                    return new AccessGrant(readable, rs.getString("access_level"), rs.getBytes("access_sha256"),
                            accessExpires);
                }).findOne();
    }

    private static ArmException readOnlyGrant() {
        return new ArmException(403, "AuthorizationPermissionMismatch", "This access signature grants Read access "
                + "only; uploads need beginGetAccess with access Write on a disk created for Upload.");
    }

    private record AccessGrant(String dataStoreId, String level, byte[] sha256, Long expires) {
    }

    private Row require(Principal caller, Kind kind, String subscriptionId, String resourceGroup, String name,
                        String action) {
        ResourceId id = resourceId(kind, subscriptionId, resourceGroup, name);
        access.require(caller, id.toString(), kind.resourceType() + action, false);
        return find(id.toString()).orElseThrow(() -> notFound(kind, id));
    }

    private static ResourceId resourceId(Kind kind, String subscriptionId, String resourceGroup, String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw ArmException.badRequest("InvalidResourceName", "The resource name '" + name + "' is invalid: use "
                    + "1 to 80 letters, digits, '_', '.' or '-', starting with a letter, digit or '_'.");
        }
        return ResourceId.resourceGroup(subscriptionId, resourceGroup).resource(NAMESPACE, kind.collection, name);
    }

    private static ArmException notFound(Kind kind, ResourceId id) {
        return ArmException.notFound("ResourceNotFound", "The Resource '" + kind.resourceType() + "/" + id.name()
                + "' under resource group '" + id.resourceGroup() + "' was not found.");
    }

    private static ArmException unsupportedOption(String option, String supported) {
        return ArmException.badRequest("InvalidParameter", "creationData.createOption '" + option + "' is not "
                + "supported here; use " + supported + ".");
    }

    private static EncryptionKeys.Setting encryptionOf(JsonNode encryptionNode, String location) {
        String type = encryptionNode.path("type").asText(PLATFORM_KEY);
        if (!ENCRYPTION_TYPES.contains(type)) {
            throw ArmException.badRequest("InvalidParameter", "encryption.type '" + type + "' is not valid; use one "
                    + "of " + String.join(", ", ENCRYPTION_TYPES.stream().sorted().toList()) + ".");
        }
        String des = encryptionNode.path("diskEncryptionSetId").asText(null);
        if (type.equals(PLATFORM_KEY) && des != null) {
            throw ArmException.badRequest("InvalidParameter", "encryption.diskEncryptionSetId is set but the type is "
                    + PLATFORM_KEY + "; use EncryptionAtRestWithCustomerKey with a Disk Encryption Set.");
        }
        if (!type.equals(PLATFORM_KEY) && des == null) {
            throw ArmException.badRequest("InvalidParameter", "encryption.type " + type + " needs "
                    + "encryption.diskEncryptionSetId, the id of a Disk Encryption Set.");
        }
        return new EncryptionKeys.Setting(type, des == null ? null : ResourceId.parse(des).toString(), location);
    }

    /**
     * A confidential disk with customer keys is encrypted under its secure DES ({@code
     * securityProfile.secureVMDiskEncryptionSetId}), whatever its at-rest {@code encryption} says.
     */
    private static Optional<EncryptionKeys.Setting> confidentialSetting(JsonNode profile, String location) {
        if (!CONFIDENTIAL_CMK.equals(profile.path("securityType").asText(null))) {
            return Optional.empty();
        }
        String des = profile.path("secureVMDiskEncryptionSetId").asText(null);
        if (des == null) {
            throw ArmException.badRequest("InvalidParameter", "securityProfile.securityType " + CONFIDENTIAL_CMK
                    + " needs securityProfile.secureVMDiskEncryptionSetId, the id of a Disk Encryption Set of type "
                    + CONFIDENTIAL_DES_TYPE + ".");
        }
        return Optional.of(new EncryptionKeys.Setting(CONFIDENTIAL_DES_TYPE, ResourceId.parse(des).toString(),
                location));
    }

    private static ObjectNode render(EncryptionKeys.Setting setting) {
        ObjectNode node = Json.object();
        node.put("type", setting.type());
        if (setting.diskEncryptionSetId() != null) {
            node.put("diskEncryptionSetId", setting.diskEncryptionSetId());
        }
        return node;
    }

    /** UploadPreparedSecure uploads an OS disk with its VM guest state: a security type that persists one. */
    private static void requireGuestStateType(JsonNode profile) {
        String type = profile.path("securityType").asText("");
        boolean persisted = type.equals("TrustedLaunch")
                || type.startsWith("ConfidentialVM_") && !type.equals("ConfidentialVM_NonPersistedTPM");
        if (!persisted) {
            throw ArmException.badRequest("InvalidParameter", "createOption " + UPLOAD_PREPARED_SECURE + " uploads an"
                    + " OS disk with its VM guest state: set securityProfile.securityType to "
                    + "ConfidentialVM_DiskEncryptedWithPlatformKey, ConfidentialVM_DiskEncryptedWithCustomerKey, "
                    + "ConfidentialVM_VMGuestStateOnlyEncryptedWithPlatformKey or TrustedLaunch (got "
                    + (type.isEmpty() ? "none" : type) + "), or use createOption Upload.");
        }
    }

    private static void checkSecurityProfile(JsonNode profile) {
        String type = profile.path("securityType").asText(null);
        if (type != null && !SECURITY_TYPES.contains(type)) {
            throw ArmException.badRequest("InvalidParameter", "securityProfile.securityType '" + type + "' is not "
                    + "valid; use one of " + String.join(", ", SECURITY_TYPES.stream().sorted().toList()) + ".");
        }
    }

    private static long sizeGb(JsonNode properties, boolean required) {
        JsonNode size = properties.path("diskSizeGB");
        if (size.isMissingNode() || size.isNull()) {
            if (required) {
                throw ArmException.badRequest("InvalidParameter", "diskSizeGB is required for createOption Empty.");
            }
            return 0;
        }
        if (!size.canConvertToLong() || size.asLong() < 1 || size.asLong() > MAX_DISK_SIZE_GB) {
            throw ArmException.badRequest("InvalidParameter", "diskSizeGB must be a whole number from 1 to "
                    + MAX_DISK_SIZE_GB + "; got " + size + ".");
        }
        return size.asLong();
    }

    /** As Azure: the size of the image to upload (a fixed VHD including its 512-byte footer), 512-byte aligned. */
    private static long uploadSize(JsonNode creation) {
        JsonNode size = creation.path("uploadSizeBytes");
        if (!size.canConvertToLong() || size.asLong() <= 0 || size.asLong() % DiskStore.SECTOR_BYTES != 0
                || size.asLong() > MAX_DISK_SIZE_GB * GIB + DiskStore.SECTOR_BYTES) {
            throw ArmException.badRequest("InvalidParameter", "creationData.uploadSizeBytes must be a positive "
                    + "multiple of 512 (the image size including its 512-byte VHD footer); got " + size + ".");
        }
        return size.asLong();
    }

    /** Whole GiB, rounded up: an upload disk's size is its image's, footer included. */
    private static long sizeGb(long sizeBytes) {
        return (sizeBytes + GIB - 1) / GIB;
    }

    private ObjectNode render(Row row) {
        ResourceId id = ResourceId.parse(row.resourceId());
        ObjectNode out = Json.object();
        out.put("id", row.resourceId());
        out.put("name", id.name());
        out.put("type", row.kind().resourceType());
        out.put("location", row.location());
        copyIfPresent(row.document(), out, "tags", "sku", "zones", "extendedLocation", "managedBy");
        ObjectNode properties = row.document().path("properties").deepCopy();
        long size = store.info(row.storeId()).sizeBytes();
        properties.put("diskSizeGB", sizeGb(size));
        properties.put("diskSizeBytes", size);
        properties.put("uniqueId", row.storeId());
        if (!properties.has("encryption")) {
            properties.set("encryption", render(row.encryption()));
        }
        properties.put("diskState", row.diskState());
        properties.put("provisioningState", "Succeeded");
        out.set("properties", properties);
        return out;
    }

    private static void copyIfPresent(JsonNode from, ObjectNode to, String... fields) {
        for (String field : fields) {
            if (from.has(field) && !from.get(field).isNull()) {
                to.set(field, from.get(field).deepCopy());
            }
        }
    }

    private static String tagsJson(ObjectNode document) {
        return document.has("tags") && document.get("tags").isObject() ? Json.write(document.get("tags")) : null;
    }

    private void insert(Handle h, Row row, String subscriptionId, String resourceGroup) {
        h.createUpdate("INSERT INTO compute_disks (id_lower, resource_id, kind, subscription_id, group_lower, store_id,"
                        + " location, disk_state, encryption_type, des_id, document, created_at) VALUES (:idl, :id, :k,"
                        + " :s, :g, :store, :loc, :st, :enc, :des, :doc, :t)")
                .bind("idl", key(row.resourceId())).bind("id", row.resourceId()).bind("k", row.kind().name())
                .bind("s", subscriptionId).bind("g", resourceGroup.toLowerCase(Locale.ROOT))
                .bind("store", row.storeId()).bind("loc", row.location()).bind("st", row.diskState())
                .bind("enc", row.encryptionType()).bind("des", row.desId()).bind("doc", Json.write(row.document()))
                .bind("t", clock.now().getEpochSecond()).execute();
    }

    private Optional<Row> find(String resourceId) {
        return metadata.withHandle(h -> h.createQuery("SELECT * FROM compute_disks WHERE id_lower = :id")
                .bind("id", key(resourceId)).map((rs, ctx) -> row(rs)).findOne());
    }

    private static Optional<Row> lock(Handle h, String resourceId) {
        return h.createQuery("SELECT * FROM compute_disks WHERE id_lower = :id FOR UPDATE")
                .bind("id", key(resourceId)).map((rs, ctx) -> row(rs)).findOne();
    }

    private static Row row(java.sql.ResultSet rs) throws java.sql.SQLException {
        long expires = rs.getLong("access_expires");
        Long accessExpires = rs.wasNull() ? null : expires;
        return new Row(rs.getString("resource_id"), Kind.valueOf(rs.getString("kind")), rs.getString("store_id"),
                rs.getString("location"), rs.getString("disk_state"), rs.getString("encryption_type"),
                rs.getString("des_id"), (ObjectNode) Json.parse(rs.getString("document")),
                rs.getString("access_level"), rs.getBytes("access_sha256"), accessExpires,
                rs.getString("export_store_id"), rs.getString("security_data_store_id"), null);
    }

    /** How access tokens are stored: only their SHA-256 (disk and disk restore point grants alike). */
    static byte[] sha256(String token) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
