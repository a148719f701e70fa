package io.coffre.identity;

/**
 * Management-plane RBAC (Microsoft.Authorization): role assignments at subscription, resource-group or resource
 * scope, inherited downwards. Key Vaults with {@code enableRbacAuthorization} use it for their data plane too.
 */
public interface AccessControl {
    /**
     * @param scope    an ARM resource id ({@code /subscriptions/..[/resourceGroups/..[/providers/..]]})
     * @param action   e.g. {@code Microsoft.KeyVault/vaults/write} or, with {@code dataAction},
     *                 {@code Microsoft.KeyVault/vaults/keys/unwrap/action}
     */
    boolean isAllowed(Principal principal, String scope, String action, boolean dataAction);
}
