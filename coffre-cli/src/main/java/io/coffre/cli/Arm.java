package io.coffre.cli;

import static io.coffre.cli.Urls.encode;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.json.Json;
import java.util.Optional;

/** The ARM calls the CLI makes (resource groups, Key Vaults, Managed HSMs), with the api-versions az uses. */
final class Arm {
    static final String RESOURCES_API = "2021-04-01";
    static final String FEATURES_API = "2021-07-01";
    /** az resolves a vault's resource group with this old generic-resources version. */
    static final String RESOURCE_LIST_API = "2015-11-01";

    /** The two Microsoft.KeyVault resource types: same lifecycle, different collection names and api-versions. */
    enum VaultKind {
        VAULT("vaults", "deletedVaults", "2022-07-01", "key vault"),
        MANAGED_HSM("managedHSMs", "deletedManagedHSMs", "2023-07-01", "managed HSM");

        final String collection;
        final String deletedCollection;
        final String apiVersion;
        final String label;

        VaultKind(String collection, String deletedCollection, String apiVersion, String label) {
            this.collection = collection;
            this.deletedCollection = deletedCollection;
            this.apiVersion = apiVersion;
            this.label = label;
        }

        String resourceType() {
            return "Microsoft.KeyVault/" + collection;
        }
    }

    private final CoffreHttp http;
    private final String base;
    private final String subscriptionId;

    Arm(CoffreHttp http, String base, String subscriptionId) {
        this.http = http;
        this.base = base;
        this.subscriptionId = subscriptionId;
    }

    String subscriptionScope() {
        return "/subscriptions/" + encode(subscriptionId);
    }

    String groupScope(String group) {
        return subscriptionScope() + "/resourcegroups/" + encode(group);
    }

    // Resource groups

    JsonNode createGroup(String name, String location) {
        ObjectNode body = Json.object().put("location", location);
        return http.sendAndWait("PUT", base + groupScope(name) + "?api-version=" + RESOURCES_API, body);
    }

    JsonNode group(String name) {
        return http.get(base + groupScope(name) + "?api-version=" + RESOURCES_API);
    }

    ArrayNode groups() {
        return http.getAll(base + subscriptionScope() + "/resourcegroups?api-version=" + RESOURCES_API);
    }

    JsonNode deleteGroup(String name) {
        return http.sendAndWait("DELETE", base + groupScope(name) + "?api-version=" + RESOURCES_API, null);
    }

    // Preview features (Microsoft.Features) and resource providers

    private String featuresUrl(String namespace, String suffix) {
        return base + subscriptionScope() + "/providers/Microsoft.Features"
                + (namespace == null ? "" : "/providers/" + encode(namespace)) + "/features" + suffix
                + "?api-version=" + FEATURES_API;
    }

    /** As az sends it: a POST without a body; the answer is {@code Registering}, {@code Pending} or settled. */
    JsonNode registerFeature(String namespace, String name) {
        return http.post(featuresUrl(namespace, "/" + encode(name) + "/register"), null);
    }

    JsonNode unregisterFeature(String namespace, String name) {
        return http.post(featuresUrl(namespace, "/" + encode(name) + "/unregister"), null);
    }

    JsonNode feature(String namespace, String name) {
        return http.get(featuresUrl(namespace, "/" + encode(name)));
    }

    /** @param namespaceOrNull one provider's features, or every known feature */
    ArrayNode features(String namespaceOrNull) {
        return http.getAll(featuresUrl(namespaceOrNull, ""));
    }

    JsonNode registerProvider(String namespace) {
        return http.post(base + subscriptionScope() + "/providers/" + encode(namespace) + "/register?api-version="
                + RESOURCES_API, null);
    }

    JsonNode provider(String namespace) {
        return http.get(base + subscriptionScope() + "/providers/" + encode(namespace) + "?api-version="
                + RESOURCES_API);
    }

    // Key Vaults and Managed HSMs

    private String vaultUrl(VaultKind kind, String group, String name) {
        return base + groupScope(group) + "/providers/Microsoft.KeyVault/" + kind.collection + "/" + encode(name)
                + "?api-version=" + kind.apiVersion;
    }

    Optional<JsonNode> findVault(VaultKind kind, String group, String name) {
        try {
            return Optional.of(vault(kind, group, name));
        } catch (ServerError e) {
            if (e.status() == 404) {
                return Optional.empty();
            }
            throw e;
        }
    }

    JsonNode vault(VaultKind kind, String group, String name) {
        return http.get(vaultUrl(kind, group, name));
    }

    JsonNode putVault(VaultKind kind, String group, String name, JsonNode body) {
        return http.sendAndWait("PUT", vaultUrl(kind, group, name), body);
    }

    JsonNode deleteVault(VaultKind kind, String group, String name) {
        return http.sendAndWait("DELETE", vaultUrl(kind, group, name), null);
    }

    /** @param group null: the whole subscription */
    ArrayNode vaults(VaultKind kind, String group) {
        String scope = group == null ? subscriptionScope() : groupScope(group);
        return http.getAll(base + scope + "/providers/Microsoft.KeyVault/" + kind.collection + "?api-version="
                + kind.apiVersion);
    }

    /** Finds the resource group of a vault or HSM by name, as az does when {@code -g} is left out. */
    String groupOf(VaultKind kind, String name) {
        String filter = encode("resourceType eq '" + kind.resourceType() + "'");
        for (JsonNode resource : http.getAll(base + subscriptionScope() + "/resources?$filter=" + filter
                + "&api-version=" + RESOURCE_LIST_API)) {
            if (resource.path("name").asText().equalsIgnoreCase(name)) {
                return ResourceIds.part(resource.path("id").asText(), "resourceGroups");
            }
        }
        throw new CliError("No " + kind.label + " named '" + name + "' in subscription " + subscriptionId
                + ". Check the name, or pass -g if it is in another subscription's resource group.");
    }

    private String providerUrl() {
        return base + subscriptionScope() + "/providers/Microsoft.KeyVault/";
    }

    ArrayNode deletedVaults(VaultKind kind) {
        return http.getAll(providerUrl() + kind.deletedCollection + "?api-version=" + kind.apiVersion);
    }

    JsonNode deletedVault(VaultKind kind, String location, String name) {
        return http.get(providerUrl() + "locations/" + encode(location) + "/" + kind.deletedCollection + "/"
                + encode(name) + "?api-version=" + kind.apiVersion);
    }

    JsonNode purgeVault(VaultKind kind, String location, String name) {
        return http.sendAndWait("POST", providerUrl() + "locations/" + encode(location) + "/"
                + kind.deletedCollection + "/" + encode(name) + "/purge?api-version=" + kind.apiVersion, null);
    }

    /** The location of a soft-deleted vault or HSM, from the subscription's deleted list (when -l is left out). */
    String deletedLocation(VaultKind kind, String name) {
        for (JsonNode deleted : deletedVaults(kind)) {
            if (deleted.path("name").asText().equalsIgnoreCase(name)) {
                return deleted.path("properties").path("location").asText();
            }
        }
        throw new CliError("No deleted " + kind.label + " named '" + name + "' in subscription " + subscriptionId
                + " (`coffre keyvault list-deleted` shows them).");
    }

    // Microsoft.Compute disks and snapshots

    static final String DISKS_API = "2022-07-02";
    /** What @azure/arm-compute 25 sends for virtual machines. */
    static final String VMS_API = "2026-04-01";

    /** The two disk-store resource types: same lifecycle, different collections. */
    enum DiskKind {
        DISK("disks", "disk"), SNAPSHOT("snapshots", "snapshot");

        final String collection;
        final String label;

        DiskKind(String collection, String label) {
            this.collection = collection;
            this.label = label;
        }
    }

    String diskId(DiskKind kind, String group, String name) {
        return groupScope(group) + "/providers/Microsoft.Compute/" + kind.collection + "/" + encode(name);
    }

    private String diskUrl(DiskKind kind, String group, String name, String action) {
        return base + diskId(kind, group, name) + action + "?api-version=" + DISKS_API;
    }

    JsonNode putDisk(DiskKind kind, String group, String name, JsonNode body) {
        return http.sendAndWait("PUT", diskUrl(kind, group, name, ""), body);
    }

    JsonNode disk(DiskKind kind, String group, String name) {
        return http.get(diskUrl(kind, group, name, ""));
    }

    JsonNode deleteDisk(DiskKind kind, String group, String name) {
        return http.sendAndWait("DELETE", diskUrl(kind, group, name, ""), null);
    }

    /** @param group null: the whole subscription */
    ArrayNode disks(DiskKind kind, String group) {
        String scope = group == null ? subscriptionScope() : groupScope(group);
        return http.getAll(base + scope + "/providers/Microsoft.Compute/" + kind.collection + "?api-version="
                + DISKS_API);
    }

    /** beginGetAccess, waited for: the access URL ({@code accessSAS}). */
    String grantAccess(DiskKind kind, String group, String name, String access, long durationSeconds) {
        return grantAccess(kind, group, name, access, durationSeconds, false).accessSas();
    }

    /** What beginGetAccess returns: the disk's URL and, when asked for, its VM guest state's. */
    record AccessUri(String accessSas, String securityDataAccessSas) {
    }

    /** beginGetAccess, waited for; {@code guestState} asks for the VM guest state too (getSecureVMGuestStateSAS). */
    AccessUri grantAccess(DiskKind kind, String group, String name, String access, long durationSeconds,
                          boolean guestState) {
        ObjectNode body = Json.object().put("access", access).put("durationInSeconds", durationSeconds);
        if (guestState) {
            body.put("getSecureVMGuestStateSAS", true);
        }
        JsonNode result = http.sendAndWait("POST", diskUrl(kind, group, name, "/beginGetAccess"), body);
        String sas = result.path("accessSAS").asText("");
        String securityData = result.path("securityDataAccessSAS").asText("");
        if (sas.isEmpty() || guestState && securityData.isEmpty()) {
            throw new CliError("The server granted access to " + kind.label + " '" + name + "' but returned no "
                    + (sas.isEmpty() ? "accessSAS." : "securityDataAccessSAS."));
        }
        return new AccessUri(sas, guestState ? securityData : null);
    }

    void revokeAccess(DiskKind kind, String group, String name) {
        http.sendAndWait("POST", diskUrl(kind, group, name, "/endGetAccess"), null);
    }

    // Microsoft.Compute restore point collections and restore points

    static final String COMPUTE_API = "2026-04-01";

    private String collectionUrl(String group, String name, String suffix) {
        return base + groupScope(group) + "/providers/Microsoft.Compute/restorePointCollections/" + encode(name)
                + suffix + "?api-version=" + COMPUTE_API;
    }

    private String restorePointUrl(String group, String collection, String name) {
        return collectionUrl(group, collection, "/restorePoints/" + encode(name));
    }

    /** Any resource by id, e.g. a VM to read its location. */
    JsonNode resource(String id, String apiVersion) {
        return http.get(base + id + "?api-version=" + apiVersion);
    }

    JsonNode putRestorePointCollection(String group, String name, JsonNode body) {
        return http.sendAndWait("PUT", collectionUrl(group, name, ""), body);
    }

    JsonNode restorePointCollection(String group, String name, boolean withRestorePoints) {
        return http.get(collectionUrl(group, name, "") + (withRestorePoints ? "&$expand=restorePoints" : ""));
    }

    /** @param group null: the whole subscription */
    ArrayNode restorePointCollections(String group) {
        String scope = group == null ? subscriptionScope() : groupScope(group);
        return http.getAll(base + scope + "/providers/Microsoft.Compute/restorePointCollections?api-version="
                + COMPUTE_API);
    }

    JsonNode deleteRestorePointCollection(String group, String name) {
        return http.sendAndWait("DELETE", collectionUrl(group, name, ""), null);
    }

    /** Waits for the restore point to be taken, then reads it. */
    JsonNode putRestorePoint(String group, String collection, String name, JsonNode body) {
        return http.sendAndWait("PUT", restorePointUrl(group, collection, name), body);
    }

    JsonNode restorePoint(String group, String collection, String name, boolean instanceView) {
        return http.get(restorePointUrl(group, collection, name) + (instanceView ? "&$expand=instanceView" : ""));
    }

    JsonNode deleteRestorePoint(String group, String collection, String name) {
        return http.sendAndWait("DELETE", restorePointUrl(group, collection, name), null);
    }

    // Microsoft.Compute disk encryption sets

    private String desUrl(String group, String name) {
        return base + groupScope(group) + "/providers/Microsoft.Compute/diskEncryptionSets/" + encode(name)
                + "?api-version=" + DISKS_API;
    }

    JsonNode putDiskEncryptionSet(String group, String name, JsonNode body) {
        return http.sendAndWait("PUT", desUrl(group, name), body);
    }

    /** Waits for the key rotation the server started, if it answered with one. */
    JsonNode patchDiskEncryptionSet(String group, String name, JsonNode body) {
        return http.sendAndWait("PATCH", desUrl(group, name), body);
    }

    JsonNode diskEncryptionSet(String group, String name) {
        return http.get(desUrl(group, name));
    }

    JsonNode deleteDiskEncryptionSet(String group, String name) {
        return http.sendAndWait("DELETE", desUrl(group, name), null);
    }

    /** @param group null: the whole subscription */
    ArrayNode diskEncryptionSets(String group) {
        String scope = group == null ? subscriptionScope() : groupScope(group);
        return http.getAll(base + scope + "/providers/Microsoft.Compute/diskEncryptionSets?api-version="
                + DISKS_API);
    }

    // Microsoft.Compute virtual machines

    String vmId(String group, String name) {
        return groupScope(group) + "/providers/Microsoft.Compute/virtualMachines/" + encode(name);
    }

    private String vmUrl(String group, String name, String action, String query) {
        return base + vmId(group, name) + action + "?api-version=" + VMS_API + query;
    }

    /** Creates (or updates) a VM and waits for its create operation. */
    JsonNode putVm(String group, String name, JsonNode body) {
        return http.sendAndWait("PUT", vmUrl(group, name, "", ""), body);
    }

    JsonNode vm(String group, String name) {
        return http.get(vmUrl(group, name, "", "&$expand=instanceView"));
    }

    /** A power action ({@code start}, {@code powerOff}, {@code deallocate}, {@code restart}), waited for. */
    JsonNode vmAction(String group, String name, String action) {
        http.sendAndWait("POST", vmUrl(group, name, "/" + action, ""), null);
        return vm(group, name);
    }

    JsonNode deleteVm(String group, String name) {
        return http.sendAndWait("DELETE", vmUrl(group, name, "", ""), null);
    }

    /** @param group null: the whole subscription */
    ArrayNode vms(String group) {
        String scope = group == null ? subscriptionScope() : groupScope(group);
        return http.getAll(base + scope + "/providers/Microsoft.Compute/virtualMachines?api-version=" + VMS_API);
    }

    /** The sizes a VM can be resized to ({@code az vm list-vm-resize-options}). */
    ArrayNode vmResizeOptions(String group, String name) {
        return http.getAll(vmUrl(group, name, "/vmSizes", ""));
    }

    /** The VM sizes {@code location} offers ({@code az vm list-sizes}). */
    ArrayNode vmSizes(String location) {
        return http.getAll(base + subscriptionScope() + "/providers/Microsoft.Compute/locations/" + encode(location)
                + "/vmSizes?api-version=" + VMS_API);
    }
}
