package io.coffre.keyvault;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.arm.ArmException;
import io.coffre.arm.ResourceId;
import io.coffre.catalog.Regions;
import io.coffre.identity.AccessControl;
import io.coffre.identity.Principal;
import io.coffre.json.Json;
import io.coffre.keyvault.KeyService.Store;
import io.coffre.store.StoreConflictException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;
import org.jdbi.v3.core.Handle;

/**
 * Microsoft.KeyVault vaults and managedHSMs as ARM resources: create / update / recover by PUT, get, list, soft
 * delete, deleted-store views and purge. Authorised with management-plane RBAC.
 */
final class ManagementPlane {
    /** 3–24 letters, digits and hyphens; starts with a letter; no "--"; ends with a letter or digit. */
    private static final Pattern STORE_NAME = Pattern.compile("^[a-zA-Z](?!.*--)[a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$");
    private static final int MIN_RETENTION_DAYS = 7;
    private static final int MAX_RETENTION_DAYS = 90;
    private static final long DAY = 86_400;
    private static final List<String> HSM_SKUS = List.of("Standard_B1", "Custom_B32", "Custom_B6");

    private final Services services;
    private final Purges purges;

    ManagementPlane(Services services, Purges purges) {
        this.services = services;
        this.purges = purges;
    }

    ObjectNode putStore(Principal caller, String subscriptionId, String resourceGroup, Store store, JsonNode body) {
        requireValidName(store);
        String resourceId = StoreRecord.resourceId(subscriptionId, resourceGroup, store.kind(), store.name());
        services.requireArm(caller, resourceId, StoreRecord.resourceType(store.kind()) + "/write");
        requireResourceGroup(subscriptionId, resourceGroup);
        if (!body.isObject()) {
            throw badRequest("The request body must be a JSON object describing the " + label(store.kind()) + ".");
        }
        boolean recover = createMode(body);
        Optional<StoreRecord> existing = services.metadata().withHandle(h ->
                StoreRepository.find(h, store.kind(), store.name()));
        if (existing.isPresent()) {
            StoreRecord current = existing.get();
            if (current.isDeleted()) {
                if (!recover) {
                    throw nameHeldBySoftDeleted(current);
                }
                return render(recover(current, subscriptionId, resourceGroup, body));
            }
            if (!sameResourceGroup(current, subscriptionId, resourceGroup)) {
                throw nameTaken(store);
            }
            if (recover) {
                throw ArmException.conflict("ConflictError", "The " + label(store.kind()) + " '" + store.name()
                        + "' is not deleted; createMode 'recover' applies only to a soft-deleted "
                        + label(store.kind()) + ". Omit createMode to update it.");
            }
            return render(update(current, body));
        }
        if (recover) {
            throw ArmException.notFound("ResourceNotFound", "No soft-deleted " + label(store.kind()) + " named '"
                    + store.name() + "' exists, so createMode 'recover' has nothing to recover. Omit createMode to"
                    + " create a new one.");
        }
        return render(create(subscriptionId, resourceGroup, store, body));
    }

    ObjectNode getStore(Principal caller, String subscriptionId, String resourceGroup, Store store) {
        String resourceId = StoreRecord.resourceId(subscriptionId, resourceGroup, store.kind(), store.name());
        services.requireArm(caller, resourceId, StoreRecord.resourceType(store.kind()) + "/read");
        return render(requireActive(subscriptionId, resourceGroup, store));
    }

    List<ObjectNode> listStores(Principal caller, String subscriptionId, String resourceGroupOrNull, Store.Kind kind) {
        String action = StoreRecord.resourceType(kind) + "/read";
        AccessControl.Grants grants = services.accessControl().grantsOf(caller);
        List<ObjectNode> result = new ArrayList<>();
        for (StoreRecord s : services.metadata().withHandle(h ->
                StoreRepository.listActive(h, kind, subscriptionId, resourceGroupOrNull))) {
            if (grants.allows(s.resourceId(), action, false)) {
                result.add(render(s));
            }
        }
        return result;
    }

    void deleteStore(Principal caller, String subscriptionId, String resourceGroup, Store store) {
        String resourceId = StoreRecord.resourceId(subscriptionId, resourceGroup, store.kind(), store.name());
        services.requireArm(caller, resourceId, StoreRecord.resourceType(store.kind()) + "/delete");
        long now = services.now();
        // Deleting what does not exist succeeds, as ARM's DELETE does (204).
        boolean deleted = services.metadata().inTransaction(h -> {
            Optional<StoreRecord> active = StoreRepository.find(h, store.kind(), store.name())
                    .filter(s -> !s.isDeleted() && sameResourceGroup(s, subscriptionId, resourceGroup));
            active.ifPresent(s -> StoreRepository.update(h, withDeletion(s, now, now + s.retentionDays() * DAY)));
            return active.isPresent();
        });
        if (deleted) {
            // A soft-deleted store is no longer a resource of its group (the group can be deleted).
            services.resourceIndex().remove(resourceId);
        }
    }

    ObjectNode getDeletedStore(Principal caller, String subscriptionId, String location, Store store) {
        services.requireArm(caller, "/subscriptions/" + subscriptionId, deletedType(store.kind()) + "/read");
        return renderDeleted(requireDeleted(subscriptionId, location, store));
    }

    List<ObjectNode> listDeletedStores(Principal caller, String subscriptionId, Store.Kind kind) {
        services.requireArm(caller, "/subscriptions/" + subscriptionId, deletedType(kind) + "/read");
        return services.metadata().withHandle(h -> StoreRepository.listDeleted(h, kind, subscriptionId)).stream()
                .map(this::renderDeleted).toList();
    }

    void purgeDeletedStore(Principal caller, String subscriptionId, String location, Store store) {
        services.requireArm(caller, "/subscriptions/" + subscriptionId,
                "Microsoft.KeyVault/locations/" + deletedCollection(store.kind()) + "/purge/action");
        StoreRecord deleted = requireDeleted(subscriptionId, location, store);
        long now = services.now();
        if (deleted.purgeProtection() && now < deleted.scheduledPurgeAt()) {
            throw ArmException.conflict("ConflictError", "The " + label(store.kind()) + " '" + store.name()
                    + "' has purge protection enabled, so it cannot be purged before its scheduled purge date "
                    + Instant.ofEpochSecond(deleted.scheduledPurgeAt()) + "; it is purged automatically then."
                    + " Recover it (PUT with properties.createMode 'recover') to use it again.");
        }
        purges.purgeStore(deleted.storeId());
    }

    // ---- create / update / recover ----

    private StoreRecord create(String subscriptionId, String resourceGroup, Store store, JsonNode body) {
        Regions.Region region = region(store.kind(), body);
        Settings settings = settings(store.kind(), body, null);
        String storeId = UUID.randomUUID().toString();
        long now = services.now();
        String domainId = store.kind() == Store.Kind.VAULT
                ? SecurityDomains.forVault(subscriptionId, region) : SecurityDomains.forHsm(storeId);
        if (store.kind() == Store.Kind.VAULT) {
            // Shared by every vault of the subscription and geography, so created outside this store's transaction.
            services.domains().ensure(services.metadata(), domainId, now);
        }
        StoreRecord record = new StoreRecord(storeId, store.kind(), store.name(), subscriptionId, resourceGroup,
                region.name(), domainId, settings.tenantId, settings.sku, settings.retentionDays,
                settings.purgeProtection, settings.rbacAuthorization, settings.accessPolicies, settings.tags,
                settings.passThrough, now, now, null, null);
        try {
            services.metadata().inTransaction(h -> {
                if (store.kind() == Store.Kind.MANAGED_HSM) {
                    services.domains().create(h, domainId, now);
                }
                StoreRepository.insert(h, record);
                if (store.kind() == Store.Kind.MANAGED_HSM) {
                    grantInitialAdministrators(h, record, now);
                }
                return null;
            });
        } catch (StoreConflictException raced) {
            throw nameTaken(store);
        }
        return indexed(record);
    }

    private StoreRecord update(StoreRecord current, JsonNode body) {
        String location = body.path("location").asText(null);
        if (location != null && !Regions.normalize(location).equals(current.location())) {
            throw ArmException.badRequest("InvalidResourceLocation", "The resource '" + current.name()
                    + "' already exists in location '" + current.location() + "' in resource group '"
                    + current.resourceGroup() + "'. A resource with the same name cannot be created in location '"
                    + location + "'. Please select a new resource name.");
        }
        Settings settings = settings(current.kind(), body, current);
        StoreRecord updated = new StoreRecord(current.storeId(), current.kind(), current.name(),
                current.subscriptionId(), current.resourceGroup(), current.location(), current.domainId(),
                settings.tenantId, settings.sku, settings.retentionDays, settings.purgeProtection,
                settings.rbacAuthorization, settings.accessPolicies, settings.tags, settings.passThrough,
                current.createdAt(), services.now(), null, null);
        services.metadata().inTransaction(h -> {
            StoreRepository.update(h, updated);
            return null;
        });
        return indexed(updated);
    }

    /** Recovery brings the store back as it was deleted, keys and all; the request's other properties are ignored. */
    private StoreRecord recover(StoreRecord deleted, String subscriptionId, String resourceGroup, JsonNode body) {
        if (!sameResourceGroup(deleted, subscriptionId, resourceGroup)) {
            throw ArmException.conflict("ConflictError", "The soft-deleted " + label(deleted.kind()) + " '"
                    + deleted.name() + "' belongs to resource group '" + deleted.resourceGroup() + "' of subscription '"
                    + deleted.subscriptionId() + "'; recover it there.");
        }
        String location = body.path("location").asText(null);
        if (location != null && !Regions.normalize(location).equals(deleted.location())) {
            throw badRequest("The soft-deleted " + label(deleted.kind()) + " '" + deleted.name() + "' is in location '"
                    + deleted.location() + "'; recover it with that location.");
        }
        StoreRecord recovered = withDeletion(deleted, null, null);
        services.metadata().inTransaction(h -> {
            StoreRepository.update(h, recovered);
            return null;
        });
        return indexed(recovered);
    }

    /** Registers the (new, changed or recovered) store in ARM's resource index. */
    private StoreRecord indexed(StoreRecord s) {
        services.resourceIndex().put(s.resourceId(), StoreRecord.resourceType(s.kind()), s.location(),
                Json.write(s.tags()));
        return s;
    }

    private void grantInitialAdministrators(Handle h, StoreRecord hsm, long now) {
        for (JsonNode objectId : hsm.settings().path("initialAdminObjectIds")) {
            LocalRbac.insertAssignment(h, hsm.storeId(), UUID.randomUUID().toString(), "/",
                    BuiltInRoles.ADMINISTRATOR, objectId.asText(), now);
        }
    }

    private static StoreRecord withDeletion(StoreRecord s, Long deletedAt, Long purgeAt) {
        return new StoreRecord(s.storeId(), s.kind(), s.name(), s.subscriptionId(), s.resourceGroup(), s.location(),
                s.domainId(), s.tenantId(), s.sku(), s.retentionDays(), s.purgeProtection(), s.rbacAuthorization(),
                s.accessPolicies(), s.tags(), s.settings(), s.createdAt(), s.updatedAt(), deletedAt, purgeAt);
    }

    // ---- request parsing ----

    /** The settable part of a store, parsed from a PUT body; on update, what the body omits keeps its value. */
    private record Settings(String tenantId, String sku, int retentionDays, boolean purgeProtection,
                            boolean rbacAuthorization, ArrayNode accessPolicies, ObjectNode tags,
                            ObjectNode passThrough) {
    }

    private Settings settings(Store.Kind kind, JsonNode body, StoreRecord current) {
        JsonNode properties = body.path("properties");
        if (!properties.isMissingNode() && !properties.isNull() && !properties.isObject()) {
            throw badRequest("'properties' must be a JSON object.");
        }
        String tenantId = tenantId(properties, current);
        String sku = kind == Store.Kind.VAULT ? vaultSku(properties.path("sku"), current) : hsmSku(body.path("sku"),
                current);
        int retention = retentionDays(properties, current);
        boolean purgeProtection = purgeProtection(kind, properties, current);
        if (properties.has("enableSoftDelete") && !properties.path("enableSoftDelete").asBoolean(true)) {
            throw badRequest("Soft delete cannot be turned off: it is always on for " + label(kind) + "s. Set"
                    + " softDeleteRetentionInDays (7-90) to choose how long deleted items stay recoverable.");
        }
        boolean rbac = kind == Store.Kind.VAULT && bool(properties, "enableRbacAuthorization",
                current != null && current.rbacAuthorization());
        ArrayNode policies = kind == Store.Kind.VAULT ? AccessPolicies.parse(properties.get("accessPolicies"),
                current == null ? Json.MAPPER.createArrayNode() : current.accessPolicies())
                : Json.MAPPER.createArrayNode();
        ObjectNode tags = tags(body.get("tags"), current);
        ObjectNode passThrough = kind == Store.Kind.VAULT ? vaultPassThrough(properties, current)
                : hsmPassThrough(properties, current);
        return new Settings(tenantId, sku, retention, purgeProtection, rbac, policies, tags, passThrough);
    }

    private Regions.Region region(Store.Kind kind, JsonNode body) {
        String location = body.path("location").asText(null);
        if (location == null || location.isBlank()) {
            throw ArmException.badRequest("LocationRequired", "The location property is required for this"
                    + " definition. Set \"location\" to a region such as \"uaenorth\".");
        }
        return services.regions().require(location, StoreRecord.resourceType(kind));
    }

    private String tenantId(JsonNode properties, StoreRecord current) {
        String ours = services.identity().tenantId();
        JsonNode given = properties.get("tenantId");
        if (given == null || given.isNull()) {
            return current == null ? ours : current.tenantId();
        }
        if (!given.asText().equalsIgnoreCase(ours)) {
            throw badRequest("The tenantId '" + given.asText() + "' is not this server's tenant; use '" + ours
                    + "' (or omit tenantId).");
        }
        return ours;
    }

    private static String vaultSku(JsonNode sku, StoreRecord current) {
        if (sku.isMissingNode() || sku.isNull()) {
            return current == null ? "standard" : current.sku();
        }
        String name = sku.path("name").asText("").toLowerCase(Locale.ROOT);
        if (!name.equals("standard") && !name.equals("premium")) {
            throw badRequest("The sku name '" + sku.path("name").asText() + "' is not valid; use \"standard\" or"
                    + " \"premium\" (premium is needed for HSM-protected and exportable keys).");
        }
        return name;
    }

    private static String hsmSku(JsonNode sku, StoreRecord current) {
        if (sku.isMissingNode() || sku.isNull()) {
            return current == null ? HSM_SKUS.get(0) : current.sku();
        }
        String name = sku.path("name").asText("");
        return HSM_SKUS.stream().filter(s -> s.equalsIgnoreCase(name)).findFirst().orElseThrow(() ->
                badRequest("The sku name '" + name + "' is not valid for a managed HSM; use one of " + HSM_SKUS + "."));
    }

    private static int retentionDays(JsonNode properties, StoreRecord current) {
        JsonNode given = properties.get("softDeleteRetentionInDays");
        if (given == null || given.isNull()) {
            return current == null ? StoreRecord.DEFAULT_RETENTION_DAYS : current.retentionDays();
        }
        if (!given.canConvertToExactIntegral() || given.asInt() < MIN_RETENTION_DAYS
                || given.asInt() > MAX_RETENTION_DAYS) {
            throw badRequest("softDeleteRetentionInDays must be a whole number of days from " + MIN_RETENTION_DAYS
                    + " to " + MAX_RETENTION_DAYS + " (got " + given + ").");
        }
        if (current != null && given.asInt() != current.retentionDays()) {
            throw badRequest("softDeleteRetentionInDays cannot be changed once set (it is " + current.retentionDays()
                    + "). Keep " + current.retentionDays() + " or omit it.");
        }
        return given.asInt();
    }

    private static boolean purgeProtection(Store.Kind kind, JsonNode properties, StoreRecord current) {
        boolean wasOn = current != null && current.purgeProtection();
        JsonNode given = properties.get("enablePurgeProtection");
        if (given == null || given.isNull()) {
            return wasOn;
        }
        requireBoolean(given, "enablePurgeProtection");
        if (wasOn && !given.asBoolean()) {
            throw badRequest("The property \"enablePurgeProtection\" cannot be set to false. Enabling the purge"
                    + " protection for a " + label(kind) + " is an irreversible action.");
        }
        return given.asBoolean();
    }

    private static ObjectNode tags(JsonNode given, StoreRecord current) {
        if (given == null || given.isNull()) {
            return current == null ? Json.object() : current.tags();
        }
        if (!given.isObject()) {
            throw badRequest("'tags' must be a JSON object of string values.");
        }
        given.properties().forEach(e -> {
            if (!e.getValue().isTextual()) {
                throw badRequest("The tag '" + e.getKey() + "' must have a string value.");
            }
        });
        return (ObjectNode) given.deepCopy();
    }

    /** Vault switches Coffre keeps and returns but does not act on (nothing here deploys VMs or templates). */
    private static ObjectNode vaultPassThrough(JsonNode properties, StoreRecord current) {
        ObjectNode settings = current == null ? Json.object() : current.settings().deepCopy();
        for (String flag : List.of("enabledForDeployment", "enabledForDiskEncryption",
                "enabledForTemplateDeployment")) {
            JsonNode value = properties.get(flag);
            if (value != null && !value.isNull()) {
                requireBoolean(value, flag);
                settings.put(flag, value.asBoolean());
            }
        }
        JsonNode publicAccess = properties.get("publicNetworkAccess");
        if (publicAccess != null && !publicAccess.isNull()) {
            settings.put("publicNetworkAccess", publicAccess.asText());
        }
        JsonNode acls = properties.get("networkAcls");
        if (acls != null && !acls.isNull()) {
            settings.set("networkAcls", acls);
        }
        return settings;
    }

    private static ObjectNode hsmPassThrough(JsonNode properties, StoreRecord current) {
        if (current != null) {
            // The initial administrators are a creation-time grant; later changes go through local RBAC.
            return current.settings();
        }
        JsonNode admins = properties.path("initialAdminObjectIds");
        if (!admins.isArray() || admins.isEmpty()) {
            throw badRequest("properties.initialAdminObjectIds must list at least one object id: those principals"
                    + " become Managed HSM Administrators at scope '/'.");
        }
        ArrayNode ids = Json.MAPPER.createArrayNode();
        for (JsonNode id : admins) {
            String text = id.asText("");
            if (!id.isTextual() || !LocalRbac.isGuid(text)) {
                throw badRequest("initialAdminObjectIds must hold object ids (GUIDs); '" + id.asText() + "' is not.");
            }
            ids.add(text.toLowerCase(Locale.ROOT));
        }
        ObjectNode settings = Json.object();
        settings.set("initialAdminObjectIds", ids);
        return settings;
    }

    private static boolean createMode(JsonNode body) {
        String mode = body.path("properties").path("createMode").asText("default");
        if (mode.equalsIgnoreCase("recover")) {
            return true;
        }
        if (!mode.equalsIgnoreCase("default")) {
            throw badRequest("createMode '" + mode + "' is not valid; use \"default\" or \"recover\".");
        }
        return false;
    }

    private static boolean bool(JsonNode properties, String field, boolean fallback) {
        JsonNode value = properties.get(field);
        if (value == null || value.isNull()) {
            return fallback;
        }
        requireBoolean(value, field);
        return value.asBoolean();
    }

    private static void requireBoolean(JsonNode value, String field) {
        if (!value.isBoolean()) {
            throw badRequest("'" + field + "' must be true or false (got " + value + ").");
        }
    }

    // ---- lookups ----

    private void requireResourceGroup(String subscriptionId, String resourceGroup) {
        services.resources().requireScope(ResourceId.resourceGroup(subscriptionId, resourceGroup));
    }

    private StoreRecord requireActive(String subscriptionId, String resourceGroup, Store store) {
        return services.metadata().withHandle(h -> StoreRepository.find(h, store.kind(), store.name()))
                .filter(s -> !s.isDeleted() && sameResourceGroup(s, subscriptionId, resourceGroup))
                .orElseThrow(() -> ArmException.notFound("ResourceNotFound", "The Resource '"
                        + StoreRecord.resourceType(store.kind()) + "/" + store.name() + "' under resource group '"
                        + resourceGroup + "' was not found."));
    }

    private StoreRecord requireDeleted(String subscriptionId, String location, Store store) {
        return services.metadata().withHandle(h -> StoreRepository.find(h, store.kind(), store.name()))
                .filter(s -> s.isDeleted() && s.subscriptionId().equalsIgnoreCase(subscriptionId)
                        && s.location().equals(Regions.normalize(location)))
                .orElseThrow(() -> ArmException.notFound("ResourceNotFound", "No soft-deleted " + label(store.kind())
                        + " named '" + store.name() + "' in location '" + location + "' of subscription '"
                        + subscriptionId + "'."));
    }

    private static boolean sameResourceGroup(StoreRecord s, String subscriptionId, String resourceGroup) {
        return s.subscriptionId().equalsIgnoreCase(subscriptionId) && s.resourceGroup().equalsIgnoreCase(resourceGroup);
    }

    private static void requireValidName(Store store) {
        if (store.name() == null || !STORE_NAME.matcher(store.name()).matches()) {
            throw ArmException.badRequest(store.kind() == Store.Kind.VAULT ? "VaultNameNotValid"
                    : "ManagedHsmNameNotValid", "The name '" + store.name() + "' is invalid. A "
                    + label(store.kind()) + "'s name must be 3-24 characters: letters, digits and hyphens, starting"
                    + " with a letter, ending with a letter or digit, without consecutive hyphens.");
        }
    }

    // ---- errors ----

    private static ArmException nameTaken(Store store) {
        return ArmException.conflict(store.kind() == Store.Kind.VAULT ? "VaultAlreadyExists" : "ConflictError",
                "The " + label(store.kind()) + " name '" + store.name() + "' is already in use. Names are globally"
                        + " unique; choose another name.");
    }

    private static ArmException nameHeldBySoftDeleted(StoreRecord deleted) {
        return ArmException.conflict(deleted.kind() == Store.Kind.VAULT ? "VaultAlreadyExists" : "ConflictError",
                "A " + label(deleted.kind()) + " named '" + deleted.name() + "' was deleted and is still recoverable"
                        + " (until " + Instant.ofEpochSecond(deleted.scheduledPurgeAt()) + "), so its name cannot be"
                        + " reused yet. Recover it (PUT with properties.createMode \"recover\") or purge it first.");
    }

    private static ArmException badRequest(String message) {
        return ArmException.badRequest("BadRequest", message);
    }

    private static String label(Store.Kind kind) {
        return kind == Store.Kind.VAULT ? "key vault" : "managed HSM";
    }

    private static String deletedCollection(Store.Kind kind) {
        return kind == Store.Kind.VAULT ? "deletedVaults" : "deletedManagedHSMs";
    }

    private static String deletedType(Store.Kind kind) {
        return "Microsoft.KeyVault/" + deletedCollection(kind);
    }

    // ---- rendering ----

    ObjectNode render(StoreRecord s) {
        ObjectNode resource = Json.object();
        resource.put("id", s.resourceId());
        resource.put("name", s.name());
        resource.put("type", StoreRecord.resourceType(s.kind()));
        resource.put("location", s.location());
        resource.set("tags", s.tags());
        ObjectNode properties = Json.object();
        properties.put("tenantId", s.tenantId());
        if (s.isHsm()) {
            ObjectNode sku = resource.putObject("sku");
            sku.put("family", "B");
            sku.put("name", s.sku());
            properties.set("initialAdminObjectIds", s.settings().path("initialAdminObjectIds"));
            properties.put("hsmUri", s.uri(services.endpoints()));
            properties.put("enableSoftDelete", true);
            properties.put("softDeleteRetentionInDays", s.retentionDays());
            properties.put("enablePurgeProtection", s.purgeProtection());
            properties.put("provisioningState", "Succeeded");
            properties.put("statusMessage", "The Managed HSM is provisioned and ready to use.");
            properties.put("publicNetworkAccess", "Enabled");
            ObjectNode domain = properties.putObject("securityDomainProperties");
            domain.put("activationStatus", "Active");
            domain.put("activationStatusMessage", "Your HSM has been activated and can be used for cryptographic"
                    + " operations.");
        } else {
            ObjectNode sku = properties.putObject("sku");
            sku.put("family", "A");
            sku.put("name", s.sku());
            properties.set("accessPolicies", s.accessPolicies());
            for (String flag : List.of("enabledForDeployment", "enabledForDiskEncryption",
                    "enabledForTemplateDeployment")) {
                properties.put(flag, s.settings().path(flag).asBoolean(false));
            }
            properties.put("enableSoftDelete", true);
            properties.put("softDeleteRetentionInDays", s.retentionDays());
            properties.put("enableRbacAuthorization", s.rbacAuthorization());
            if (s.purgeProtection()) {
                properties.put("enablePurgeProtection", true);
            }
            properties.put("vaultUri", s.uri(services.endpoints()));
            properties.put("provisioningState", "Succeeded");
            properties.put("publicNetworkAccess", s.settings().path("publicNetworkAccess").asText("Enabled"));
            if (s.settings().has("networkAcls")) {
                properties.set("networkAcls", s.settings().get("networkAcls"));
            }
        }
        resource.set("properties", properties);
        return resource;
    }

    ObjectNode renderDeleted(StoreRecord s) {
        ObjectNode resource = Json.object();
        resource.put("id", "/subscriptions/" + s.subscriptionId() + "/providers/Microsoft.KeyVault/locations/"
                + s.location() + "/" + deletedCollection(s.kind()) + "/" + s.name());
        resource.put("name", s.name());
        resource.put("type", deletedType(s.kind()));
        ObjectNode properties = resource.putObject("properties");
        properties.put(s.isHsm() ? "mhsmId" : "vaultId", s.resourceId());
        properties.put("location", s.location());
        properties.set("tags", s.tags());
        properties.put("deletionDate", Instant.ofEpochSecond(s.deletedAt()).toString());
        properties.put("scheduledPurgeDate", Instant.ofEpochSecond(s.scheduledPurgeAt()).toString());
        properties.put("purgeProtectionEnabled", s.purgeProtection());
        return resource;
    }
}
