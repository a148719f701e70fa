package io.coffre.authorization;

import com.fasterxml.jackson.databind.JsonNode;
import io.coffre.json.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Azure's built-in role definitions that Coffre enforces, with their real GUIDs, loaded from the shipped
 * {@code built-in-roles.json} (data, not code).
 */
public final class BuiltInRoles {
    public static final String OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";
    public static final String CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c";
    public static final String READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7";
    public static final String KEY_VAULT_ADMINISTRATOR = "00482a5a-887f-4fb3-b363-3b7fe8e74483";
    public static final String KEY_VAULT_CRYPTO_OFFICER = "14b46e9e-c2b7-41b4-b07b-48a6ebf60603";
    public static final String KEY_VAULT_CRYPTO_USER = "12338af0-0e69-4776-bea7-57ae8d297424";
    public static final String KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER = "e147488a-f6f5-4113-8e2d-b22465e65bf6";
    public static final String KEY_VAULT_CRYPTO_SERVICE_RELEASE_USER = "08bbd89e-9f13-488c-ac41-acfcb10c90ab";
    public static final String KEY_VAULT_READER = "21090545-7ca7-4776-b22c-e363652d74d2";
    public static final String BACKUP_CONTRIBUTOR = "5e467623-bb1f-42f4-a55d-6e525e11384b";
    public static final String BACKUP_OPERATOR = "00c29273-979b-4161-815c-10b084fb9324";
    public static final String BACKUP_READER = "a795c7a0-d4a2-40c1-ae25-d81f01202912";

    private static final List<RoleDefinition> ALL = load();

    private BuiltInRoles() {
    }

    public static List<RoleDefinition> all() {
        return ALL;
    }

    /** By GUID, case-insensitively. */
    public static Optional<RoleDefinition> byId(String id) {
        return ALL.stream().filter(r -> r.id().equalsIgnoreCase(id)).findFirst();
    }

    /** By role name (e.g. {@code Key Vault Crypto User}), case-insensitively. */
    public static Optional<RoleDefinition> byName(String roleName) {
        return ALL.stream().filter(r -> r.roleName().equalsIgnoreCase(roleName)).findFirst();
    }

    private static List<RoleDefinition> load() {
        try (InputStream in = BuiltInRoles.class.getResourceAsStream("built-in-roles.json")) {
            if (in == null) {
                throw new IllegalStateException("built-in-roles.json is missing from the classpath");
            }
            List<RoleDefinition> roles = new ArrayList<>();
            for (JsonNode r : Json.MAPPER.readTree(in).get("roles")) {
                List<RoleDefinition.Permission> permissions = new ArrayList<>();
                for (JsonNode p : r.get("permissions")) {
                    permissions.add(new RoleDefinition.Permission(strings(p, "actions"), strings(p, "notActions"),
                            strings(p, "dataActions"), strings(p, "notDataActions")));
                }
                roles.add(new RoleDefinition(r.get("id").asText().toLowerCase(Locale.ROOT), r.get("roleName").asText(),
                        r.get("description").asText(), "BuiltInRole", List.copyOf(permissions)));
            }
            return List.copyOf(roles);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read built-in-roles.json", e);
        }
    }

    private static List<String> strings(JsonNode node, String field) {
        List<String> values = new ArrayList<>();
        node.path(field).forEach(v -> values.add(v.asText()));
        return List.copyOf(values);
    }
}
