package io.coffre.identity;

import io.coffre.arm.ArmException;

/**
 * Management-plane RBAC (Microsoft.Authorization): role assignments at subscription, resource-group or resource
 * scope, inherited downwards. Key Vaults with {@code enableRbacAuthorization} use it for their data plane too.
 */
public interface AccessControl {
    /**
     * @param scope    an ARM resource id ({@code /subscriptions/..[/resourceGroups/..[/providers/..]]}); a scope
     *                 that is not a valid id is never allowed
     * @param action   e.g. {@code Microsoft.KeyVault/vaults/write} or, with {@code dataAction},
     *                 {@code Microsoft.KeyVault/vaults/keys/unwrap/action}
     */
    default boolean isAllowed(Principal principal, String scope, String action, boolean dataAction) {
        return grantsOf(principal).allows(scope, action, dataAction);
    }

    /**
     * Like {@link #isAllowed}, but a refusal is the ARM error Azure sends.
     *
     * @throws ArmException 403 {@code AuthorizationFailed}
     */
    default void require(Principal principal, String scope, String action, boolean dataAction) {
        if (!isAllowed(principal, scope, action, dataAction)) {
            throw authorizationFailed(principal, scope, action);
        }
    }

    /**
     * The principal's role assignments, read once: for checks over many scopes (filtering a listing) without a
     * query per item. Reflects the assignments at the time of the call.
     */
    Grants grantsOf(Principal principal);

    interface Grants {
        /** Same contract as {@link AccessControl#isAllowed}. */
        boolean allows(String scope, String action, boolean dataAction);

        /**
         * True when some role assignment of the principal is at, above or below {@code scope}: whether the scope is
         * visible at all (a subscription is listed to anyone with a role anywhere in it).
         */
        boolean reaches(String scope);
    }

    static ArmException authorizationFailed(Principal principal, String scope, String action) {
        String client = principal.appId() != null ? principal.appId() : principal.objectId();
        return new ArmException(403, "AuthorizationFailed", "The client '" + client + "' with object id '"
                + principal.objectId() + "' does not have authorization to perform action '" + action
                + "' over scope '" + scope + "' or the scope is invalid. If access was recently granted, please"
                + " refresh your credentials.");
    }
}
