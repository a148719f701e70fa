package io.coffre.keyvault;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.arm.ArmException;
import io.coffre.identity.Principal;
import io.coffre.json.Json;
import io.coffre.keyvault.KeyService.Store;
import io.coffre.keyvault.crypto.KeyMaterial;
import io.coffre.keyvault.crypto.KeyOperations;
import io.coffre.keyvault.crypto.ReleasePolicy;
import io.coffre.keyvault.crypto.SecureKeyRelease;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Key operations: encrypt, decrypt, wrapkey, unwrapkey, sign, verify (through {@link KeyOperations}) and secure key
 * release to an attested environment. The key version must be enabled, inside its nbf/exp window and allow the
 * operation in its {@code key_ops}.
 */
final class KeyCrypto {
    /** The api-version reported in a release when the route does not pass the request's ({@code "api-version"}). */
    private static final String DEFAULT_RELEASE_API_VERSION = "7.4";

    private enum Operation {
        ENCRYPT("encrypt", KeyPermission.ENCRYPT),
        DECRYPT("decrypt", KeyPermission.DECRYPT),
        WRAPKEY("wrapKey", KeyPermission.WRAP_KEY),
        UNWRAPKEY("unwrapKey", KeyPermission.UNWRAP_KEY),
        SIGN("sign", KeyPermission.SIGN),
        VERIFY("verify", KeyPermission.VERIFY),
        RELEASE("release", KeyPermission.RELEASE);

        final String keyOp;
        final KeyPermission permission;

        Operation(String keyOp, KeyPermission permission) {
            this.keyOp = keyOp;
            this.permission = permission;
        }

        static Operation of(String wire) {
            String lower = wire == null ? "" : wire.toLowerCase(Locale.ROOT);
            return Arrays.stream(values()).filter(o -> o.name().toLowerCase(Locale.ROOT).equals(lower)).findFirst()
                    .orElseThrow(() -> KeyRequests.badParameter("Unknown key operation '" + wire + "'; use one of "
                            + Arrays.stream(values()).map(o -> o.name().toLowerCase(Locale.ROOT))
                            .collect(Collectors.joining(", ")) + "."));
        }
    }

    private final Services services;
    private final KeyDataPlane keys;
    private final KeyMaterials materials;
    private final KeyBundles bundles;
    private final ReleaseSigner signer;

    KeyCrypto(Services services, KeyDataPlane keys, KeyMaterials materials, KeyBundles bundles,
              ReleaseSigner signer) {
        this.services = services;
        this.keys = keys;
        this.materials = materials;
        this.bundles = bundles;
        this.signer = signer;
    }

    /** What an operation needs of the key, with its material opened. */
    private record Target(StoreRecord store, KeyRecord key, KeyVersion version, KeyMaterial material) {
    }

    ObjectNode operate(Principal caller, Store ref, String name, String version, String operation, JsonNode body) {
        Operation op = Operation.of(operation);
        StoreRecord store = keys.authorize(caller, ref, op.permission, name);
        Target target = services.metadata().withHandle(h -> {
            KeyRecord key = KeyDataPlane.requireKey(h, store, name);
            KeyVersion v = KeyDataPlane.requireVersion(h, store, key, version);
            requireUsable(op, key, v);
            return new Target(store, key, v, materials.open(h, store, key.nameLower(), v));
        });
        if (op == Operation.RELEASE) {
            return release(target, version, body);
        }
        String alg = KeyRequests.optionalText(body, "alg");
        ObjectNode result = Json.object();
        String kid = bundles.versionId(store, target.key(), target.version());
        switch (op) {
            case ENCRYPT -> {
                KeyOperations.Result r = KeyOperations.encrypt(target.material(), alg, bytes(body, "value"),
                        optionalBytes(body, "iv"), optionalBytes(body, "aad"));
                result.put("kid", kid);
                putResult(result, r.value(), r.iv(), r.tag(), r.aad());
            }
            case DECRYPT -> {
                result.put("kid", kid);
                putResult(result, KeyOperations.decrypt(target.material(), alg, bytes(body, "value"),
                        optionalBytes(body, "iv"), optionalBytes(body, "aad"), optionalBytes(body, "tag")),
                        null, null, null);
            }
            case WRAPKEY -> {
                result.put("kid", kid);
                putResult(result, KeyOperations.wrapKey(target.material(), alg, bytes(body, "value")), null, null,
                        null);
            }
            case UNWRAPKEY -> {
                result.put("kid", kid);
                putResult(result, KeyOperations.unwrapKey(target.material(), alg, bytes(body, "value")), null, null,
                        null);
            }
            case SIGN -> {
                result.put("kid", kid);
                putResult(result, KeyOperations.sign(target.material(), alg, bytes(body, "value")), null, null, null);
            }
            case VERIFY -> result.put("value", KeyOperations.verify(target.material(), alg, bytes(body, "digest"),
                    bytes(body, "value")));
            default -> throw new IllegalStateException("unhandled operation " + op);
        }
        return result;
    }

    private void requireUsable(Operation op, KeyRecord key, KeyVersion v) {
        long now = services.now();
        if (!v.enabled()) {
            throw new ArmException(403, "Forbidden", "Operation " + op.keyOp + " is not allowed on a disabled key ("
                    + key.name() + "/" + v.version() + "). Enable it (PATCH attributes.enabled=true) first.",
                    "KeyDisabled");
        }
        if (v.notBefore() != null && now < v.notBefore()) {
            throw new ArmException(403, "Forbidden", "Operation " + op.keyOp + " is not allowed before the key's"
                    + " activation date (nbf " + Instant.ofEpochSecond(v.notBefore()) + ").", "KeyNotYetValid");
        }
        if (v.expiresAt() != null && now >= v.expiresAt()) {
            throw new ArmException(403, "Forbidden", "Operation " + op.keyOp + " is not allowed on an expired key"
                    + " (exp " + Instant.ofEpochSecond(v.expiresAt()) + "). Use a newer version or extend exp.",
                    "KeyExpired");
        }
        if (op != Operation.RELEASE && !v.keyOps().contains(op.keyOp)) {
            throw new ArmException(403, "Forbidden", "Operation " + op.keyOp + " is not permitted on this key."
                    + " Its key_ops are " + v.keyOps() + ".", "KeyOperationForbidden");
        }
    }

    /**
     * Secure key release: the key must be exportable with a release policy; the target attestation token is verified
     * and must satisfy the policy; the key is wrapped to the token's runtime key and the result signed.
     */
    private ObjectNode release(Target target, String requestedVersion, JsonNode body) {
        KeyVersion v = target.version();
        if (!v.exportable()) {
            throw KeyRequests.badParameter("Key '" + target.key().name() + "' version " + v.version() + " is not"
                    + " exportable; only keys created with attributes.exportable=true and a release policy can be"
                    + " released.");
        }
        if (v.releasePolicy() == null) {
            throw KeyRequests.badParameter("AKV.SKR.1004: Exportable keys must have release policy.");
        }
        String token = KeyRequests.optionalText(body, "target");
        if (token == null || token.isBlank()) {
            throw KeyRequests.badParameter("'target' is required: the attestation token of the environment the key"
                    + " is released to.");
        }
        String enc = SecureKeyRelease.effectiveEnc(KeyRequests.optionalText(body, "enc"));
        Map<String, Object> claims = services.attestation().verify(token);
        ReleasePolicy policy = ReleasePolicy.parse(Json.unb64url(v.releasePolicy().path("data").asText(),
                "release_policy.data"));
        policy.evaluate((String) claims.get("iss"), claims).ifPresent(reason -> {
            throw ArmException.forbidden("AccessDenied", "Target environment attestation statement does not satisfy"
                    + " the key's release policy: " + (reason.endsWith(".") ? reason : reason + "."));
        });
        byte[] wrapped = SecureKeyRelease.wrap(target.material(), SecureKeyRelease.runtimeKey(claims), enc);
        String kid = bundles.versionId(target.store(), target.key(), v);

        ObjectNode keyHsm = Json.object();
        keyHsm.put("schema_version", "1.0");
        ObjectNode header = keyHsm.putObject("header");
        header.put("kid", kid);
        header.put("alg", "dir");
        header.put("enc", enc);
        keyHsm.put("ciphertext", Json.b64url(wrapped));

        ObjectNode payload = Json.object();
        ObjectNode request = payload.putObject("request");
        request.put("api-version", body.path("api-version").asText(DEFAULT_RELEASE_API_VERSION));
        request.put("enc", enc);
        request.put("kid", requestedVersion == null || requestedVersion.isEmpty()
                ? bundles.keyId(target.store(), target.key()) : kid);
        ObjectNode released = payload.putObject("response").putObject("key");
        released.set("attributes", bundles.attributes(target.store(), v));
        ObjectNode jwk = bundles.jwk(kid, v);
        ObjectNode key = released.putObject("key");
        key.put("kid", kid);
        key.set("kty", jwk.get("kty"));
        key.set("key_ops", jwk.get("key_ops"));
        key.put("key_hsm", Json.b64url(Json.write(keyHsm).getBytes(StandardCharsets.UTF_8)));
        released.set("release_policy", v.releasePolicy());

        ObjectNode result = Json.object();
        result.put("value", signer.sign(payload));
        return result;
    }

    private static void putResult(ObjectNode result, byte[] value, byte[] iv, byte[] tag, byte[] aad) {
        result.put("value", Json.b64url(value));
        if (iv != null) {
            result.put("iv", Json.b64url(iv));
        }
        if (tag != null) {
            result.put("tag", Json.b64url(tag));
        }
        if (aad != null) {
            result.put("aad", Json.b64url(aad));
        }
    }

    private static byte[] bytes(JsonNode body, String field) {
        return Json.unb64url(body.path(field).isTextual() ? body.path(field).asText() : null, field);
    }

    private static byte[] optionalBytes(JsonNode body, String field) {
        return body.hasNonNull(field) ? bytes(body, field) : null;
    }
}
