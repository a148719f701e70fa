package io.coffre.keyvault;

/**
 * Each data-plane key operation and what grants it under the three authorization models: the Key Vault access-policy
 * key permission, the Azure RBAC data action of a vault, and the local RBAC data action of a managed HSM.
 */
enum KeyPermission {
    GET("get", "keys/read", "keys/read/action"),
    LIST("list", "keys/read", "keys/read/action"),
    CREATE("create", "keys/create/action", "keys/create"),
    IMPORT("import", "keys/import/action", "keys/import/action"),
    UPDATE("update", "keys/update/action", "keys/write/action"),
    DELETE("delete", "keys/delete", "keys/delete"),
    GET_DELETED("get", "keys/read", "keys/deletedKeys/read/action"),
    LIST_DELETED("list", "keys/read", "keys/deletedKeys/read/action"),
    RECOVER("recover", "keys/recover/action", "keys/deletedKeys/recover/action"),
    PURGE("purge", "keys/purge/action", "keys/deletedKeys/delete"),
    BACKUP("backup", "keys/backup/action", "keys/backup/action"),
    RESTORE("restore", "keys/restore/action", "keys/restore/action"),
    ENCRYPT("encrypt", "keys/encrypt/action", "keys/encrypt/action"),
    DECRYPT("decrypt", "keys/decrypt/action", "keys/decrypt/action"),
    WRAP_KEY("wrapKey", "keys/wrap/action", "keys/wrap/action"),
    UNWRAP_KEY("unwrapKey", "keys/unwrap/action", "keys/unwrap/action"),
    SIGN("sign", "keys/sign/action", "keys/sign/action"),
    VERIFY("verify", "keys/verify/action", "keys/verify/action"),
    RELEASE("release", "keys/release/action", "keys/release/action"),
    ROTATE("rotate", "keys/rotate/action", "keys/rotate/action"),
    GET_ROTATION_POLICY("getrotationpolicy", "keyrotationpolicies/read", "keys/read/action"),
    SET_ROTATION_POLICY("setrotationpolicy", "keyrotationpolicies/write", "keys/write/action");

    static final String VAULT_PREFIX = "Microsoft.KeyVault/vaults/";
    static final String HSM_PREFIX = "Microsoft.KeyVault/managedHsm/";

    private final String accessPolicyPermission;
    private final String vaultDataAction;
    private final String hsmDataAction;

    KeyPermission(String accessPolicyPermission, String vaultDataAction, String hsmDataAction) {
        this.accessPolicyPermission = accessPolicyPermission;
        this.vaultDataAction = vaultDataAction;
        this.hsmDataAction = hsmDataAction;
    }

    /** The key permission an access policy must list (or {@code all}), as Key Vault spells it. */
    String accessPolicyPermission() {
        return accessPolicyPermission;
    }

    String vaultDataAction() {
        return VAULT_PREFIX + vaultDataAction;
    }

    String hsmDataAction() {
        return HSM_PREFIX + hsmDataAction;
    }
}
