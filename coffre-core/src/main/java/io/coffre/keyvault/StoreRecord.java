package io.coffre.keyvault;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.Endpoints;
import io.coffre.keyvault.KeyService.Store;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Locale;

/**
 * One vault or managed HSM as stored ({@code kv_stores}). Times are Unix seconds.
 *
 * @param sku          {@code standard} / {@code premium} for vaults, e.g. {@code Standard_B1} for HSMs
 * @param settings     the other ARM properties the caller set and gets back unchanged (e.g. enabledForDiskEncryption)
 * @param accessPolicies vault access policies as given (ignored when {@code rbacAuthorization})
 */
record StoreRecord(String storeId, Store.Kind kind, String name, String subscriptionId, String resourceGroup,
                   String location, String domainId, String tenantId, String sku, int retentionDays,
                   boolean purgeProtection, boolean rbacAuthorization, ArrayNode accessPolicies, ObjectNode tags,
                   ObjectNode settings, long createdAt, long updatedAt, Long deletedAt, Long scheduledPurgeAt) {

    static final int DEFAULT_RETENTION_DAYS = 90;

    Store store() {
        return new Store(kind, name);
    }

    boolean isHsm() {
        return kind == Store.Kind.MANAGED_HSM;
    }

    boolean isDeleted() {
        return deletedAt != null;
    }

    /** HSM-protected keys and exportable keys need a Premium vault; a managed HSM is all HSM. */
    boolean isPremium() {
        return isHsm() || "premium".equals(sku);
    }

    /** Data-plane base URI, the prefix of every key id. */
    String uri(Endpoints endpoints) {
        return uri(endpoints, store());
    }

    static String uri(Endpoints endpoints, Store store) {
        return store.kind() == Store.Kind.VAULT ? endpoints.vaultUri(store.name())
                : endpoints.managedHsmUri(store.name());
    }

    String resourceId() {
        return resourceId(subscriptionId, resourceGroup, kind, name);
    }

    static String resourceId(String subscriptionId, String resourceGroup, Store.Kind kind, String name) {
        return "/subscriptions/" + subscriptionId + "/resourceGroups/" + resourceGroup
                + "/providers/Microsoft.KeyVault/" + collection(kind) + "/" + name;
    }

    static String collection(Store.Kind kind) {
        return kind == Store.Kind.VAULT ? "vaults" : "managedHSMs";
    }

    static String resourceType(Store.Kind kind) {
        return "Microsoft.KeyVault/" + collection(kind);
    }

    /** How the service describes a store in messages: {@code kv1;location=uaenorth}, as Azure does. */
    String describe() {
        return name + ";location=" + location;
    }

    String kindLabel() {
        return isHsm() ? "managed HSM" : "key vault";
    }

    /**
     * Soft delete is always on; purge protection removes the caller's ability to purge, and a retention shorter than
     * the 90-day default is "customized".
     */
    String recoveryLevel() {
        String base = retentionDays < DEFAULT_RETENTION_DAYS ? "CustomizedRecoverable" : "Recoverable";
        return purgeProtection ? base : base + "+Purgeable";
    }

    static String nameKey(String name) {
        return name.toLowerCase(Locale.ROOT);
    }

    static StoreRecord map(ResultSet rs) throws SQLException {
        return new StoreRecord(rs.getString("store_id"), Store.Kind.valueOf(rs.getString("kind")),
                rs.getString("name"), rs.getString("subscription_id"), rs.getString("resource_group"),
                rs.getString("location"), rs.getString("domain_id"), rs.getString("tenant_id"), rs.getString("sku"),
                rs.getInt("retention_days"), rs.getBoolean("purge_protection"), rs.getBoolean("rbac_authorization"),
                (ArrayNode) Rows.read(rs.getString("access_policies")),
                (ObjectNode) Rows.read(rs.getString("tags")),
                (ObjectNode) Rows.read(rs.getString("settings")),
                rs.getLong("created_at"), rs.getLong("updated_at"), Rows.nullableLong(rs, "deleted_at"),
                Rows.nullableLong(rs, "scheduled_purge_at"));
    }
}
