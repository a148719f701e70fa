package io.coffre.keyvault;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.arm.ArmException;
import io.coffre.json.Json;
import io.coffre.keyvault.crypto.KeyType;
import io.coffre.keyvault.crypto.ReleasePolicy;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Parsing and validation of KeyCreateParameters, KeyImportParameters and KeyUpdateParameters, with the placement
 * rules of the store: what a standard vault, a premium vault and a managed HSM accept.
 */
final class KeyRequests {
    static final String POLICY_CONTENT_TYPE = "application/json; charset=utf-8";
    private static final int MAX_TAGS = 15;
    private static final List<String> KEY_OPERATIONS = List.of("encrypt", "decrypt", "sign", "verify", "wrapKey",
            "unwrapKey", "import", "export");
    private static final Map<KeyType, KeyType> HSM_VARIANT = Map.of(KeyType.RSA, KeyType.RSA_HSM,
            KeyType.RSA_HSM, KeyType.RSA_HSM, KeyType.EC, KeyType.EC_HSM, KeyType.EC_HSM, KeyType.EC_HSM,
            KeyType.OCT, KeyType.OCT_HSM, KeyType.OCT_HSM, KeyType.OCT_HSM);

    /** Attributes and metadata of a new version, as requested. */
    record VersionSettings(List<String> keyOps, boolean enabled, Long notBefore, Long expiresAt, boolean exportable,
                           ObjectNode tags, ObjectNode releasePolicy) {
    }

    /** What a PATCH asks to change; null fields stay as they are. */
    record Update(List<String> keyOps, Boolean enabled, JsonNode notBefore, JsonNode expiresAt, Boolean exportable,
                  ObjectNode tags, ObjectNode releasePolicy) {
    }

    private KeyRequests() {
    }

    static KeyType createType(StoreRecord store, JsonNode params) {
        KeyType type = KeyType.fromWire(params.path("kty").isTextual() ? params.path("kty").asText() : null);
        requirePlacement(store, type);
        return type;
    }

    static Integer optionalInt(JsonNode params, String field) {
        JsonNode value = params.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.canConvertToExactIntegral()) {
            throw badParameter("'" + field + "' must be an integer (got " + value + ").");
        }
        return value.asInt();
    }

    static String optionalText(JsonNode params, String field) {
        JsonNode value = params.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isTextual()) {
            throw badParameter("'" + field + "' must be a string (got " + value + ").");
        }
        return value.asText();
    }

    /** An imported key becomes HSM-protected when asked ({@code Hsm}) and always in a managed HSM. */
    static KeyType importType(StoreRecord store, KeyType jwkType, JsonNode params) {
        JsonNode hsm = params.get("Hsm");
        if (hsm != null && !hsm.isNull() && !hsm.isBoolean()) {
            throw badParameter("'Hsm' must be true or false (got " + hsm + ").");
        }
        KeyType type = store.isHsm() || (hsm != null && hsm.asBoolean()) ? HSM_VARIANT.get(jwkType) : jwkType;
        requirePlacement(store, type);
        return type;
    }

    /** A managed HSM holds only HSM key types; a vault holds no symmetric keys and HSM types only on Premium. */
    static void requirePlacement(StoreRecord store, KeyType type) {
        if (store.isHsm()) {
            if (!type.isHsm()) {
                throw badParameter("A managed HSM holds only HSM-protected keys: use kty RSA-HSM, EC-HSM or oct-HSM"
                        + " (got '" + type.wire() + "').");
            }
            return;
        }
        if (type.isSymmetric()) {
            throw badParameter("Key Vault does not hold symmetric keys (kty '" + type.wire() + "'); create oct-HSM"
                    + " keys in a managed HSM.");
        }
        if (type.isHsm() && !store.isPremium()) {
            throw badParameter("Key type '" + type.wire() + "' needs a Premium vault; '" + store.name() + "' is "
                    + store.sku() + ". Use kty '" + type.wire().replace("-HSM", "") + "' or a Premium vault.");
        }
    }

    /** Settings of a created or imported version ({@code key_ops} as given, else the defaults of the type). */
    static VersionSettings versionSettings(StoreRecord store, JsonNode params, KeyType type, JsonNode keyOps,
                                           List<String> defaultOps) {
        JsonNode attributes = object(params, "attributes");
        List<String> ops = keyOps == null || keyOps.isNull() ? defaultOps : keyOps(keyOps, type);
        boolean enabled = optionalBoolean(attributes, "enabled", true);
        Long nbf = time(attributes, "nbf");
        Long exp = time(attributes, "exp");
        requireOrder(nbf, exp);
        boolean exportable = optionalBoolean(attributes, "exportable", false);
        ObjectNode policy = releasePolicy(params.get("release_policy"));
        if (exportable) {
            requireExportable(store, policy);
        }
        return new VersionSettings(ops, enabled, nbf, exp, exportable, tags(params.get("tags")), policy);
    }

    static Update update(JsonNode params, KeyType type) {
        JsonNode attributes = object(params, "attributes");
        JsonNode ops = params.get("key_ops");
        JsonNode enabled = attributes.get("enabled");
        if (enabled != null && !enabled.isNull() && !enabled.isBoolean()) {
            throw badParameter("attributes.enabled must be true or false (got " + enabled + ").");
        }
        JsonNode exportable = attributes.get("exportable");
        if (exportable != null && !exportable.isNull() && !exportable.isBoolean()) {
            throw badParameter("attributes.exportable must be true or false (got " + exportable + ").");
        }
        time(attributes, "nbf");
        time(attributes, "exp");
        return new Update(ops == null || ops.isNull() ? null : keyOps(ops, type),
                enabled == null || enabled.isNull() ? null : enabled.asBoolean(),
                attributes.get("nbf"), attributes.get("exp"),
                exportable == null || exportable.isNull() ? null : exportable.asBoolean(),
                params.has("tags") && !params.get("tags").isNull() ? tags(params.get("tags")) : null,
                releasePolicy(params.get("release_policy")));
    }

    static void requireExportable(StoreRecord store, ObjectNode releasePolicy) {
        if (!store.isPremium()) {
            throw badParameter("AKV.SKR.1001: The exportable attribute is only supported with premium vaults; '"
                    + store.name() + "' is " + store.sku() + ".");
        }
        if (releasePolicy == null) {
            throw badParameter("AKV.SKR.1004: Exportable keys must have release policy.");
        }
    }

    /** {@code nbf} / {@code exp} as Unix seconds; JSON null clears. */
    static Long time(JsonNode attributes, String field) {
        JsonNode value = attributes.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.canConvertToExactIntegral() || value.asLong() < 0) {
            throw badParameter("attributes." + field + " must be a time in Unix seconds (got " + value + ").");
        }
        return value.asLong();
    }

    static void requireOrder(Long nbf, Long exp) {
        if (nbf != null && exp != null && exp <= nbf) {
            throw badParameter("attributes.exp (" + exp + ") must be after attributes.nbf (" + nbf + ").");
        }
    }

    /** The wire release policy, checked against the policy grammar; data kept as base64url. */
    static ObjectNode releasePolicy(JsonNode given) {
        if (given == null || given.isNull()) {
            return null;
        }
        if (!given.isObject()) {
            throw badParameter("release_policy must be an object {contentType, data, immutable}.");
        }
        String contentType = given.path("contentType").asText(POLICY_CONTENT_TYPE);
        if (!contentType.toLowerCase(Locale.ROOT).startsWith("application/json")) {
            throw badParameter("release_policy.contentType must be '" + POLICY_CONTENT_TYPE + "' (got '"
                    + contentType + "').");
        }
        byte[] data = Json.unb64url(given.path("data").isTextual() ? given.path("data").asText() : null,
                "release_policy.data");
        ReleasePolicy.parse(data);
        JsonNode immutable = given.get("immutable");
        if (immutable != null && !immutable.isNull() && !immutable.isBoolean()) {
            throw badParameter("release_policy.immutable must be true or false (got " + immutable + ").");
        }
        ObjectNode policy = Json.object();
        policy.put("contentType", contentType);
        policy.put("data", Json.b64url(data));
        policy.put("immutable", immutable != null && immutable.asBoolean());
        return policy;
    }

    static ObjectNode tags(JsonNode given) {
        if (given == null || given.isNull()) {
            return Json.object();
        }
        if (!given.isObject()) {
            throw badParameter("'tags' must be an object of string values.");
        }
        if (given.size() > MAX_TAGS) {
            throw badParameter("A key can have at most " + MAX_TAGS + " tags (got " + given.size() + ").");
        }
        given.properties().forEach(e -> {
            if (!e.getValue().isTextual()) {
                throw badParameter("The tag '" + e.getKey() + "' must have a string value.");
            }
        });
        return (ObjectNode) given.deepCopy();
    }

    static List<String> keyOps(JsonNode given, KeyType type) {
        if (!given.isArray()) {
            throw badParameter("key_ops must be an array of " + KEY_OPERATIONS + ".");
        }
        List<String> ops = new ArrayList<>();
        for (JsonNode op : given) {
            String canonical = KEY_OPERATIONS.stream().filter(k -> k.equalsIgnoreCase(op.asText())).findFirst()
                    .orElseThrow(() -> badParameter("'" + op.asText() + "' is not a key operation; use "
                            + KEY_OPERATIONS + "."));
            if (type.isEc() && List.of("encrypt", "decrypt", "wrapKey", "unwrapKey").contains(canonical)) {
                throw badParameter("Key operation '" + canonical + "' is not supported by " + type.wire()
                        + " keys; they sign and verify.");
            }
            if (!ops.contains(canonical)) {
                ops.add(canonical);
            }
        }
        return List.copyOf(ops);
    }

    private static JsonNode object(JsonNode params, String field) {
        JsonNode value = params.path(field);
        if (value.isMissingNode() || value.isNull()) {
            return Json.object();
        }
        if (!value.isObject()) {
            throw badParameter("'" + field + "' must be an object.");
        }
        return value;
    }

    private static boolean optionalBoolean(JsonNode attributes, String field, boolean fallback) {
        JsonNode value = attributes.get(field);
        if (value == null || value.isNull()) {
            return fallback;
        }
        if (!value.isBoolean()) {
            throw badParameter("attributes." + field + " must be true or false (got " + value + ").");
        }
        return value.asBoolean();
    }

    static ArmException badParameter(String message) {
        return ArmException.badRequest("BadParameter", message);
    }
}
