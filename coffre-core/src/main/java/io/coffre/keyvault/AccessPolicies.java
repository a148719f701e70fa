package io.coffre.keyvault;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.coffre.arm.ArmException;
import io.coffre.identity.Principal;
import io.coffre.json.Json;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/** Key Vault access policies: validation of the ARM property and the permission check of the data plane. */
final class AccessPolicies {
    static final String ALL = "all";
    /** Every key permission an access policy may list, in Key Vault's spelling; compared case-insensitively. */
    static final List<String> KEY_PERMISSIONS = Stream.concat(
            Arrays.stream(KeyPermission.values()).map(KeyPermission::accessPolicyPermission), Stream.of(ALL))
            .distinct().toList();

    private AccessPolicies() {
    }

    /**
     * Validates {@code properties.accessPolicies}: each entry names tenantId, objectId and permissions, and its key
     * permissions are known ones. Secret, certificate and storage permissions are kept as given.
     *
     * @param fallback what to keep when the request does not mention access policies
     */
    static ArrayNode parse(JsonNode given, ArrayNode fallback) {
        if (given == null || given.isNull()) {
            return fallback;
        }
        if (!given.isArray()) {
            throw invalid("accessPolicies", "must be an array of {tenantId, objectId, permissions}");
        }
        ArrayNode policies = Json.MAPPER.createArrayNode();
        for (int i = 0; i < given.size(); i++) {
            JsonNode entry = given.get(i);
            String at = "accessPolicies[" + i + "]";
            if (!entry.isObject()) {
                throw invalid(at, "must be an object with tenantId, objectId and permissions");
            }
            for (String field : List.of("tenantId", "objectId")) {
                if (!entry.path(field).isTextual() || entry.path(field).asText().isBlank()) {
                    throw invalid(at + "." + field, "is required");
                }
            }
            JsonNode permissions = entry.path("permissions");
            if (!permissions.isObject()) {
                throw invalid(at + ".permissions", "is required: {\"keys\":[...], \"secrets\":[...], ...}");
            }
            JsonNode keys = permissions.path("keys");
            if (!keys.isMissingNode() && !keys.isNull()) {
                if (!keys.isArray()) {
                    throw invalid(at + ".permissions.keys", "must be an array of key permissions");
                }
                for (int k = 0; k < keys.size(); k++) {
                    String permission = keys.get(k).asText("");
                    if (KEY_PERMISSIONS.stream().noneMatch(permission::equalsIgnoreCase)) {
                        throw invalid(at + ".permissions.keys[" + k + "]", "'" + permission
                                + "' is not a key permission; valid ones are " + String.join(", ", KEY_PERMISSIONS));
                    }
                }
            }
            policies.add(entry.deepCopy());
        }
        return policies;
    }

    /** True when an access policy for the caller (and, for compound identities, its application) lists it. */
    static boolean allows(ArrayNode policies, Principal caller, String permission) {
        for (JsonNode entry : policies) {
            if (!entry.path("objectId").asText().equalsIgnoreCase(caller.objectId())) {
                continue;
            }
            String application = entry.path("applicationId").asText("");
            if (!application.isEmpty() && !application.equalsIgnoreCase(caller.appId())) {
                continue;
            }
            for (JsonNode granted : entry.path("permissions").path("keys")) {
                String name = granted.asText().toLowerCase(Locale.ROOT);
                if (name.equals(ALL) || name.equalsIgnoreCase(permission)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static ArmException invalid(String path, String problem) {
        return ArmException.badRequest("BadRequest", "Invalid value found at " + path + ": " + problem + ".");
    }
}
