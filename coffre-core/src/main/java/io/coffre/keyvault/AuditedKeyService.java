package io.coffre.keyvault;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.arm.ArmException;
import io.coffre.identity.Principal;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * The key service as others see it: each call goes to its part (management plane, keys, key operations, local
 * RBAC) and every data-plane call, allowed or refused, is written to the audit log with the key it touched.
 */
final class AuditedKeyService implements KeyService {
    private static final Pattern VERSION = Pattern.compile("[0-9a-f]{32}");

    private final Services services;
    private final ManagementPlane management;
    private final KeyDataPlane keys;
    private final KeyCrypto crypto;
    private final LocalRbac localRbac;
    private final KeyVersionWriter writer;
    private final KeyScheduler scheduler;

    AuditedKeyService(Services services, ManagementPlane management, KeyDataPlane keys, KeyCrypto crypto,
                      LocalRbac localRbac, KeyVersionWriter writer, KeyScheduler scheduler) {
        this.services = services;
        this.management = management;
        this.keys = keys;
        this.crypto = crypto;
        this.localRbac = localRbac;
        this.writer = writer;
        this.scheduler = scheduler;
    }

    // ---- management plane ----

    @Override
    public ObjectNode putStore(Principal caller, String subscriptionId, String resourceGroup, Store store,
                               JsonNode body) {
        return audited(caller, "StorePut", armId(subscriptionId, resourceGroup, store), null,
                () -> management.putStore(caller, subscriptionId, resourceGroup, store, body));
    }

    @Override
    public ObjectNode getStore(Principal caller, String subscriptionId, String resourceGroup, Store store) {
        return management.getStore(caller, subscriptionId, resourceGroup, store);
    }

    @Override
    public List<ObjectNode> listStores(Principal caller, String subscriptionId, String resourceGroupOrNull,
                                       Store.Kind kind) {
        return management.listStores(caller, subscriptionId, resourceGroupOrNull, kind);
    }

    @Override
    public void deleteStore(Principal caller, String subscriptionId, String resourceGroup, Store store) {
        audited(caller, "StoreDelete", armId(subscriptionId, resourceGroup, store), null, () -> {
            management.deleteStore(caller, subscriptionId, resourceGroup, store);
            return null;
        });
    }

    @Override
    public ObjectNode getDeletedStore(Principal caller, String subscriptionId, String location, Store store) {
        return management.getDeletedStore(caller, subscriptionId, location, store);
    }

    @Override
    public List<ObjectNode> listDeletedStores(Principal caller, String subscriptionId, Store.Kind kind) {
        return management.listDeletedStores(caller, subscriptionId, kind);
    }

    @Override
    public void purgeDeletedStore(Principal caller, String subscriptionId, String location, Store store) {
        audited(caller, "StorePurge", "/subscriptions/" + subscriptionId + "/providers/Microsoft.KeyVault/locations/"
                + location + "/" + StoreRecord.collection(store.kind()) + "/" + store.name(), null, () -> {
                    management.purgeDeletedStore(caller, subscriptionId, location, store);
                    return null;
                });
    }

    // ---- keys ----

    @Override
    public ObjectNode createKey(Principal caller, Store store, String name, JsonNode params) {
        return audited(caller, "KeyCreate", keyId(store, name), null, () -> keys.create(caller, store, name, params));
    }

    @Override
    public ObjectNode importKey(Principal caller, Store store, String name, JsonNode params) {
        return audited(caller, "KeyImport", keyId(store, name), null,
                () -> keys.importKey(caller, store, name, params));
    }

    @Override
    public ObjectNode getKey(Principal caller, Store store, String name, String version) {
        return audited(caller, "KeyGet", keyId(store, name), version, () -> keys.get(caller, store, name, version));
    }

    @Override
    public ObjectNode updateKey(Principal caller, Store store, String name, String version, JsonNode params) {
        return audited(caller, "KeyUpdate", keyId(store, name), version,
                () -> keys.update(caller, store, name, version, params));
    }

    @Override
    public Page listKeys(Principal caller, Store store, int maxResults, String skipToken) {
        return audited(caller, "KeyList", storeUri(store), null,
                () -> keys.list(caller, store, maxResults, skipToken));
    }

    @Override
    public Page listKeyVersions(Principal caller, Store store, String name, int maxResults, String skipToken) {
        return audited(caller, "KeyListVersions", keyId(store, name), null,
                () -> keys.listVersions(caller, store, name, maxResults, skipToken));
    }

    @Override
    public ObjectNode deleteKey(Principal caller, Store store, String name) {
        return audited(caller, "KeyDelete", keyId(store, name), null, () -> keys.delete(caller, store, name));
    }

    @Override
    public ObjectNode getDeletedKey(Principal caller, Store store, String name) {
        return audited(caller, "KeyGetDeleted", keyId(store, name), null,
                () -> keys.getDeleted(caller, store, name));
    }

    @Override
    public Page listDeletedKeys(Principal caller, Store store, int maxResults, String skipToken) {
        return audited(caller, "KeyListDeleted", storeUri(store), null,
                () -> keys.listDeleted(caller, store, maxResults, skipToken));
    }

    @Override
    public ObjectNode recoverDeletedKey(Principal caller, Store store, String name) {
        return audited(caller, "KeyRecover", keyId(store, name), null, () -> keys.recover(caller, store, name));
    }

    @Override
    public void purgeDeletedKey(Principal caller, Store store, String name) {
        audited(caller, "KeyPurge", keyId(store, name), null, () -> {
            keys.purge(caller, store, name);
            return null;
        });
    }

    @Override
    public ObjectNode backupKey(Principal caller, Store store, String name) {
        return audited(caller, "KeyBackup", keyId(store, name), null, () -> keys.backup(caller, store, name));
    }

    @Override
    public ObjectNode restoreKey(Principal caller, Store store, JsonNode body) {
        return audited(caller, "KeyRestore", storeUri(store), null, () -> keys.restore(caller, store, body));
    }

    @Override
    public ObjectNode rotateKey(Principal caller, Store store, String name) {
        return audited(caller, "KeyRotate", keyId(store, name), null, () -> keys.rotate(caller, store, name));
    }

    @Override
    public ObjectNode getRotationPolicy(Principal caller, Store store, String name) {
        return audited(caller, "KeyRotationPolicyGet", keyId(store, name), null,
                () -> keys.getRotationPolicy(caller, store, name));
    }

    @Override
    public ObjectNode putRotationPolicy(Principal caller, Store store, String name, JsonNode policy) {
        return audited(caller, "KeyRotationPolicySet", keyId(store, name), null,
                () -> keys.putRotationPolicy(caller, store, name, policy));
    }

    @Override
    public ObjectNode keyOperation(Principal caller, Store store, String name, String version, String operation,
                                   JsonNode body) {
        return audited(caller, "Key" + operationName(operation), keyId(store, name), version,
                () -> crypto.operate(caller, store, name, version, operation, body));
    }

    // ---- Managed HSM local RBAC ----

    @Override
    public Page listRoleDefinitions(Principal caller, Store store, String scope, String filter) {
        return audited(caller, "RoleDefinitionList", storeUri(store), null,
                () -> localRbac.listDefinitions(caller, hsm(store), scope, filter));
    }

    @Override
    public ObjectNode getRoleDefinition(Principal caller, Store store, String scope, String definitionName) {
        return audited(caller, "RoleDefinitionGet", storeUri(store), null,
                () -> localRbac.getDefinition(caller, hsm(store), scope, definitionName));
    }

    @Override
    public ObjectNode putRoleDefinition(Principal caller, Store store, String scope, String definitionName,
                                        JsonNode body) {
        return audited(caller, "RoleDefinitionSet", storeUri(store), null,
                () -> localRbac.putDefinition(caller, hsm(store), scope, definitionName, body));
    }

    @Override
    public ObjectNode deleteRoleDefinition(Principal caller, Store store, String scope, String definitionName) {
        return audited(caller, "RoleDefinitionDelete", storeUri(store), null,
                () -> localRbac.deleteDefinition(caller, hsm(store), scope, definitionName));
    }

    @Override
    public Page listRoleAssignments(Principal caller, Store store, String scope, String filter) {
        return audited(caller, "RoleAssignmentList", storeUri(store), null,
                () -> localRbac.listAssignments(caller, hsm(store), scope, filter));
    }

    @Override
    public ObjectNode getRoleAssignment(Principal caller, Store store, String scope, String assignmentName) {
        return audited(caller, "RoleAssignmentGet", storeUri(store), null,
                () -> localRbac.getAssignment(caller, hsm(store), scope, assignmentName));
    }

    @Override
    public ObjectNode putRoleAssignment(Principal caller, Store store, String scope, String assignmentName,
                                        JsonNode body) {
        return audited(caller, "RoleAssignmentCreate", storeUri(store), null,
                () -> localRbac.putAssignment(caller, hsm(store), scope, assignmentName, body));
    }

    @Override
    public ObjectNode deleteRoleAssignment(Principal caller, Store store, String scope, String assignmentName) {
        return audited(caller, "RoleAssignmentDelete", storeUri(store), null,
                () -> localRbac.deleteAssignment(caller, hsm(store), scope, assignmentName));
    }

    // ---- for the other providers ----

    @Override
    public void onNewKeyVersion(Consumer<NewKeyVersion> listener) {
        writer.onNewKeyVersion(listener);
    }

    @Override
    public java.util.Optional<KeyFacts> describeKey(Store store, String name, String version) {
        return services.metadata().withHandle(h -> StoreRepository.find(h, store.kind(), store.name())
                .filter(s -> !s.isDeleted())
                .flatMap(s -> KeyRepository.find(h, s.storeId(), name).filter(k -> !k.isDeleted())
                        .flatMap(k -> (version == null || version.isEmpty()
                                ? KeyRepository.latest(h, s.storeId(), k.nameLower())
                                : KeyRepository.version(h, s.storeId(), k.nameLower(), version))
                                .map(v -> new KeyFacts(storeUri(store) + "/keys/" + k.name() + "/" + v.version(),
                                        v.type().wire(), v.enabled(), v.exportable(), v.releasePolicy() != null,
                                        s.isPremium(), s.purgeProtection(), s.rbacAuthorization(), s.location(),
                                        s.resourceId())))));
    }

    @Override
    public void close() {
        scheduler.close();
    }

    /** The timed work of this instance (one per node), for tests that run it from several threads at once. */
    KeyScheduler scheduler() {
        return scheduler;
    }

    // ---- helpers ----

    /** Local RBAC lives in managed HSMs; a vault's data plane has no role API. */
    private StoreRecord hsm(Store store) {
        if (store.kind() != Store.Kind.MANAGED_HSM) {
            throw ArmException.badRequest("BadParameter", "Role definitions and assignments are a Managed HSM"
                    + " feature; a key vault is authorised with access policies or Azure RBAC"
                    + " (Microsoft.Authorization on the management plane).");
        }
        return services.metadata().withHandle(h -> StoreRepository.requireActive(h, store));
    }

    /**
     * Runs the call and records it: allowed unless it was refused for lack of rights (403); the resource is the key
     * the result names when there is one (restore), else the one addressed.
     */
    private <T> T audited(Principal caller, String operation, String resource, String version, Supplier<T> call) {
        try {
            T result = call.get();
            String kid = result instanceof ObjectNode node
                    ? node.path("key").path("kid").asText(node.path("kid").asText(null)) : null;
            String resultVersion = kid == null ? null : kid.substring(kid.lastIndexOf('/') + 1);
            boolean versioned = resultVersion != null && VERSION.matcher(resultVersion).matches();
            services.audit().record(caller.objectId(), operation,
                    versioned ? kid.substring(0, kid.lastIndexOf('/')) : resource,
                    versioned ? resultVersion : version, true, null);
            return result;
        } catch (ArmException e) {
            services.audit().record(caller.objectId(), operation, resource, version, e.status() != 403,
                    e.status() + " " + e.code() + (e.innerCode() == null ? "" : "/" + e.innerCode()) + ": "
                            + e.getMessage());
            throw e;
        }
    }

    private String storeUri(Store store) {
        return StoreRecord.uri(services.endpoints(), store);
    }

    private String keyId(Store store, String name) {
        return storeUri(store) + "/keys/" + name;
    }

    private static String armId(String subscriptionId, String resourceGroup, Store store) {
        return StoreRecord.resourceId(subscriptionId, resourceGroup, store.kind(), store.name());
    }

    private static String operationName(String operation) {
        return switch (operation == null ? "" : operation.toLowerCase(Locale.ROOT)) {
            case "encrypt" -> "Encrypt";
            case "decrypt" -> "Decrypt";
            case "wrapkey" -> "Wrap";
            case "unwrapkey" -> "Unwrap";
            case "sign" -> "Sign";
            case "verify" -> "Verify";
            case "release" -> "Release";
            default -> "Operation";
        };
    }
}
