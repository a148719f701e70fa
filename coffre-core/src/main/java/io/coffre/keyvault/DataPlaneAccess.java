package io.coffre.keyvault;

import io.coffre.arm.ArmException;
import io.coffre.identity.Principal;
import org.jdbi.v3.core.Handle;

/**
 * Authorises every data-plane key call the way the store is configured: a vault's access policies or Azure RBAC
 * ({@code enableRbacAuthorization}), or a managed HSM's local RBAC. A refusal names what is missing and where.
 */
final class DataPlaneAccess {
    private final Services services;
    private final LocalRbac localRbac;

    DataPlaneAccess(Services services, LocalRbac localRbac) {
        this.services = services;
        this.localRbac = localRbac;
    }

    /** @param keyName the key addressed, or null for calls on the whole store (list, restore before it is read) */
    void require(Handle h, Principal caller, StoreRecord store, KeyPermission permission, String keyName) {
        if (store.isHsm()) {
            localRbac.require(h, caller, store, keyName == null ? "/keys" : "/keys/" + keyName,
                    permission.hsmDataAction());
        } else if (store.rbacAuthorization()) {
            String resource = keyName == null ? store.resourceId() : store.resourceId() + "/keys/" + keyName;
            if (!services.accessControl().isAllowed(caller, resource, permission.vaultDataAction(), true)) {
                throw ArmException.forbidden("ForbiddenByRbac", "Caller is not authorized to perform action on"
                        + " resource.\nCaller: " + services.describeCaller(caller) + "\nAction: '"
                        + permission.vaultDataAction() + "'\nResource: '" + resource + "'\nAssignment: (not found)"
                        + "\nDecisionReason: 'DeniedWithNoValidRBAC'\nVault: " + store.describe() + "\nAssign the"
                        + " caller an Azure role that grants '" + permission.vaultDataAction() + "' on the key or"
                        + " the vault (e.g. Key Vault Crypto Officer).");
            }
        } else if (!AccessPolicies.allows(store.accessPolicies(), caller, permission.accessPolicyPermission())) {
            throw ArmException.forbidden("AccessDenied", "The user, group or application '"
                    + services.describeCaller(caller) + "' does not have keys " + permission.accessPolicyPermission()
                    + " permission on key vault '" + store.describe() + "'. Add '"
                    + permission.accessPolicyPermission() + "' to the key permissions of an access policy for"
                    + " object id " + caller.objectId() + ".");
        }
    }
}
