package io.coffre.authorization;

import java.time.Instant;

/**
 * A role granted to a principal at a scope (and below it).
 *
 * @param name          the assignment's GUID
 * @param scope         the ARM id it was made at, as the caller spelled it
 * @param principalType {@code User} or {@code ServicePrincipal} (managed identities are service principals)
 * @param createdBy     object id of the principal that made it, or null when Coffre made it
 */
public record RoleAssignment(String name, String scope, String roleDefinitionId, String principalId,
                             String principalType, String description, Instant createdOn, String createdBy) {
}
