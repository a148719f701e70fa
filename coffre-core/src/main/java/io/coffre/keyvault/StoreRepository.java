package io.coffre.keyvault;

import io.coffre.arm.ArmException;
import io.coffre.json.Json;
import io.coffre.keyvault.KeyService.Store;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.statement.Update;

/** SQL over {@code kv_stores}, and the cascade that purges a store with everything in it. */
final class StoreRepository {
    private StoreRepository() {
    }

    /** The store of that kind and name, active or soft-deleted. */
    static Optional<StoreRecord> find(Handle h, Store.Kind kind, String name) {
        return h.createQuery("SELECT * FROM kv_stores WHERE kind = :kind AND name_lower = :name")
                .bind("kind", kind.name()).bind("name", StoreRecord.nameKey(name))
                .map((rs, ctx) -> StoreRecord.map(rs)).findOne();
    }

    static Optional<StoreRecord> findById(Handle h, String storeId) {
        return h.createQuery("SELECT * FROM kv_stores WHERE store_id = :id").bind("id", storeId)
                .map((rs, ctx) -> StoreRecord.map(rs)).findOne();
    }

    /** The active store a data-plane request addresses; 404 when there is none (or it is soft-deleted). */
    static StoreRecord requireActive(Handle h, Store store) {
        return find(h, store.kind(), store.name()).filter(s -> !s.isDeleted()).orElseThrow(() ->
                ArmException.notFound(store.kind() == Store.Kind.VAULT ? "VaultNotFound" : "ManagedHsmNotFound",
                        "No " + (store.kind() == Store.Kind.VAULT ? "key vault" : "managed HSM") + " named '"
                                + store.name() + "' exists (or it is soft-deleted). Create or recover it through"
                                + " Microsoft.KeyVault first."));
    }

    static List<StoreRecord> listActive(Handle h, Store.Kind kind, String subscriptionId, String resourceGroupOrNull) {
        var query = h.createQuery("SELECT * FROM kv_stores WHERE kind = :kind AND lower(subscription_id) = :sub"
                        + " AND deleted_at IS NULL" + (resourceGroupOrNull == null ? "" : " AND lower(resource_group) = :rg")
                        + " ORDER BY name_lower")
                .bind("kind", kind.name()).bind("sub", subscriptionId.toLowerCase(Locale.ROOT));
        if (resourceGroupOrNull != null) {
            query.bind("rg", resourceGroupOrNull.toLowerCase(Locale.ROOT));
        }
        return query.map((rs, ctx) -> StoreRecord.map(rs)).list();
    }

    static List<StoreRecord> listDeleted(Handle h, Store.Kind kind, String subscriptionId) {
        return h.createQuery("SELECT * FROM kv_stores WHERE kind = :kind AND lower(subscription_id) = :sub"
                        + " AND deleted_at IS NOT NULL ORDER BY name_lower")
                .bind("kind", kind.name()).bind("sub", subscriptionId.toLowerCase(Locale.ROOT))
                .map((rs, ctx) -> StoreRecord.map(rs)).list();
    }

    static List<StoreRecord> duePurges(Handle h, long now) {
        return h.createQuery("SELECT * FROM kv_stores WHERE deleted_at IS NOT NULL AND scheduled_purge_at <= :now")
                .bind("now", now).map((rs, ctx) -> StoreRecord.map(rs)).list();
    }

    static void insert(Handle h, StoreRecord s) {
        bind(h.createUpdate("INSERT INTO kv_stores (store_id, kind, name, name_lower, subscription_id, resource_group,"
                + " location, domain_id, tenant_id, sku, retention_days, purge_protection, rbac_authorization,"
                + " access_policies, tags, settings, created_at, updated_at, deleted_at, scheduled_purge_at)"
                + " VALUES (:id, :kind, :name, :nameLower, :sub, :rg, :location, :domain, :tenant, :sku, :retention,"
                + " :purgeProtection, :rbac, :policies, :tags, :settings, :created, :updated, :deleted, :purgeAt)"), s)
                .execute();
    }

    /** Rewrites the mutable columns; identity, kind, name, placement and domain never change. */
    static void update(Handle h, StoreRecord s) {
        bind(h.createUpdate("UPDATE kv_stores SET tenant_id = :tenant, sku = :sku, retention_days = :retention,"
                + " purge_protection = :purgeProtection, rbac_authorization = :rbac, access_policies = :policies,"
                + " tags = :tags, settings = :settings, updated_at = :updated, deleted_at = :deleted,"
                + " scheduled_purge_at = :purgeAt WHERE store_id = :id"), s).execute();
    }

    private static Update bind(Update update, StoreRecord s) {
        return update.bind("id", s.storeId()).bind("kind", s.kind().name()).bind("name", s.name())
                .bind("nameLower", StoreRecord.nameKey(s.name())).bind("sub", s.subscriptionId())
                .bind("rg", s.resourceGroup()).bind("location", s.location()).bind("domain", s.domainId())
                .bind("tenant", s.tenantId()).bind("sku", s.sku()).bind("retention", s.retentionDays())
                .bind("purgeProtection", s.purgeProtection()).bind("rbac", s.rbacAuthorization())
                .bind("policies", Json.write(s.accessPolicies())).bind("tags", Json.write(s.tags()))
                .bind("settings", Json.write(s.settings())).bind("created", s.createdAt())
                .bind("updated", s.updatedAt()).bind("deleted", s.deletedAt()).bind("purgeAt", s.scheduledPurgeAt());
    }

    /** Removes the store, its keys and every version, and its role definitions and assignments. */
    static void purge(Handle h, StoreRecord s) {
        for (String table : List.of("kv_key_versions", "kv_keys", "kv_role_assignments", "kv_role_definitions",
                "kv_stores")) {
            h.createUpdate("DELETE FROM " + table + " WHERE store_id = :id").bind("id", s.storeId()).execute();
        }
    }
}
