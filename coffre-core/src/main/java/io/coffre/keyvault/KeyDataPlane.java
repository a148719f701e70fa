package io.coffre.keyvault;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.arm.ArmException;
import io.coffre.identity.Principal;
import io.coffre.json.Json;
import io.coffre.keyvault.KeyService.Page;
import io.coffre.keyvault.KeyService.Store;
import io.coffre.keyvault.crypto.KeyMaterial;
import io.coffre.keyvault.crypto.KeyOperations;
import io.coffre.keyvault.crypto.KeyType;
import io.coffre.store.StoreConflictException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.Handle;

/**
 * The key lifecycle on the data plane: create, import, read, update, list, soft delete, recover, purge, backup,
 * restore, rotate and rotation policies. Every call is authorised first ({@link DataPlaneAccess}), then validated,
 * then written in one transaction.
 */
final class KeyDataPlane {
    private static final long DAY = 86_400;

    private final Services services;
    private final DataPlaneAccess access;
    private final KeyMaterials materials;
    private final KeyBundles bundles;
    private final KeyVersionWriter writer;

    KeyDataPlane(Services services, DataPlaneAccess access, KeyMaterials materials, KeyBundles bundles,
                 KeyVersionWriter writer) {
        this.services = services;
        this.access = access;
        this.materials = materials;
        this.bundles = bundles;
        this.writer = writer;
    }

    // ---- create, import, read, update ----

    ObjectNode create(Principal caller, Store ref, String name, JsonNode params) {
        KeyNames.require(name);
        StoreRecord store = authorize(caller, ref, KeyPermission.CREATE, name);
        KeyType type = KeyRequests.createType(store, params);
        KeyRequests.VersionSettings settings = KeyRequests.versionSettings(store, params, type,
                params.get("key_ops"), KeyOperations.defaultKeyOps(type));
        // The Java SDK (4.10) sends "public_exponent":0 when the caller set none; Azure takes that as the default.
        Integer exponent = KeyRequests.optionalInt(params, "public_exponent");
        KeyMaterial material = KeyMaterial.generate(type, KeyRequests.optionalInt(params, "key_size"),
                KeyRequests.optionalText(params, "crv"), exponent == null || exponent == 0 ? null : exponent);
        KeyVersionWriter.Written written = writer.add(store, name, material, settings, null).orElseThrow();
        return bundles.bundle(store, written.key(), written.version());
    }

    ObjectNode importKey(Principal caller, Store ref, String name, JsonNode params) {
        KeyNames.require(name);
        StoreRecord store = authorize(caller, ref, KeyPermission.IMPORT, name);
        JsonNode jwk = params.path("key");
        if (!jwk.isObject()) {
            throw KeyRequests.badParameter("'key' is required: the JSON Web Key to import, with its private members.");
        }
        KeyMaterial parsed = KeyMaterial.fromJwk(jwk);
        KeyType type = KeyRequests.importType(store, parsed.type(), params);
        KeyMaterial material = parsed.withType(type);
        KeyRequests.VersionSettings settings = KeyRequests.versionSettings(store, params, type, jwk.get("key_ops"),
                KeyOperations.defaultKeyOps(type));
        KeyVersionWriter.Written written = writer.add(store, name, material, settings, null).orElseThrow();
        return bundles.bundle(store, written.key(), written.version());
    }

    ObjectNode get(Principal caller, Store ref, String name, String version) {
        StoreRecord store = authorize(caller, ref, KeyPermission.GET, name);
        return services.metadata().withHandle(h -> {
            KeyRecord key = requireKey(h, store, name);
            return bundles.bundle(store, key, requireVersion(h, store, key, version));
        });
    }

    ObjectNode update(Principal caller, Store ref, String name, String version, JsonNode params) {
        StoreRecord store = authorize(caller, ref, KeyPermission.UPDATE, name);
        return services.metadata().inTransaction(h -> {
            KeyRecord key = requireKey(h, store, name);
            KeyVersion current = requireVersion(h, store, key, version);
            KeyRequests.Update u = KeyRequests.update(params, current.type());
            if (u.exportable() != null && u.exportable() != current.exportable()) {
                throw KeyRequests.badParameter("attributes.exportable is set when a key version is created and"
                        + " cannot be changed (it is " + current.exportable() + "). Create a new key instead.");
            }
            ObjectNode policy = current.releasePolicy();
            if (u.releasePolicy() != null) {
                if (policy != null && policy.path("immutable").asBoolean()
                        && !u.releasePolicy().equals(policy)) {
                    throw new ArmException(409, "Conflict", "The release policy of key '" + key.name()
                            + "' version " + current.version() + " is immutable and cannot be changed. Create a new"
                            + " key with the policy you need.", "ReleasePolicyImmutable");
                }
                policy = u.releasePolicy();
            }
            Long nbf = u.notBefore() == null ? current.notBefore() : KeyRequests.time(attributesOf(params), "nbf");
            Long exp = u.expiresAt() == null ? current.expiresAt() : KeyRequests.time(attributesOf(params), "exp");
            KeyRequests.requireOrder(nbf, exp);
            KeyVersion updated = current.withAttributes(u.keyOps() == null ? current.keyOps() : u.keyOps(),
                    u.enabled() == null ? current.enabled() : u.enabled(), nbf, exp, services.now(),
                    u.tags() == null ? current.tags() : u.tags(), policy);
            KeyRepository.updateVersion(h, store.storeId(), key.nameLower(), updated);
            return bundles.bundle(store, key, updated);
        });
    }

    private static JsonNode attributesOf(JsonNode params) {
        return params.path("attributes").isObject() ? params.path("attributes") : Json.object();
    }

    // ---- lists ----

    Page list(Principal caller, Store ref, int maxResults, String skipToken) {
        StoreRecord store = authorize(caller, ref, KeyPermission.LIST, null);
        return listKeys(store, false, maxResults, skipToken);
    }

    Page listDeleted(Principal caller, Store ref, int maxResults, String skipToken) {
        StoreRecord store = authorize(caller, ref, KeyPermission.LIST_DELETED, null);
        return listKeys(store, true, maxResults, skipToken);
    }

    private Page listKeys(StoreRecord store, boolean deleted, int maxResults, String skipToken) {
        int limit = pageSize(maxResults);
        String after = skipToken == null || skipToken.isBlank() ? "" : new String(Json.unb64url(skipToken,
                "$skiptoken"), StandardCharsets.UTF_8);
        return services.metadata().withHandle(h -> {
            List<KeyRecord> keys = KeyRepository.list(h, store.storeId(), deleted, after, limit + 1);
            List<ObjectNode> items = new ArrayList<>();
            for (KeyRecord key : keys.subList(0, Math.min(limit, keys.size()))) {
                KeyVersion latest = KeyRepository.latest(h, store.storeId(), key.nameLower()).orElseThrow();
                items.add(deleted ? bundles.deletedItem(store, key, latest) : bundles.item(store, key, latest, false));
            }
            String next = keys.size() > limit
                    ? Json.b64url(keys.get(limit - 1).nameLower().getBytes(StandardCharsets.UTF_8)) : null;
            return new Page(items, next);
        });
    }

    Page listVersions(Principal caller, Store ref, String name, int maxResults, String skipToken) {
        StoreRecord store = authorize(caller, ref, KeyPermission.LIST, name);
        int limit = pageSize(maxResults);
        int after = parseSeqToken(skipToken);
        return services.metadata().withHandle(h -> {
            KeyRecord key = requireKey(h, store, name);
            List<KeyVersion> versions = KeyRepository.versions(h, store.storeId(), key.nameLower(), after, limit + 1);
            List<ObjectNode> items = versions.subList(0, Math.min(limit, versions.size())).stream()
                    .map(v -> bundles.item(store, key, v, true)).toList();
            String next = versions.size() > limit ? Integer.toString(versions.get(limit - 1).seq()) : null;
            return new Page(items, next);
        });
    }

    // ---- delete, recover, purge ----

    ObjectNode delete(Principal caller, Store ref, String name) {
        StoreRecord store = authorize(caller, ref, KeyPermission.DELETE, name);
        long now = services.now();
        return services.metadata().inTransaction(h -> {
            KeyRecord key = requireKey(h, store, name);
            long purgeAt = now + store.retentionDays() * DAY;
            KeyRepository.markDeleted(h, key, now, purgeAt);
            KeyRecord deleted = new KeyRecord(key.storeId(), key.nameLower(), key.name(), key.rotationPolicy(),
                    key.policyCreated(), key.policyUpdated(), now, purgeAt);
            return bundles.deletedBundle(store, deleted, KeyRepository.latest(h, store.storeId(),
                    key.nameLower()).orElseThrow());
        });
    }

    ObjectNode getDeleted(Principal caller, Store ref, String name) {
        StoreRecord store = authorize(caller, ref, KeyPermission.GET_DELETED, name);
        return services.metadata().withHandle(h -> {
            KeyRecord key = requireDeletedKey(h, store, name);
            return bundles.deletedBundle(store, key, KeyRepository.latest(h, store.storeId(), key.nameLower())
                    .orElseThrow());
        });
    }

    ObjectNode recover(Principal caller, Store ref, String name) {
        StoreRecord store = authorize(caller, ref, KeyPermission.RECOVER, name);
        return services.metadata().inTransaction(h -> {
            KeyRecord key = requireDeletedKey(h, store, name);
            KeyRepository.markDeleted(h, key, null, null);
            KeyRecord recovered = new KeyRecord(key.storeId(), key.nameLower(), key.name(), key.rotationPolicy(),
                    key.policyCreated(), key.policyUpdated(), null, null);
            return bundles.bundle(store, recovered, KeyRepository.latest(h, store.storeId(), key.nameLower())
                    .orElseThrow());
        });
    }

    void purge(Principal caller, Store ref, String name) {
        StoreRecord store = authorize(caller, ref, KeyPermission.PURGE, name);
        services.metadata().inTransaction(h -> {
            KeyRecord key = requireDeletedKey(h, store, name);
            if (store.purgeProtection() && services.now() < key.scheduledPurgeAt()) {
                throw ArmException.forbidden("ForbiddenByPolicy", "Operation 'purge' is not allowed: purge protection"
                        + " is enabled on this " + store.kindLabel() + "; the key '" + key.name() + "' is purged"
                        + " automatically on " + Instant.ofEpochSecond(key.scheduledPurgeAt())
                        + ". Until then it can be recovered.");
            }
            KeyRepository.purge(h, store.storeId(), key.nameLower());
            return null;
        });
    }

    // ---- backup, restore ----

    ObjectNode backup(Principal caller, Store ref, String name) {
        StoreRecord store = authorize(caller, ref, KeyPermission.BACKUP, name);
        byte[] blob = services.metadata().withHandle(h -> {
            KeyRecord key = requireKey(h, store, name);
            ObjectNode payload = Json.object();
            payload.put("name", key.name());
            if (key.rotationPolicy() != null) {
                payload.set("rotationPolicy", key.rotationPolicy());
                payload.put("rotationPolicyCreated", key.policyCreated());
                payload.put("rotationPolicyUpdated", key.policyUpdated());
            }
            ArrayNode versions = payload.putArray("versions");
            for (KeyVersion v : KeyRepository.versions(h, store.storeId(), key.nameLower())) {
                ObjectNode entry = versions.addObject();
                entry.put("version", v.version());
                entry.put("seq", v.seq());
                entry.set("key_ops", Json.MAPPER.valueToTree(v.keyOps()));
                entry.put("enabled", v.enabled());
                entry.put("nbf", v.notBefore());
                entry.put("exp", v.expiresAt());
                entry.put("exportable", v.exportable());
                entry.put("created", v.created());
                entry.put("updated", v.updated());
                entry.set("tags", v.tags());
                entry.set("release_policy", v.releasePolicy());
                entry.put("material", Json.b64url(materials.open(h, store, key.nameLower(), v).encode()));
            }
            return KeyBackupFormat.write(store.domainId(), services.domains().sealer(h, store.domainId()), payload);
        });
        ObjectNode result = Json.object();
        result.put("value", Json.b64url(blob));
        return result;
    }

    /**
     * A vault authorises restore before reading the blob; a managed HSM can grant restore per key, so it authorises
     * once the blob (sealed to its own domain) names the key.
     */
    ObjectNode restore(Principal caller, Store ref, JsonNode body) {
        StoreRecord store = ref.kind() == Store.Kind.VAULT ? authorize(caller, ref, KeyPermission.RESTORE, null)
                : services.metadata().withHandle(h -> StoreRepository.requireActive(h, ref));
        byte[] blob = Json.unb64url(body.path("value").isTextual() ? body.path("value").asText() : null, "value");
        KeyBackupFormat.Envelope envelope = KeyBackupFormat.read(blob);
        if (!envelope.securityDomain().equals(store.domainId())) {
            throw new ArmException(400, "BadParameter", "This backup belongs to another security domain and cannot"
                    + " be restored into " + store.kindLabel() + " '" + store.name() + "'. " + (store.isHsm()
                    ? "Restore it into the managed HSM it came from, or an HSM sharing its security domain."
                    : "A key backup restores only into a vault of the same subscription and geography as the vault"
                    + " it was taken from."), "SecurityDomainMismatch");
        }
        ObjectNode payload = services.metadata().withHandle(h ->
                KeyBackupFormat.open(envelope, services.domains().sealer(h, store.domainId())));
        String name = payload.path("name").asText();
        if (store.isHsm()) {
            services.metadata().withHandle(h -> {
                access.require(h, caller, store, KeyPermission.RESTORE, name);
                return null;
            });
        }
        try {
            return services.metadata().inTransaction(h -> restoreInTransaction(h, store, name, payload));
        } catch (StoreConflictException raced) {
            throw nameExists(name, store);
        }
    }

    private ObjectNode restoreInTransaction(Handle h, StoreRecord store, String name, ObjectNode payload) {
        if (KeyRepository.find(h, store.storeId(), name).isPresent()) {
            throw nameExists(name, store);
        }
        KeyRepository.insert(h, store.storeId(), name);
        KeyRecord key = KeyRepository.find(h, store.storeId(), name).orElseThrow();
        if (payload.hasNonNull("rotationPolicy")) {
            KeyRepository.setRotationPolicy(h, key, Json.write(payload.get("rotationPolicy")),
                    payload.path("rotationPolicyCreated").asLong(), payload.path("rotationPolicyUpdated").asLong());
            key = KeyRepository.find(h, store.storeId(), name).orElseThrow();
        }
        KeyVersion latest = null;
        for (JsonNode entry : payload.path("versions")) {
            KeyMaterial material = KeyMaterial.decode(Json.unb64url(entry.path("material").asText(), "material"));
            KeyRequests.requirePlacement(store, material.type());
            List<String> ops = new ArrayList<>();
            entry.path("key_ops").forEach(op -> ops.add(op.asText()));
            String version = entry.path("version").asText();
            KeyVersion v = new KeyVersion(version, entry.path("seq").asInt(), material.type(),
                    material.type().isEc() ? null : material.keySize(), material.curve(), List.copyOf(ops),
                    entry.path("enabled").asBoolean(), longOrNull(entry, "nbf"), longOrNull(entry, "exp"),
                    entry.path("exportable").asBoolean(), entry.path("created").asLong(),
                    entry.path("updated").asLong(), (ObjectNode) entry.path("tags"),
                    entry.hasNonNull("release_policy") ? (ObjectNode) entry.get("release_policy") : null,
                    material.publicJwk(null, null), material.thumbprint(),
                    materials.seal(h, store, key.nameLower(), version, material));
            KeyRepository.insertVersion(h, store.storeId(), key.nameLower(), v);
            latest = v;
        }
        if (latest == null) {
            throw KeyRequests.badParameter("The backup holds no key version.");
        }
        return bundles.bundle(store, key, latest);
    }

    private static Long longOrNull(JsonNode node, String field) {
        return node.hasNonNull(field) ? node.get(field).asLong() : null;
    }

    private static ArmException nameExists(String name, StoreRecord store) {
        return ArmException.conflict("Conflict", "A key named " + name + " already exists (or is soft-deleted) in"
                + " this " + store.kindLabel() + "; delete and purge it or restore into another "
                + store.kindLabel() + ".");
    }

    // ---- rotation ----

    ObjectNode rotate(Principal caller, Store ref, String name) {
        StoreRecord store = authorize(caller, ref, KeyPermission.ROTATE, name);
        KeyVersionWriter.Written written = rotateNow(store, name, null)
                .orElseThrow(() -> new IllegalStateException("an unconditional rotation was skipped"));
        return bundles.bundle(store, written.key(), written.version());
    }

    /**
     * A new version like the latest (type, size or curve, operations, release policy, tags), expiring after the
     * rotation policy's {@code expiryTime} when it sets one.
     *
     * @param expectedLatestSeq for automatic rotation: rotate only if no other version appeared meanwhile
     */
    Optional<KeyVersionWriter.Written> rotateNow(StoreRecord store, String name, Integer expectedLatestSeq) {
        record Basis(KeyRecord key, KeyVersion latest) {
        }
        Basis basis = services.metadata().withHandle(h -> {
            KeyRecord key = requireKey(h, store, name);
            return new Basis(key, KeyRepository.latest(h, store.storeId(), key.nameLower()).orElseThrow());
        });
        KeyVersion latest = basis.latest();
        KeyMaterial material = KeyMaterial.generate(latest.type(), latest.keySize(), latest.curve(), null);
        KeyRequests.VersionSettings settings = new KeyRequests.VersionSettings(latest.keyOps(), true, null,
                RotationPolicies.rotatedExpiry(basis.key(), services.now()), latest.exportable(), latest.tags(),
                latest.releasePolicy());
        return writer.add(store, basis.key().name(), material, settings, expectedLatestSeq);
    }

    ObjectNode getRotationPolicy(Principal caller, Store ref, String name) {
        StoreRecord store = authorize(caller, ref, KeyPermission.GET_ROTATION_POLICY, name);
        return services.metadata().withHandle(h -> {
            KeyRecord key = requireKey(h, store, name);
            return RotationPolicies.render(bundles.keyId(store, key), key, store.isHsm());
        });
    }

    ObjectNode putRotationPolicy(Principal caller, Store ref, String name, JsonNode body) {
        StoreRecord store = authorize(caller, ref, KeyPermission.SET_ROTATION_POLICY, name);
        ObjectNode policy = RotationPolicies.parse(body, store.isHsm());
        long now = services.now();
        return services.metadata().inTransaction(h -> {
            KeyRecord key = requireKey(h, store, name);
            long created = key.policyCreated() == null ? now : key.policyCreated();
            KeyRepository.setRotationPolicy(h, key, Json.write(policy), created, now);
            KeyRecord updated = new KeyRecord(key.storeId(), key.nameLower(), key.name(), policy, created, now,
                    null, null);
            return RotationPolicies.render(bundles.keyId(store, key), updated, store.isHsm());
        });
    }

    // ---- shared lookups ----

    /** The active store, after checking the caller may do {@code permission} on it (or on the key). */
    StoreRecord authorize(Principal caller, Store ref, KeyPermission permission, String keyName) {
        return services.metadata().withHandle(h -> {
            StoreRecord store = StoreRepository.requireActive(h, ref);
            access.require(h, caller, store, permission, keyName);
            return store;
        });
    }

    static KeyRecord requireKey(Handle h, StoreRecord store, String name) {
        return KeyRepository.find(h, store.storeId(), name).filter(k -> !k.isDeleted())
                .orElseThrow(() -> keyNotFound(name, store));
    }

    static KeyVersion requireVersion(Handle h, StoreRecord store, KeyRecord key, String version) {
        Optional<KeyVersion> found = version == null || version.isEmpty()
                ? KeyRepository.latest(h, store.storeId(), key.nameLower())
                : KeyRepository.version(h, store.storeId(), key.nameLower(), version);
        return found.orElseThrow(() -> keyNotFound(key.name() + "/" + version, store));
    }

    private static KeyRecord requireDeletedKey(Handle h, StoreRecord store, String name) {
        return KeyRepository.find(h, store.storeId(), name).filter(KeyRecord::isDeleted)
                .orElseThrow(() -> ArmException.notFound("KeyNotFound", "Deleted Key not found: " + name
                        + ". Only a soft-deleted key (DELETE /keys/" + name + ") can be read, recovered or purged"
                        + " here."));
    }

    private static ArmException keyNotFound(String nameOrId, StoreRecord store) {
        return ArmException.notFound("KeyNotFound", "A key with (name/id) " + nameOrId + " was not found in this "
                + store.kindLabel() + ". If you recently deleted this key you may be able to recover it using the"
                + " correct recovery command.");
    }

    private static int pageSize(int maxResults) {
        if (maxResults <= 0) {
            return 25;
        }
        if (maxResults > 25) {
            throw KeyRequests.badParameter("maxresults must be from 1 to 25 (got " + maxResults + ").");
        }
        return maxResults;
    }

    private static int parseSeqToken(String skipToken) {
        if (skipToken == null || skipToken.isBlank()) {
            return 0;
        }
        try {
            return Integer.parseInt(skipToken.trim());
        } catch (NumberFormatException e) {
            throw KeyRequests.badParameter("The $skiptoken '" + skipToken + "' is not one this service issued; follow"
                    + " nextLink unchanged.");
        }
    }
}
