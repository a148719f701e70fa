package io.coffre.compute;

import static io.coffre.arm.ResourceId.key;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.Endpoints;
import io.coffre.arm.ArmException;
import io.coffre.arm.AsyncOperations;
import io.coffre.arm.Locations;
import io.coffre.arm.ResourceId;
import io.coffre.arm.ResourceIndex;
import io.coffre.arm.ResourceManager;
import io.coffre.compute.disk.DataKeyRing;
import io.coffre.compute.disk.DiskKeyUnavailableException;
import io.coffre.identity.AccessControl;
import io.coffre.identity.Identity;
import io.coffre.identity.Principal;
import io.coffre.json.Json;
import io.coffre.keyvault.KeyService;
import io.coffre.keyvault.KeyService.KeyFacts;
import io.coffre.keyvault.KeyService.Store;
import io.coffre.store.MetadataStore;
import io.coffre.time.CoffreClock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;
import javax.crypto.SecretKey;
import org.jdbi.v3.core.Handle;

/** Disk Encryption Sets and where disks get their data keys (CMK through a DES, PMK through the platform key). */
final class DesService implements DiskEncryptionSets, EncryptionKeys {
    static final String CVM_TYPE = "ConfidentialVmEncryptedWithCustomerKey";
    private static final Set<String> ENCRYPTION_TYPES = Set.of("EncryptionAtRestWithCustomerKey",
            "EncryptionAtRestWithPlatformAndCustomerKeys", CVM_TYPE);
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_-]{1,80}");
    private static final String NO_DOMAIN = "";

    private final MetadataStore metadata;
    private final Identity identity;
    private final AccessControl access;
    private final ResourceManager resources;
    private final ResourceIndex index;
    private final KeyService keyService;
    private final Endpoints endpoints;
    private final CoffreClock clock;
    private final KeyHierarchy hierarchy;
    private final PlatformKeys platformKeys;
    private final DesAccess desAccess;
    private final DesRotations rotations;
    /** Disk-store id → key domain of the objects read lately, {@link #NO_DOMAIN} for non-disks (a bounded LRU). */
    private final Map<String, String> readerDomains = Collections.synchronizedMap(
            new LinkedHashMap<>(256, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
                    return size() > 10_000;
                }
            });

    DesService(MetadataStore metadata, Identity identity, AccessControl access, ResourceManager resources,
               ResourceIndex index, KeyService keyService, AsyncOperations operations, Endpoints endpoints,
               CoffreClock clock) {
        this.metadata = metadata;
        this.identity = identity;
        this.access = access;
        this.resources = resources;
        this.index = index;
        this.keyService = keyService;
        this.endpoints = endpoints;
        this.clock = clock;
        this.hierarchy = new KeyHierarchy(metadata, keyService, clock, endpoints);
        this.platformKeys = new PlatformKeys(identity, resources, keyService);
        this.desAccess = new DesAccess(keyService, endpoints);
        this.rotations = new DesRotations(metadata, hierarchy, desAccess, operations, clock,
                desKey -> principalOf(require(desKey)), desKey -> find(desKey).map(DesRecord::render));
        keyService.onNewKeyVersion(this::onNewKeyVersion);
    }

    // ---- the ARM resource ----

    @Override
    public PutResult put(Principal caller, String subscriptionId, String resourceGroup, String name, JsonNode body) {
        String armId = armId(subscriptionId, resourceGroup, name);
        access.require(caller, armId, RESOURCE_TYPE + "/write", false);
        if (!NAME.matcher(name).matches()) {
            throw ArmException.badRequest("InvalidResourceName", "The disk encryption set name '" + name
                    + "' is invalid: use 1-80 letters, digits, '_' or '-'.");
        }
        resources.getResourceGroup(caller, subscriptionId, resourceGroup);
        if (body == null || !body.isObject()) {
            throw ArmException.badRequest("InvalidRequestContent", "The request body must be a JSON object"
                    + " describing the disk encryption set.");
        }
        Optional<DesRecord> existing = find(key(armId));
        Desired d = desired(body, existing);
        KeyUrl keyUrl = KeyUrl.parse(d.keyUrl(), endpoints);
        checkKey(keyUrl, d, body);
        if (existing.isPresent()) {
            DesRecord current = existing.get();
            metadata.inTransaction(h -> {
                h.createUpdate("UPDATE compute_disk_encryption_sets SET key_url = :url, key_base = :base,"
                                + " source_vault_id = :vault, rotation_to_latest = :rotate, tags = :tags"
                                + " WHERE des_key = :des")
                        .bind("url", keyUrl.text()).bind("base", keyUrl.base()).bind("vault", d.sourceVaultId())
                        .bind("rotate", d.rotationToLatest()).bind("tags", d.tagsJson())
                        .bind("des", current.desKey()).execute();
                index.put(current.armId(), RESOURCE_TYPE, current.location(), d.tagsJson());
                return null;
            });
            String operation = rotations.start(current.desKey(), current.armId(), current.keyUrl(), keyUrl.text());
            return new PutResult(require(current.desKey()).render(), false, operation);
        }
        Principal managed = identity.createManagedIdentity(name);
        try {
            metadata.inTransaction(h -> {
                h.createUpdate("INSERT INTO compute_disk_encryption_sets (des_key, arm_id, subscription_id,"
                                + " resource_group, name, location, encryption_type, key_url, key_base,"
                                + " source_vault_id, rotation_to_latest, principal_id, tenant_id, previous_keys, tags,"
                                + " created_at) VALUES (:des, :arm, :sub, :rg, :name, :location, :type, :url, :base,"
                                + " :vault, :rotate, :principal, :tenant, '[]', :tags, :now)")
                        .bind("des", key(armId)).bind("arm", armId).bind("sub", subscriptionId)
                        .bind("rg", resourceGroup).bind("name", name).bind("location", d.location())
                        .bind("type", d.encryptionType()).bind("url", keyUrl.text()).bind("base", keyUrl.base())
                        .bind("vault", d.sourceVaultId()).bind("rotate", d.rotationToLatest())
                        .bind("principal", managed.objectId()).bind("tenant", identity.tenantId())
                        .bind("tags", d.tagsJson()).bind("now", clock.now().getEpochSecond()).execute();
                index.put(armId, RESOURCE_TYPE, d.location(), d.tagsJson());
                return null;
            });
        } catch (RuntimeException e) {
            identity.deletePrincipal(managed.objectId());
            throw e;
        }
        return new PutResult(require(key(armId)).render(), true, null);
    }

    @Override
    public PutResult patch(Principal caller, String subscriptionId, String resourceGroup, String name,
                           JsonNode body) {
        String armId = armId(subscriptionId, resourceGroup, name);
        access.require(caller, armId, RESOURCE_TYPE + "/write", false);
        DesRecord current = requireVisible(armId);
        if (body == null || !body.isObject()) {
            throw ArmException.badRequest("InvalidRequestContent", "The request body must be a JSON object.");
        }
        ObjectNode merged = current.render();
        if (body.has("tags")) {
            merged.set("tags", body.get("tags"));
        }
        ObjectNode properties = (ObjectNode) merged.get("properties");
        JsonNode patch = body.path("properties");
        for (String field : List.of("activeKey", "rotationToLatestKeyVersionEnabled", "encryptionType")) {
            if (patch.has(field)) {
                properties.set(field, patch.get(field));
            }
        }
        return put(caller, subscriptionId, resourceGroup, name, merged);
    }

    @Override
    public ObjectNode get(Principal caller, String subscriptionId, String resourceGroup, String name) {
        String armId = armId(subscriptionId, resourceGroup, name);
        access.require(caller, armId, RESOURCE_TYPE + "/read", false);
        return requireVisible(armId).render();
    }

    @Override
    public List<ObjectNode> list(Principal caller, String subscriptionId, String resourceGroupOrNull) {
        AccessControl.Grants grants = access.grantsOf(caller);
        return metadata.withHandle(h -> h.createQuery("SELECT * FROM compute_disk_encryption_sets"
                                + " WHERE lower(subscription_id) = :sub"
                                + (resourceGroupOrNull == null ? "" : " AND lower(resource_group) = :rg")
                                + " ORDER BY des_key")
                        .bind("sub", subscriptionId.toLowerCase(Locale.ROOT))
                        .bind("rg", resourceGroupOrNull == null ? "" : resourceGroupOrNull.toLowerCase(Locale.ROOT))
                        .map((rs, ctx) -> DesRecord.map(rs)).list())
                .stream().filter(d -> grants.allows(d.armId(), RESOURCE_TYPE + "/read", false))
                .map(DesRecord::render).toList();
    }

    @Override
    public void delete(Principal caller, String subscriptionId, String resourceGroup, String name) {
        String armId = armId(subscriptionId, resourceGroup, name);
        access.require(caller, armId, RESOURCE_TYPE + "/delete", false);
        DesRecord des = requireVisible(armId);
        List<String> users = associated(des.desKey());
        if (!users.isEmpty()) {
            throw ArmException.conflict("DiskEncryptionSetInUse", "The disk encryption set " + des.name()
                    + " is in use by " + users.size() + " resource(s), e.g. " + users.get(0)
                    + ". Delete them or move them to another disk encryption set first.");
        }
        metadata.inTransaction(h -> {
            h.createUpdate("DELETE FROM compute_disk_encryption_sets WHERE des_key = :des")
                    .bind("des", des.desKey()).execute();
            h.createUpdate("DELETE FROM compute_wrapped_des_keys WHERE des_id = :des").bind("des", des.desKey())
                    .execute();
            h.createUpdate("DELETE FROM compute_des_key_holders WHERE des_id = :des").bind("des", des.desKey())
                    .execute();
            h.createUpdate("DELETE FROM compute_data_keys WHERE des_id = :des").bind("des", des.desKey()).execute();
            index.remove(des.armId());
            return null;
        });
        hierarchy.evict(des.desKey());
        identity.deletePrincipal(des.principalId());
    }

    @Override
    public List<String> associatedResources(Principal caller, String subscriptionId, String resourceGroup,
                                            String name) {
        String armId = armId(subscriptionId, resourceGroup, name);
        access.require(caller, armId, RESOURCE_TYPE + "/read", false);
        return associated(requireVisible(armId).desKey());
    }

    @Override
    public void associate(String desId, String resourceId) {
        DesRecord des = requireVisible(desId);
        metadata.inTransaction(h -> h.createUpdate("INSERT INTO compute_des_associations (des_id, resource_id,"
                        + " resource_key) SELECT :des, :id, :key WHERE NOT EXISTS (SELECT 1 FROM"
                        + " compute_des_associations WHERE des_id = :des AND resource_key = :key)")
                .bind("des", des.desKey()).bind("id", resourceId).bind("key", resourceId.toLowerCase(Locale.ROOT))
                .execute());
    }

    @Override
    public void dissociate(String desId, String resourceId) {
        metadata.inTransaction(h -> h.createUpdate("DELETE FROM compute_des_associations WHERE des_id = :des"
                        + " AND resource_key = :key").bind("des", key(desId))
                .bind("key", resourceId.toLowerCase(Locale.ROOT)).execute());
    }

    @Override
    public void copyWrappedKey(String desId, String ownerId) {
        metadata.inTransaction(h -> h.createUpdate("INSERT INTO compute_des_key_holders (owner_id, des_id)"
                        + " SELECT :owner, :des WHERE NOT EXISTS (SELECT 1 FROM compute_des_key_holders"
                        + " WHERE owner_id = :owner AND des_id = :des)")
                .bind("owner", ownerId).bind("des", key(desId)).execute());
    }

    @Override
    public void dropWrappedKeys(String ownerId) {
        metadata.inTransaction(h -> h.createUpdate("DELETE FROM compute_des_key_holders WHERE owner_id = :owner")
                .bind("owner", ownerId).execute());
    }

    @Override
    public void registerRotationConsumer(String consumerName, RotationConsumer consumer) {
        rotations.register(consumerName, consumer);
    }

    @Override
    public void acknowledge(String eventId, String consumerName) {
        rotations.acknowledge(eventId, consumerName);
    }

    // ---- EncryptionKeys ----

    @Override
    public void check(Principal caller, Setting setting) {
        if (isPlatform(setting)) {
            if (setting.diskEncryptionSetId() != null) {
                throw ArmException.badRequest("InvalidParameter", "Encryption type " + setting.type()
                        + " uses the platform key; remove diskEncryptionSetId or use EncryptionAtRestWithCustomerKey.");
            }
            hierarchy.desKey(platformKeys.domain(region(setting), hierarchy));
            return;
        }
        if (setting.diskEncryptionSetId() == null || setting.diskEncryptionSetId().isBlank()) {
            throw ArmException.badRequest("InvalidParameter", "Encryption type " + setting.type()
                    + " needs a disk encryption set: set diskEncryptionSetId.");
        }
        DesRecord des = requireVisible(setting.diskEncryptionSetId());
        access.require(caller, des.armId(), RESOURCE_TYPE + "/read", false);
        if (!des.location().equals(region(setting))) {
            throw ArmException.badRequest("InvalidParameter", "The disk encryption set " + des.name() + " is in "
                    + des.location() + " but the disk is in " + region(setting) + "; use a DES of the same region.");
        }
        boolean confidential = setting.type().toLowerCase(Locale.ROOT).contains("confidentialvm");
        if (confidential != des.encryptionType().equals(CVM_TYPE)) {
            throw ArmException.badRequest("InvalidParameter", "The disk encryption set " + des.name() + " has"
                    + " encryptionType " + des.encryptionType() + ", which does not fit " + setting.type()
                    + (confidential ? "; a confidential disk needs a DES of type " + CVM_TYPE + "."
                    : "; a DES of type " + CVM_TYPE + " encrypts confidential VM disks only."));
        }
        desKey(des);
    }

    @Override
    public DataKeyRing ring(Setting setting) {
        return new DataKeyRing() {
            @Override
            public UUID newKey(String diskId) {
                return hierarchy.newDataKey(domainOf(setting), diskId);
            }

            @Override
            public Optional<SecretKey> key(UUID keyId) {
                return key(keyId, null);
            }

            @Override
            public Optional<SecretKey> key(UUID keyId, String readerId) {
                String own = readerId == null ? null : readerDomain(readerId).orElse(null);
                Optional<SecretKey> cached = hierarchy.cachedDataKey(keyId, own);
                if (cached.isPresent()) {
                    return cached;
                }
                // Several domains hold the key only when a disk was restored from a manifest into another DES
                // of this Coffre while its source still exists: either wrapping yields the same key, but a disk
                // that has a wrapping of its own reads through it alone, so disabling its DES key stops it.
                List<String> domains = hierarchy.dataKeyDomains(keyId);
                if (own != null && domains.contains(own)) {
                    domains = List.of(own);
                }
                DiskKeyUnavailableException failure = null;
                for (String domainId : domains) {
                    try {
                        Optional<SecretKey> key = hierarchy.dataKey(keyId, domain(domainId));
                        if (key.isPresent()) {
                            return key;
                        }
                    } catch (DiskKeyUnavailableException e) {
                        failure = failure != null ? failure : e;
                    } catch (ArmException e) {
                        failure = failure != null ? failure : new DiskKeyUnavailableException(keyId, e.getMessage());
                    }
                }
                if (failure != null) {
                    throw failure;
                }
                return Optional.empty();
            }
        };
    }

    // ---- exported keys (RestorePointExports) ----

    /**
     * The wrapped keys a set of blocks needs, grouped by domain, each with the domain's one stored wrapped DES key
     * (snapshots and restore points hold a reference to it, see {@link #copyWrappedKey}).
     */
    List<RestorePointExports.KeyDomain> exportKeys(Collection<UUID> dataKeyIds, String ownerId) {
        Map<String, List<RestorePointExports.DataKey>> byDomain = new TreeMap<>();
        for (KeyHierarchy.WrappedDataKey key : hierarchy.wrappedDataKeys(dataKeyIds)) {
            byDomain.computeIfAbsent(key.domainId(), d -> new ArrayList<>())
                    .add(new RestorePointExports.DataKey(key.keyId(), key.wrapped()));
        }
        if (byDomain.values().stream().mapToInt(List::size).sum() != new HashSet<>(dataKeyIds).size()) {
            throw new IllegalStateException("a data key of " + ownerId + " is missing from compute_data_keys");
        }
        List<RestorePointExports.KeyDomain> domains = new ArrayList<>();
        byDomain.forEach((domainId, keys) -> {
            KeyHierarchy.Wrapped desKey = hierarchy.ownCopy(domainId)
                    .orElseThrow(() -> new IllegalStateException("the DES key of " + domainId + " is missing"));
            domains.add(new RestorePointExports.KeyDomain(domainId, desKey.kekKeyId(), desKey.wrapped(), keys));
        });
        return domains;
    }

    /** Data keys rewrapped under a target's DES key, ready to store under {@code domainId}. */
    record RewrappedKeys(String domainId, Map<UUID, byte[]> wrapped) {
    }

    /**
     * Unwraps each source DES key with its KEK version as that DES's own identity (the platform for PMK), the data
     * keys under it, and wraps them under the target's DES key, used as the target DES's identity. Stores nothing.
     */
    RewrappedKeys rewrap(Principal caller, List<RestorePointExports.KeyDomain> sources, Setting target) {
        check(caller, target);
        KeyHierarchy.Domain targetDomain = domainOf(target);
        SecretKey targetKey = hierarchy.desKey(targetDomain);
        Map<UUID, byte[]> rewrapped = new HashMap<>();
        for (RestorePointExports.KeyDomain source : sources) {
            KeyHierarchy.Domain sourceDomain;
            try {
                sourceDomain = domain(source.domainId());
            } catch (ArmException e) {
                throw ArmException.badRequest("SourceDiskEncryptionSetNotFound", "The manifest's keys are wrapped"
                        + " under the disk encryption set " + source.domainId() + ", which no longer exists here:"
                        + " only its identity may unwrap them. Restore it (same name, same key) first.");
            }
            SecretKey sourceKey = desAccess.asDes(() -> hierarchy.unwrapDesKey(sourceDomain.principal(),
                    source.kekKeyUrl(), source.wrappedDesKey()), sourceDomain.principal(), source.kekKeyUrl());
            for (RestorePointExports.DataKey key : source.dataKeys()) {
                rewrapped.put(key.keyId(), KeyHierarchy.rewrapDataKey(key.keyId(), key.wrapped(), sourceKey,
                        targetKey));
            }
        }
        return new RewrappedKeys(targetDomain.id(), rewrapped);
    }

    /** Removes the data keys created for disks that are gone again (a restore that failed half-way). */
    void forgetDataKeysOf(Collection<String> diskIds) {
        metadata.inTransaction(h -> {
            for (String diskId : diskIds) {
                h.createUpdate("DELETE FROM compute_data_keys WHERE disk_id = :disk").bind("disk", diskId).execute();
            }
            return null;
        });
    }

    /** Stores rewrapped keys for a restored disk, in the caller's transaction. */
    void storeRewrapped(Handle h, RewrappedKeys keys, Collection<UUID> keyIds, String diskId) {
        for (UUID keyId : keyIds) {
            hierarchy.insertDataKey(h, keyId, keys.domainId(), diskId, keys.wrapped().get(keyId));
        }
    }

    private KeyHierarchy.Domain domainOf(Setting setting) {
        return isPlatform(setting) ? platformKeys.domain(region(setting), hierarchy)
                : domain(key(setting.diskEncryptionSetId()));
    }

    private KeyHierarchy.Domain domain(String domainId) {
        if (PlatformKeys.isPlatformDomain(domainId)) {
            return platformKeys.domain(PlatformKeys.regionOf(domainId), hierarchy);
        }
        DesRecord des = find(domainId).orElseThrow(() -> ArmException.notFound("ResourceNotFound",
                "The disk encryption set of this key was deleted."));
        return domain(des, principalOf(des));
    }

    private SecretKey desKey(DesRecord des) {
        Principal principal = principalOf(des);
        return desAccess.asDes(() -> hierarchy.desKey(domain(des, principal)), principal,
                hierarchy.ownCopy(des.desKey()).map(KeyHierarchy.Wrapped::kekKeyId).orElse(des.keyUrl()));
    }

    /** A DES's key domain; its current key is read under the DES row's lock when a first DES key is stored. */
    private static KeyHierarchy.Domain domain(DesRecord des, Principal principal) {
        return new KeyHierarchy.Domain(des.desKey(), principal, des.keyUrl(), h -> h.createQuery("SELECT key_url"
                        + " FROM compute_disk_encryption_sets WHERE des_key = :des FOR UPDATE").bind("des", des.desKey())
                .mapTo(String.class).findOne().orElseThrow(() -> ArmException.notFound("ResourceNotFound",
                        "The disk encryption set " + des.armId() + " was deleted while its key was first used.")));
    }

    /**
     * The key domain of a disk or snapshot by its disk-store id (empty for other stored objects: restore point
     * disks, guest state). A disk keeps its encryption for life and other objects never become disks, so the answer
     * is remembered either way: every block read asks.
     */
    private Optional<String> readerDomain(String storeId) {
        String known = readerDomains.get(storeId);
        if (known == null) {
            known = metadata.withHandle(h -> h.createQuery("SELECT encryption_type, des_id, location"
                            + " FROM compute_disks WHERE store_id = :store").bind("store", storeId)
                    .map((rs, ctx) -> new Setting(rs.getString(1), rs.getString(2), rs.getString(3))).findOne())
                    .map(setting -> isPlatform(setting) ? PlatformKeys.domainId(Locations.normalize(setting.region()))
                            : key(setting.diskEncryptionSetId()))
                    .orElse(NO_DOMAIN);
            readerDomains.put(storeId, known);
        }
        return known.equals(NO_DOMAIN) ? Optional.empty() : Optional.of(known);
    }

    private static boolean isPlatform(Setting setting) {
        String type = setting.type() == null ? "EncryptionAtRestWithPlatformKey" : setting.type();
        return type.toLowerCase(Locale.ROOT).contains("platformkey") && !type.contains("Customer");
    }

    private static String region(Setting setting) {
        if (setting.region() == null || setting.region().isBlank()) {
            throw ArmException.badRequest("LocationRequired", "The disk's location is required.");
        }
        return Locations.normalize(setting.region());
    }

    // ---- automatic rotation ----

    private void onNewKeyVersion(KeyService.NewKeyVersion event) {
        String base = event.keyId().substring(0, event.keyId().lastIndexOf('/')).toLowerCase(Locale.ROOT);
        List<DesRecord> following = metadata.withHandle(h -> h.createQuery("SELECT * FROM"
                        + " compute_disk_encryption_sets WHERE key_base = :base AND rotation_to_latest = TRUE")
                .bind("base", base).map((rs, ctx) -> DesRecord.map(rs)).list());
        for (DesRecord des : following) {
            metadata.inTransaction(h -> h.createUpdate("UPDATE compute_disk_encryption_sets SET key_url = :url"
                    + " WHERE des_key = :des").bind("url", event.keyId()).bind("des", des.desKey()).execute());
            rotations.start(des.desKey(), des.armId(), des.keyUrl(), event.keyId());
        }
    }

    // ---- the request body and the key it names ----

    private record Desired(String location, String encryptionType, String keyUrl, String sourceVaultId,
                           boolean rotationToLatest, String tagsJson) {
    }

    private Desired desired(JsonNode body, Optional<DesRecord> existing) {
        String location = body.path("location").asText(null);
        if (location == null || location.isBlank()) {
            if (existing.isEmpty()) {
                throw ArmException.badRequest("LocationRequired", "The location property is required for a disk"
                        + " encryption set, e.g. \"location\": \"uaenorth\".");
            }
            location = existing.get().location();
        }
        location = Locations.normalize(location);
        if (existing.isPresent() && !existing.get().location().equals(location)) {
            throw ArmException.badRequest("InvalidParameter", "The disk encryption set is in "
                    + existing.get().location() + "; its location cannot change.");
        }
        JsonNode identityNode = body.path("identity");
        String identityType = identityNode.path("type").asText(existing.isPresent() ? "SystemAssigned" : "");
        if (!identityType.equalsIgnoreCase("SystemAssigned")) {
            throw ArmException.badRequest("InvalidParameter", "identity.type must be \"SystemAssigned\": the disk"
                    + " encryption set uses its key as its own system-assigned identity ("
                    + (identityType.isEmpty() ? "none was given" : identityType + " is not supported") + ").");
        }
        JsonNode properties = body.path("properties");
        String type = properties.path("encryptionType").asText(existing.map(DesRecord::encryptionType)
                .orElse("EncryptionAtRestWithCustomerKey"));
        if (!ENCRYPTION_TYPES.contains(type)) {
            throw ArmException.badRequest("InvalidParameter", "encryptionType '" + type + "' is not one of "
                    + String.join(", ", ENCRYPTION_TYPES.stream().sorted().toList()) + ".");
        }
        if (existing.isPresent() && !existing.get().encryptionType().equals(type)) {
            throw ArmException.badRequest("PropertyChangeNotAllowed", "encryptionType cannot change from "
                    + existing.get().encryptionType() + "; create a new disk encryption set.");
        }
        JsonNode activeKey = properties.path("activeKey");
        String keyUrl = activeKey.path("keyUrl").asText(null);
        if (keyUrl == null) {
            throw ArmException.badRequest("InvalidParameter", "properties.activeKey.keyUrl is required: the"
                    + " versioned id of the key, e.g. https://kv1.vault." + endpoints.dnsSuffix()
                    + "/keys/k1/<version>.");
        }
        String sourceVault = activeKey.path("sourceVault").path("id").asText(null);
        JsonNode rotate = properties.path("rotationToLatestKeyVersionEnabled");
        if (!rotate.isMissingNode() && !rotate.isNull() && !rotate.isBoolean()) {
            throw ArmException.badRequest("InvalidParameter", "rotationToLatestKeyVersionEnabled must be true or"
                    + " false.");
        }
        boolean rotation = rotate.isBoolean() ? rotate.asBoolean()
                : existing.map(DesRecord::rotationToLatest).orElse(false);
        JsonNode tags = body.get("tags");
        if (tags != null && !tags.isNull() && !tags.isObject()) {
            throw ArmException.badRequest("InvalidTag", "tags must be a JSON object of strings.");
        }
        return new Desired(location, type, keyUrl, sourceVault, rotation,
                tags == null || tags.isNull() ? null : Json.write(tags));
    }

    /** The key itself: it exists and is enabled, and for confidential VMs meets every CVM requirement. */
    private void checkKey(KeyUrl url, Desired d, JsonNode body) {
        KeyFacts key = keyService.describeKey(url.store(), url.name(), url.version()).orElseThrow(() ->
                ArmException.badRequest("KeyVaultKeyNotFound", "The key " + url.text() + " does not exist: create"
                        + " it (or the " + (url.store().kind() == Store.Kind.VAULT ? "key vault " : "managed HSM ")
                        + url.store().name() + ") first, and use its versioned id."));
        if (!key.enabled()) {
            throw ArmException.badRequest("KeyVaultKeyDisabled", "The key " + url.text() + " is disabled; enable"
                    + " it or name an enabled version.");
        }
        if (!key.keyType().startsWith("RSA")) {
            throw ArmException.badRequest("InvalidKeyType", "The key " + url.text() + " is of type "
                    + key.keyType() + "; a disk encryption set needs an RSA or RSA-HSM key.");
        }
        if (d.sourceVaultId() != null && !d.sourceVaultId().equalsIgnoreCase(key.storeResourceId())) {
            throw ArmException.badRequest("InvalidParameter", "activeKey.sourceVault.id " + d.sourceVaultId()
                    + " is not the store of the key (" + key.storeResourceId() + "); fix it or omit sourceVault.");
        }
        if (!key.purgeProtection()) {
            throw ArmException.badRequest("KeyStoreWithoutPurgeProtection", "The " + storeLabel(url) + " of the"
                    + " key has no purge protection; enable it (az keyvault update --enable-purge-protection true)"
                    + " before a disk encryption set relies on its key.");
        }
        if (!key.location().equals(d.location())) {
            throw ArmException.badRequest("KeyInOtherRegion", "The " + storeLabel(url) + " of the key is in "
                    + key.location() + " but the disk encryption set is in " + d.location() + "; use a key of the"
                    + " same region.");
        }
        if (!d.encryptionType().equals(CVM_TYPE)) {
            return;
        }
        if (!key.keyType().equals("RSA-HSM")) {
            throw ArmException.badRequest("ConfidentialVmKeyNotHsm", "A confidential VM key must be RSA-HSM; "
                    + url.text() + " is " + key.keyType() + ". Create it with kty RSA-HSM.");
        }
        if (!key.premium()) {
            throw ArmException.badRequest("ConfidentialVmKeyStoreNotPremium", "A confidential VM key must live in"
                    + " a Premium key vault or a managed HSM; " + url.store().name() + " is Standard.");
        }
        if (!key.exportable()) {
            throw ArmException.badRequest("ConfidentialVmKeyNotExportable", "A confidential VM key must be"
                    + " exportable (the platform releases it to attested VMs); create it with exportable: true.");
        }
        if (!key.hasReleasePolicy()) {
            throw ArmException.badRequest("ConfidentialVmKeyWithoutReleasePolicy", "A confidential VM key needs a"
                    + " release policy (the confidential VM policy); create it with release_policy.");
        }
    }

    private static String storeLabel(KeyUrl url) {
        return (url.store().kind() == Store.Kind.VAULT ? "key vault " : "managed HSM ") + url.store().name();
    }

    // ---- lookups ----

    private Principal principalOf(DesRecord des) {
        return identity.find(des.principalId()).orElseThrow(() -> new IllegalStateException(
                "the managed identity of " + des.armId() + " is missing"));
    }

    private List<String> associated(String desKey) {
        return metadata.withHandle(h -> h.createQuery("SELECT resource_id FROM compute_des_associations"
                + " WHERE des_id = :des ORDER BY resource_key").bind("des", desKey).mapTo(String.class).list());
    }

    @Override
    public Optional<ActiveKey> activeKey(String desId) {
        return find(key(desId)).map(des -> new ActiveKey(des.armId(), des.encryptionType(), des.keyUrl(), des.location(),
                des.principalId()));
    }

    private Optional<DesRecord> find(String desKey) {
        return metadata.withHandle(h -> h.createQuery("SELECT * FROM compute_disk_encryption_sets"
                + " WHERE des_key = :des").bind("des", desKey).map((rs, ctx) -> DesRecord.map(rs)).findOne());
    }

    private DesRecord require(String desKey) {
        return find(desKey).orElseThrow(() -> ArmException.notFound("ResourceNotFound", "The disk encryption set "
                + desKey + " does not exist."));
    }

    private DesRecord requireVisible(String armId) {
        return find(key(armId)).orElseThrow(() -> ArmException.notFound("ResourceNotFound", "The Resource '"
                + RESOURCE_TYPE + "/" + ResourceId.parse(armId).name() + "' under resource group '"
                + ResourceId.parse(armId).resourceGroup() + "' was not found."));
    }

    private static String armId(String subscriptionId, String resourceGroup, String name) {
        return "/subscriptions/" + subscriptionId + "/resourceGroups/" + resourceGroup
                + "/providers/Microsoft.Compute/diskEncryptionSets/" + name;
    }

    @Override
    public EncryptionKeys encryptionKeys() {
        return this;
    }

    @Override
    public void close() {
        rotations.close();
    }
}
