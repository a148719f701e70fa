package io.coffre.keyvault;

import io.coffre.json.Json;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.Handle;

/** SQL over {@code kv_keys} and {@code kv_key_versions}. Key names are looked up by their lower-case form. */
final class KeyRepository {
    private KeyRepository() {
    }

    static Optional<KeyRecord> find(Handle h, String storeId, String name) {
        return h.createQuery("SELECT * FROM kv_keys WHERE store_id = :store AND name_lower = :name")
                .bind("store", storeId).bind("name", StoreRecord.nameKey(name))
                .map((rs, ctx) -> KeyRecord.map(rs)).findOne();
    }

    /** A page of keys ordered by name, active or soft-deleted, after {@code afterNameLower} (exclusive). */
    static List<KeyRecord> list(Handle h, String storeId, boolean deleted, String afterNameLower, int limit) {
        return h.createQuery("SELECT * FROM kv_keys WHERE store_id = :store AND deleted_at IS "
                        + (deleted ? "NOT NULL" : "NULL") + " AND name_lower > :after ORDER BY name_lower LIMIT :limit")
                .bind("store", storeId).bind("after", afterNameLower == null ? "" : afterNameLower)
                .bind("limit", limit).map((rs, ctx) -> KeyRecord.map(rs)).list();
    }

    static void insert(Handle h, String storeId, String name) {
        h.createUpdate("INSERT INTO kv_keys (store_id, name_lower, name) VALUES (:store, :nameLower, :name)")
                .bind("store", storeId).bind("nameLower", StoreRecord.nameKey(name)).bind("name", name).execute();
    }

    static void markDeleted(Handle h, KeyRecord key, Long deletedAt, Long purgeAt) {
        h.createUpdate("UPDATE kv_keys SET deleted_at = :deleted, scheduled_purge_at = :purgeAt"
                        + " WHERE store_id = :store AND name_lower = :name")
                .bind("deleted", deletedAt).bind("purgeAt", purgeAt)
                .bind("store", key.storeId()).bind("name", key.nameLower()).execute();
    }

    static void setRotationPolicy(Handle h, KeyRecord key, String policyJson, long created, long updated) {
        h.createUpdate("UPDATE kv_keys SET rotation_policy = :policy, rotation_policy_created = :created,"
                        + " rotation_policy_updated = :updated WHERE store_id = :store AND name_lower = :name")
                .bind("policy", policyJson).bind("created", created).bind("updated", updated)
                .bind("store", key.storeId()).bind("name", key.nameLower()).execute();
    }

    static void purge(Handle h, String storeId, String nameLower) {
        for (String table : List.of("kv_key_versions", "kv_keys")) {
            h.createUpdate("DELETE FROM " + table + " WHERE store_id = :store AND name_lower = :name")
                    .bind("store", storeId).bind("name", nameLower).execute();
        }
    }

    /** Soft-deleted keys whose retention is over. */
    static List<KeyRecord> duePurges(Handle h, long now) {
        return h.createQuery("SELECT * FROM kv_keys WHERE deleted_at IS NOT NULL AND scheduled_purge_at <= :now")
                .bind("now", now).map((rs, ctx) -> KeyRecord.map(rs)).list();
    }

    /** Active keys with a rotation policy in active stores: the candidates for automatic rotation. */
    static List<KeyRecord> withRotationPolicy(Handle h) {
        return h.createQuery("SELECT k.* FROM kv_keys k JOIN kv_stores s ON s.store_id = k.store_id"
                        + " WHERE k.rotation_policy IS NOT NULL AND k.deleted_at IS NULL AND s.deleted_at IS NULL")
                .map((rs, ctx) -> KeyRecord.map(rs)).list();
    }

    // ---- versions ----

    static List<KeyVersion> versions(Handle h, String storeId, String nameLower) {
        return h.createQuery("SELECT * FROM kv_key_versions WHERE store_id = :store AND name_lower = :name ORDER BY seq")
                .bind("store", storeId).bind("name", nameLower).map((rs, ctx) -> KeyVersion.map(rs)).list();
    }

    /** Versions in creation order after {@code afterSeq} (exclusive). */
    static List<KeyVersion> versions(Handle h, String storeId, String nameLower, int afterSeq, int limit) {
        return h.createQuery("SELECT * FROM kv_key_versions WHERE store_id = :store AND name_lower = :name"
                        + " AND seq > :after ORDER BY seq LIMIT :limit")
                .bind("store", storeId).bind("name", nameLower).bind("after", afterSeq).bind("limit", limit)
                .map((rs, ctx) -> KeyVersion.map(rs)).list();
    }

    static Optional<KeyVersion> latest(Handle h, String storeId, String nameLower) {
        return h.createQuery("SELECT * FROM kv_key_versions WHERE store_id = :store AND name_lower = :name"
                        + " ORDER BY seq DESC LIMIT 1")
                .bind("store", storeId).bind("name", nameLower).map((rs, ctx) -> KeyVersion.map(rs)).findOne();
    }

    static Optional<KeyVersion> version(Handle h, String storeId, String nameLower, String version) {
        return h.createQuery("SELECT * FROM kv_key_versions WHERE store_id = :store AND name_lower = :name"
                        + " AND version = :version")
                .bind("store", storeId).bind("name", nameLower).bind("version", version)
                .map((rs, ctx) -> KeyVersion.map(rs)).findOne();
    }

    static void insertVersion(Handle h, String storeId, String nameLower, KeyVersion v) {
        h.createUpdate("INSERT INTO kv_key_versions (store_id, name_lower, version, seq, kty, key_size, curve, key_ops,"
                        + " enabled, not_before, expires_at, exportable, created_at, updated_at, tags, release_policy,"
                        + " public_jwk, thumbprint, sealed_material) VALUES (:store, :name, :version, :seq, :kty,"
                        + " :keySize, :curve, :ops, :enabled, :nbf, :exp, :exportable, :created, :updated, :tags,"
                        + " :policy, :jwk, :thumbprint, :material)")
                .bind("store", storeId).bind("name", nameLower).bind("version", v.version()).bind("seq", v.seq())
                .bind("kty", v.type().wire()).bind("keySize", v.keySize()).bind("curve", v.curve())
                .bind("ops", Json.write(v.keyOps())).bind("enabled", v.enabled()).bind("nbf", v.notBefore())
                .bind("exp", v.expiresAt()).bind("exportable", v.exportable()).bind("created", v.created())
                .bind("updated", v.updated()).bind("tags", Json.write(v.tags()))
                .bind("policy", v.releasePolicy() == null ? null : Json.write(v.releasePolicy()))
                .bind("jwk", Json.write(v.publicJwk())).bind("thumbprint", v.thumbprint())
                .bind("material", v.sealedMaterial()).execute();
    }

    /** Rewrites what PATCH may change; the material and identity of a version never change. */
    static void updateVersion(Handle h, String storeId, String nameLower, KeyVersion v) {
        h.createUpdate("UPDATE kv_key_versions SET key_ops = :ops, enabled = :enabled, not_before = :nbf,"
                        + " expires_at = :exp, updated_at = :updated, tags = :tags, release_policy = :policy"
                        + " WHERE store_id = :store AND name_lower = :name AND version = :version")
                .bind("ops", Json.write(v.keyOps())).bind("enabled", v.enabled()).bind("nbf", v.notBefore())
                .bind("exp", v.expiresAt()).bind("updated", v.updated()).bind("tags", Json.write(v.tags()))
                .bind("policy", v.releasePolicy() == null ? null : Json.write(v.releasePolicy()))
                .bind("store", storeId).bind("name", nameLower).bind("version", v.version()).execute();
    }
}
