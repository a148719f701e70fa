package io.coffre.authorization;

import java.util.List;

/**
 * A role: what its holders may do. {@code actions} are management-plane operations, {@code dataActions} data-plane
 * ones (Key Vault keys); {@code not*} lists subtract from the list beside them. Patterns may use {@code *} and
 * match case-insensitively.
 *
 * @param id       the role definition's GUID (its ARM name)
 * @param roleType {@code BuiltInRole} or {@code CustomRole}
 */
public record RoleDefinition(String id, String roleName, String description, String roleType,
                             List<Permission> permissions) {
    public record Permission(List<String> actions, List<String> notActions, List<String> dataActions,
                             List<String> notDataActions) {
    }
}
