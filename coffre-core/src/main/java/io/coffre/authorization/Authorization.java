package io.coffre.authorization;

import io.coffre.arm.ArmException;
import io.coffre.arm.ResourceId;
import io.coffre.identity.AccessControl;
import io.coffre.identity.Identity;
import io.coffre.identity.Principal;
import io.coffre.store.MetadataStore;
import io.coffre.time.CoffreClock;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Microsoft.Authorization on the management plane: role assignments (made, read and removed as a caller who must
 * hold {@code Microsoft.Authorization/roleAssignments/*} at the scope) and the built-in role definitions, and the
 * {@link AccessControl} checks they drive. Scopes are ARM ids ({@code /subscriptions/..}), down to data-plane
 * objects such as a key ({@code .../vaults/kv1/keys/k1}). Managed HSM local RBAC is not this.
 */
public interface Authorization extends AccessControl {
    String WRITE_ASSIGNMENTS = "Microsoft.Authorization/roleAssignments/write";
    String READ_ASSIGNMENTS = "Microsoft.Authorization/roleAssignments/read";
    String DELETE_ASSIGNMENTS = "Microsoft.Authorization/roleAssignments/delete";

    /**
     * Opens RBAC and makes sure the administrator holds Owner at the default subscription (on every start, so an
     * administrator who removed it gets it back by restarting).
     *
     * @param requireScope throws the ARM 404 for a scope that does not exist (ResourceManager::requireScope)
     */
    static Authorization open(MetadataStore metadata, Identity identity, Consumer<ResourceId> requireScope,
                              CoffreClock clock) {
        return new RbacAuthorization(metadata, identity, requireScope, clock);
    }

    /** Which assignments a listing returns (ARM's {@code $filter}). */
    enum Reach {
        /** {@code atScope()}: at the scope or above it. */
        AT_OR_ABOVE,
        /** No filter, or {@code principalId eq}: at, above or below the scope. */
        ANYWHERE_ALONG
    }

    /**
     * Creates a role assignment (PUT). Repeating the same PUT returns the existing assignment.
     *
     * @param roleDefinitionId {@code /subscriptions/{s}/providers/Microsoft.Authorization/roleDefinitions/{guid}},
     *                         the tenant-level form without {@code /subscriptions/{s}}, or a bare GUID
     * @param principalTypeOrNull {@code User}, {@code ServicePrincipal}, ...; checked against the directory when set
     * @throws ArmException 400 {@code InvalidRoleAssignmentId}, {@code PrincipalNotFound},
     *                      {@code UnmatchedPrincipalType}, {@code RoleAssignmentUpdateNotPermitted},
     *                      {@code InvalidRoleDefinitionId}; 403 {@code AuthorizationFailed}; 404 for a missing scope
     *                      or {@code RoleDefinitionDoesNotExist}; 409 {@code RoleAssignmentExists}
     */
    RoleAssignment createAssignment(Principal caller, String scope, String name, String roleDefinitionId,
                                    String principalId, String principalTypeOrNull, String descriptionOrNull);

    /** @throws ArmException 404 {@code RoleAssignmentNotFound}, 403 */
    RoleAssignment getAssignment(Principal caller, String scope, String name);

    /** @return the deleted assignment, or empty when there was none (ARM answers 204 then) */
    Optional<RoleAssignment> deleteAssignment(Principal caller, String scope, String name);

    /** @param principalIdOrNull only this principal's assignments */
    List<RoleAssignment> listAssignments(Principal caller, String scope, Reach reach, String principalIdOrNull);

    /** Role definitions usable at the scope, optionally only the one with this name (case-insensitive). */
    List<RoleDefinition> listRoleDefinitions(Principal caller, String scope, String roleNameOrNull);

    /** @throws ArmException 404 {@code RoleDefinitionDoesNotExist} */
    RoleDefinition getRoleDefinition(Principal caller, String scope, String roleDefinitionId);

    /**
     * Grants a role on Coffre's own authority, without a caller: what the platform does itself (the portal path
     * granting Backup Management Service its key permissions, the administrator's Owner). Idempotent.
     */
    RoleAssignment grantBySystem(String scope, String roleDefinitionId, String principalId);
}
