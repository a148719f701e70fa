package io.coffre.keyvault;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.Endpoints;
import io.coffre.json.Json;

/**
 * The wire shapes of keys: KeyBundle, KeyItem, DeletedKeyBundle, DeletedKeyItem (reference azure-rest-shapes §1.3),
 * plus a top-level {@code thumbprint} (RFC 7638) so a version can be recognised wherever it is restored.
 */
final class KeyBundles {
    private final Endpoints endpoints;

    KeyBundles(Endpoints endpoints) {
        this.endpoints = endpoints;
    }

    /** {@code {storeUri}/keys/{name}}: the id of a key without version. */
    String keyId(StoreRecord store, KeyRecord key) {
        return store.uri(endpoints) + "/keys/" + key.name();
    }

    String versionId(StoreRecord store, KeyRecord key, KeyVersion version) {
        return keyId(store, key) + "/" + version.version();
    }

    ObjectNode bundle(StoreRecord store, KeyRecord key, KeyVersion version) {
        ObjectNode bundle = Json.object();
        bundle.set("key", jwk(versionId(store, key, version), version));
        bundle.set("attributes", attributes(store, version));
        if (!version.tags().isEmpty()) {
            bundle.set("tags", version.tags());
        }
        if (version.releasePolicy() != null) {
            bundle.set("release_policy", version.releasePolicy());
        }
        bundle.put("thumbprint", version.thumbprint());
        return bundle;
    }

    /** KeyItem of a key (unversioned kid, latest version's attributes) or of one version (versioned kid). */
    ObjectNode item(StoreRecord store, KeyRecord key, KeyVersion version, boolean versioned) {
        ObjectNode item = Json.object();
        item.put("kid", versioned ? versionId(store, key, version) : keyId(store, key));
        item.set("attributes", attributes(store, version));
        if (!version.tags().isEmpty()) {
            item.set("tags", version.tags());
        }
        return item;
    }

    ObjectNode deletedBundle(StoreRecord store, KeyRecord key, KeyVersion latest) {
        return withDeletion(bundle(store, key, latest), store, key);
    }

    ObjectNode deletedItem(StoreRecord store, KeyRecord key, KeyVersion latest) {
        return withDeletion(item(store, key, latest, false), store, key);
    }

    private ObjectNode withDeletion(ObjectNode node, StoreRecord store, KeyRecord key) {
        node.put("recoveryId", store.uri(endpoints) + "/deletedkeys/" + key.name());
        node.put("deletedDate", key.deletedAt());
        node.put("scheduledPurgeDate", key.scheduledPurgeAt());
        return node;
    }

    /** The public JWK: kid, kty, key_ops, then the public members; never private material. */
    ObjectNode jwk(String kid, KeyVersion version) {
        ObjectNode jwk = Json.object();
        jwk.put("kid", kid);
        jwk.put("kty", version.type().wire());
        ArrayNode ops = jwk.putArray("key_ops");
        version.keyOps().forEach(ops::add);
        version.publicJwk().properties().forEach(e -> {
            if (!e.getKey().equals("kty")) {
                jwk.set(e.getKey(), e.getValue());
            }
        });
        return jwk;
    }

    ObjectNode attributes(StoreRecord store, KeyVersion version) {
        ObjectNode attributes = Json.object();
        attributes.put("enabled", version.enabled());
        if (version.notBefore() != null) {
            attributes.put("nbf", version.notBefore());
        }
        if (version.expiresAt() != null) {
            attributes.put("exp", version.expiresAt());
        }
        attributes.put("created", version.created());
        attributes.put("updated", version.updated());
        attributes.put("recoveryLevel", store.recoveryLevel());
        attributes.put("recoverableDays", store.retentionDays());
        attributes.put("exportable", version.exportable());
        return attributes;
    }
}
