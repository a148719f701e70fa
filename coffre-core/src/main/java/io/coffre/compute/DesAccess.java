package io.coffre.compute;

import io.coffre.Endpoints;
import io.coffre.arm.ArmException;
import io.coffre.identity.Principal;
import io.coffre.keyvault.KeyService;
import io.coffre.keyvault.KeyService.Store;
import java.util.function.Supplier;

/**
 * Runs a key-service call a DES makes as its own identity and turns a refusal into an error that names the exact
 * grant to make: an access policy, an Azure RBAC role on the key, or a Managed HSM local role at {@code /keys/<name>}.
 */
final class DesAccess {
    private final KeyService keyService;
    private final Endpoints endpoints;

    DesAccess(KeyService keyService, Endpoints endpoints) {
        this.keyService = keyService;
        this.endpoints = endpoints;
    }

    <T> T asDes(Supplier<T> call, Principal des, String keyUrl) {
        try {
            return call.get();
        } catch (ArmException e) {
            KeyUrl key = KeyUrl.parse(keyUrl, endpoints);
            if (e.status() == 401 || e.status() == 403) {
                throw new ArmException(400, "KeyVaultAccessForbidden", "The disk encryption set's identity (object id "
                        + des.objectId() + ") may not use the key " + keyUrl + ": " + e.getMessage() + " Grant it: "
                        + grant(key, des) + ".");
            }
            throw new ArmException(400, "KeyVaultKeyUnavailable", "The key " + keyUrl + " of the disk encryption set"
                    + " cannot be used: " + e.getMessage());
        }
    }

    private String grant(KeyUrl key, Principal des) {
        if (key.store().kind() == Store.Kind.MANAGED_HSM) {
            return "az keyvault role assignment create --hsm-name " + key.store().name()
                    + " --role \"Managed HSM Crypto Service Encryption User\" --assignee-object-id " + des.objectId()
                    + " --scope /keys/" + key.name();
        }
        var rbacVault = keyService.describeKey(key.store(), key.name(), key.version())
                .filter(KeyService.KeyFacts::rbacAuthorization);
        if (rbacVault.isPresent()) {
            return "az role assignment create --role \"Key Vault Crypto Service Encryption User\""
                    + " --assignee-object-id " + des.objectId() + " --scope " + rbacVault.get().storeResourceId()
                    + "/keys/" + key.name();
        }
        return "az keyvault set-policy -n " + key.store().name() + " --object-id " + des.objectId()
                + " --key-permissions get wrapKey unwrapKey";
    }
}
