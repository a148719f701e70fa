package io.coffre.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.arm.ArmException;
import io.coffre.json.Json;
import io.coffre.keyvault.KeyService.Store;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The ARM edits of a vault that KeyService expresses as a whole-resource PUT: PATCH (merge), access-policy
 * add/replace/remove, and name-availability answers. Pure functions on the ARM JSON, so every rule is here once.
 */
final class VaultPatches {
    /** Vault and HSM names: 3-24 letters, digits and single hyphens, starting with a letter, not ending with '-'. */
    private static final Pattern STORE_NAME = Pattern.compile("[a-zA-Z](?!.*--)[a-zA-Z0-9-]{1,22}[a-zA-Z0-9]");
    private static final Set<String> OPERATIONS = Set.of("add", "replace", "remove");

    private VaultPatches() {
    }

    /** ARM PATCH: {@code tags} replace, each given {@code properties} field replaces the stored one. */
    static ObjectNode merge(ObjectNode current, JsonNode patch) {
        ObjectNode merged = current.deepCopy();
        if (patch.has("tags")) {
            merged.set("tags", patch.get("tags"));
        }
        JsonNode properties = patch.path("properties");
        if (properties.isObject()) {
            ObjectNode target = merged.withObjectProperty("properties");
            properties.properties().forEach(e -> target.set(e.getKey(), e.getValue()));
        } else if (!properties.isMissingNode() && !properties.isNull()) {
            throw ArmException.badRequest("InvalidRequestContent", "'properties' must be a JSON object.");
        }
        return merged;
    }

    static String accessPolicyOperation(String pathSegment) {
        String operation = pathSegment.toLowerCase(Locale.ROOT);
        if (!OPERATIONS.contains(operation)) {
            throw ArmException.badRequest("InvalidOperationKind", "The access policy operation '" + pathSegment
                    + "' is not one of add, replace, remove.");
        }
        return operation;
    }

    /**
     * The vault with {@code body.properties.accessPolicies} applied: {@code add} unions permissions into the entry of
     * the same (tenantId, objectId, applicationId) or appends it, {@code replace} sets the entry's permissions,
     * {@code remove} takes the listed permissions away and drops an entry left with none.
     */
    static ObjectNode editAccessPolicies(ObjectNode vault, String operation, JsonNode body) {
        JsonNode requested = body.path("properties").path("accessPolicies");
        if (!requested.isArray() || requested.isEmpty()) {
            throw ArmException.badRequest("InvalidRequestContent", "The body needs properties.accessPolicies: "
                    + "a non-empty array of {tenantId, objectId, permissions}.");
        }
        ObjectNode edited = vault.deepCopy();
        ArrayNode policies = edited.withObjectProperty("properties").withArrayProperty("accessPolicies");
        for (JsonNode change : requested) {
            if (!change.path("objectId").isTextual() || !change.path("tenantId").isTextual()) {
                throw ArmException.badRequest("InvalidRequestContent",
                        "Each access policy needs tenantId and objectId.");
            }
            int index = indexOf(policies, change);
            ObjectNode entry = index >= 0 ? (ObjectNode) policies.get(index) : null;
            switch (operation) {
                case "add" -> {
                    if (entry == null) {
                        policies.add(change.deepCopy());
                    } else {
                        entry.set("permissions", combine(entry.path("permissions"), change.path("permissions"), true));
                    }
                }
                case "replace" -> {
                    if (entry == null) {
                        policies.add(change.deepCopy());
                    } else {
                        entry.set("permissions", change.path("permissions").deepCopy());
                    }
                }
                default -> {
                    if (entry != null) {
                        ObjectNode left = combine(entry.path("permissions"), change.path("permissions"), false);
                        if (left.isEmpty()) {
                            policies.remove(index);
                        } else {
                            entry.set("permissions", left);
                        }
                    }
                }
            }
        }
        return edited;
    }

    /** The body Azure answers an access-policy edit with: the policies of the request under the edit's id. */
    static ObjectNode accessPolicyResult(String vaultId, String operation, JsonNode body) {
        ObjectNode result = Json.object();
        result.put("id", vaultId + "/accessPolicies/" + operation);
        result.put("type", "Microsoft.KeyVault/vaults/accessPolicies");
        result.set("properties", body.path("properties").deepCopy());
        return result;
    }

    static String nameToCheck(JsonNode body, String resourceType) {
        JsonNode name = body.path("name");
        if (!name.isTextual() || name.asText().isEmpty()) {
            throw ArmException.badRequest("InvalidRequestContent", "The body needs 'name', the name to check.");
        }
        JsonNode type = body.path("type");
        if (!type.isMissingNode() && !type.asText().equalsIgnoreCase(resourceType)) {
            throw ArmException.badRequest("InvalidRequestContent",
                    "'type' must be '" + resourceType + "' (got '" + type.asText() + "').");
        }
        return name.asText();
    }

    static ObjectNode nameAvailability(Store.Kind kind, String name, boolean taken) {
        String noun = kind == Store.Kind.VAULT ? "vault" : "managed HSM";
        ObjectNode answer = Json.object();
        if (!STORE_NAME.matcher(name).matches()) {
            answer.put("nameAvailable", false);
            answer.put("reason", "AccountNameInvalid");
            answer.put("message", "The " + noun + " name '" + name + "' is invalid: use 3-24 letters, digits and "
                    + "single hyphens, starting with a letter and ending with a letter or digit.");
        } else if (taken) {
            answer.put("nameAvailable", false);
            answer.put("reason", "AlreadyExists");
            answer.put("message", "The " + noun + " name '" + name + "' is already in use (active or soft-deleted); "
                    + "choose another name, or recover or purge the deleted one.");
        } else {
            answer.put("nameAvailable", true);
        }
        return answer;
    }

    private static int indexOf(ArrayNode policies, JsonNode change) {
        for (int i = 0; i < policies.size(); i++) {
            JsonNode p = policies.get(i);
            if (same(p, change, "tenantId") && same(p, change, "objectId") && same(p, change, "applicationId")) {
                return i;
            }
        }
        return -1;
    }

    private static boolean same(JsonNode a, JsonNode b, String field) {
        String x = a.path(field).isTextual() ? a.path(field).asText().toLowerCase(Locale.ROOT) : null;
        String y = b.path(field).isTextual() ? b.path(field).asText().toLowerCase(Locale.ROOT) : null;
        return Objects.equals(x, y);
    }

    /** Per category (keys, secrets, ...): union ({@code add}) or difference, permission names case-insensitive. */
    private static ObjectNode combine(JsonNode current, JsonNode change, boolean add) {
        ObjectNode result = Json.object();
        Set<String> categories = new LinkedHashSet<>();
        current.fieldNames().forEachRemaining(categories::add);
        change.fieldNames().forEachRemaining(categories::add);
        for (String category : categories) {
            Set<String> permissions = lowerCased(current.path(category));
            Set<String> changed = lowerCased(change.path(category));
            if (add) {
                permissions.addAll(changed);
            } else {
                permissions.removeAll(changed);
            }
            if (!permissions.isEmpty()) {
                ArrayNode array = result.putArray(category);
                permissions.forEach(array::add);
            }
        }
        return result;
    }

    private static Set<String> lowerCased(JsonNode permissions) {
        Set<String> set = new LinkedHashSet<>();
        for (Iterator<JsonNode> it = permissions.elements(); it.hasNext(); ) {
            set.add(it.next().asText().toLowerCase(Locale.ROOT));
        }
        return set;
    }
}
