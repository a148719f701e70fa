package io.coffre.keyvault;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.identity.Principal;
import java.util.List;
import java.util.function.Consumer;

/**
 * The key service (Microsoft.KeyVault): vaults and managed HSMs, their keys, and every operation on them, always
 * on behalf of a caller who is authorised as Azure would (access policies, Azure RBAC, Managed HSM local RBAC).
 * The HTTP routes and the other providers (compute, backup) both go through this interface; key material never
 * leaves it except wrapped, as a backup blob bound to its security domain, or released to an attested target.
 *
 * <p>Every method throws {@link io.coffre.arm.ArmException} for anything the caller can fix (400/403/404/409).
 * Wire shapes (KeyBundle, KeyItem, DeletedKeyBundle, KeyOperationResult, rotation policy, role definitions and
 * assignments) are those of reference/azure-rest-shapes.md §1–§2 and are returned as JSON trees ready to send.
 */
public interface KeyService extends AutoCloseable {

    /** Which key store a request addresses: a Key Vault or a Managed HSM, by its DNS name label. */
    record Store(Kind kind, String name) {
        public enum Kind { VAULT, MANAGED_HSM }

        public static Store vault(String name) {
            return new Store(Kind.VAULT, name);
        }

        public static Store hsm(String name) {
            return new Store(Kind.MANAGED_HSM, name);
        }
    }

    // ---- management plane (ARM resources Microsoft.KeyVault/vaults and /managedHSMs) ----

    /** Creates or updates (PUT) a vault or HSM; {@code body} is the ARM request body. Returns the ARM resource. */
    ObjectNode putStore(Principal caller, String subscriptionId, String resourceGroup, Store store, JsonNode body);

    ObjectNode getStore(Principal caller, String subscriptionId, String resourceGroup, Store store);

    /** Lists active stores of a kind in a subscription, or in one resource group when {@code resourceGroup} is set. */
    List<ObjectNode> listStores(Principal caller, String subscriptionId, String resourceGroupOrNull, Store.Kind kind);

    /** Soft-deletes a store (its keys go with it; recoverable until purge). */
    void deleteStore(Principal caller, String subscriptionId, String resourceGroup, Store store);

    ObjectNode getDeletedStore(Principal caller, String subscriptionId, String location, Store store);

    List<ObjectNode> listDeletedStores(Principal caller, String subscriptionId, Store.Kind kind);

    /** Purges a soft-deleted store; refused under purge protection until the retention period has passed. */
    void purgeDeletedStore(Principal caller, String subscriptionId, String location, Store store);

    // ---- data plane: keys ----

    ObjectNode createKey(Principal caller, Store store, String name, JsonNode keyCreateParameters);

    ObjectNode importKey(Principal caller, Store store, String name, JsonNode keyImportParameters);

    /** @param version null or empty for the latest version */
    ObjectNode getKey(Principal caller, Store store, String name, String version);

    ObjectNode updateKey(Principal caller, Store store, String name, String version, JsonNode keyUpdateParameters);

    /** A page of KeyItems: {@code {"value":[...],"nextLink":...}} is built by the route from this. */
    Page listKeys(Principal caller, Store store, int maxResults, String skipToken);

    Page listKeyVersions(Principal caller, Store store, String name, int maxResults, String skipToken);

    ObjectNode deleteKey(Principal caller, Store store, String name);

    ObjectNode getDeletedKey(Principal caller, Store store, String name);

    Page listDeletedKeys(Principal caller, Store store, int maxResults, String skipToken);

    ObjectNode recoverDeletedKey(Principal caller, Store store, String name);

    void purgeDeletedKey(Principal caller, Store store, String name);

    /** {@code {"value":"<base64url blob>"}} covering every version, bound to the store's security domain. */
    ObjectNode backupKey(Principal caller, Store store, String name);

    ObjectNode restoreKey(Principal caller, Store store, JsonNode body);

    ObjectNode rotateKey(Principal caller, Store store, String name);

    ObjectNode getRotationPolicy(Principal caller, Store store, String name);

    ObjectNode putRotationPolicy(Principal caller, Store store, String name, JsonNode policy);

    /**
     * encrypt / decrypt / wrapkey / unwrapkey / sign / verify / release.
     *
     * @param operation lower-case wire name: {@code encrypt}, {@code decrypt}, {@code wrapkey}, {@code unwrapkey},
     *                  {@code sign}, {@code verify}, {@code release}
     */
    ObjectNode keyOperation(Principal caller, Store store, String name, String version, String operation,
                            JsonNode body);

    // ---- data plane: Managed HSM local RBAC (reference §2) ----

    /** @param scope {@code /}, {@code /keys} or {@code /keys/{name}} */
    Page listRoleDefinitions(Principal caller, Store store, String scope, String filter);

    ObjectNode getRoleDefinition(Principal caller, Store store, String scope, String definitionName);

    ObjectNode putRoleDefinition(Principal caller, Store store, String scope, String definitionName, JsonNode body);

    ObjectNode deleteRoleDefinition(Principal caller, Store store, String scope, String definitionName);

    Page listRoleAssignments(Principal caller, Store store, String scope, String filter);

    ObjectNode getRoleAssignment(Principal caller, Store store, String scope, String assignmentName);

    ObjectNode putRoleAssignment(Principal caller, Store store, String scope, String assignmentName, JsonNode body);

    ObjectNode deleteRoleAssignment(Principal caller, Store store, String scope, String assignmentName);

    // ---- for the other providers ----

    /** Called after a key gets a new version (create on an existing name, rotate, automatic rotation). */
    void onNewKeyVersion(Consumer<NewKeyVersion> listener);

    record NewKeyVersion(Store store, String keyName, String keyId) {
    }

    /**
     * What the platform must know about a key version before it relies on it (a Disk Encryption Set's key checks),
     * read without a caller: it returns no key material and nothing a caller could not learn from the ARM resource
     * of the store and the public key bundle, and the platform acts on keys only through {@link #keyOperation} as an
     * authorised principal, so skipping the check here widens nobody's access.
     *
     * @param version null or empty for the latest version
     * @return empty when the store, the key or the version does not exist (or is soft-deleted)
     */
    java.util.Optional<KeyFacts> describeKey(Store store, String name, String version);

    /**
     * @param keyId           the versioned key id ({@code https://{store}.../keys/{name}/{version}})
     * @param keyType         wire {@code kty}, e.g. {@code RSA-HSM}
     * @param premium         a Premium vault or a managed HSM
     * @param rbacAuthorization a vault whose data plane is authorised with Azure RBAC rather than access policies
     * @param location        the store's normalized location
     * @param storeResourceId the store's ARM id
     */
    record KeyFacts(String keyId, String keyType, boolean enabled, boolean exportable, boolean hasReleasePolicy,
                    boolean premium, boolean purgeProtection, boolean rbacAuthorization, String location,
                    String storeResourceId) {
    }

    /** Stops the service's background work (scheduled rotations and purges). */
    @Override
    default void close() {
    }

    /** A page of results and the opaque token of the next page (null on the last page). */
    record Page(List<ObjectNode> value, String nextSkipToken) {
    }
}
