package io.coffre.keyvault;

import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The built-in role definitions of Managed HSM local RBAC (reference azure-rest-shapes §2): GUIDs, names and data
 * actions as the service lists them. They cannot be changed or deleted.
 */
final class BuiltInRoles {
    static final String ADMINISTRATOR = "a290e904-7015-4bba-90c8-60543313cdb4";

    record Role(String name, String roleName, String description, List<String> actions, List<String> dataActions) {
    }

    private static final List<String> ROLE_MANAGEMENT = List.of("roleAssignments/delete/action",
            "roleAssignments/read/action", "roleAssignments/write/action", "roleDefinitions/read/action",
            "roleDefinitions/write/action", "roleDefinitions/delete/action");

    static final List<Role> ALL = List.of(
            role(ADMINISTRATOR, "Managed HSM Administrator",
                    "Grants permissions to manage the HSM: security domain, full backup and restore, role management.",
                    concat(ROLE_MANAGEMENT, List.of("securitydomain/download/action", "securitydomain/download/read",
                            "securitydomain/upload/action", "securitydomain/upload/read",
                            "securitydomain/transferkey/read", "backup/start/action", "restore/start/action",
                            "backup/status/action", "restore/status/action"))),
            role("515eb02d-2335-4d2d-92f2-b1cbdf9c3778", "Managed HSM Crypto Officer",
                    "Grants permissions to manage role assignments, purge or recover deleted keys, and export keys.",
                    concat(ROLE_MANAGEMENT, List.of("keys/deletedKeys/read/action", "keys/deletedKeys/delete",
                            "keys/deletedKeys/recover/action", "keys/export/action"))),
            role("21dbd100-6940-42c2-9190-5d6cb909625b", "Managed HSM Crypto User",
                    "Grants permissions to perform all key management operations except purge, recover and export.",
                    List.of("roleDefinitions/read/action", "roleAssignments/read/action", "keys/read/action",
                            "keys/write/action", "keys/delete", "keys/create", "keys/rotate/action",
                            "keys/import/action", "keys/release/action", "keys/backup/action", "keys/restore/action",
                            "keys/encrypt/action", "keys/decrypt/action", "keys/wrap/action", "keys/unwrap/action",
                            "keys/sign/action", "keys/verify/action", "keys/derive/action", "rng/action")),
            role("33413926-3206-4cdd-b39a-83574fe37a17", "Managed HSM Crypto Service Encryption User",
                    "Grants permissions to read key metadata and wrap/unwrap with keys, for service encryption.",
                    List.of("keys/read/action", "keys/wrap/action", "keys/unwrap/action")),
            role("7b127d3c-77bd-4e3e-bbe0-dbb8971fa7f8", "Managed HSM Backup User",
                    "Grants permissions to perform full HSM backup and single-key backup.",
                    List.of("backup/start/action", "backup/status/action", "keys/backup/action")),
            role("21dbd100-6940-42c2-9190-5d6cb909625c", "Managed HSM Crypto Service Release User",
                    "Grants permissions to release keys to a trusted execution environment.",
                    List.of("keys/release/action")),
            role("4bd23610-cdcf-4971-bdee-bdc562cc28e4", "Managed HSM Policy Administrator",
                    "Grants permissions to create and delete role assignments.",
                    List.of("roleDefinitions/read/action", "roleDefinitions/write/action",
                            "roleDefinitions/delete/action", "roleAssignments/read/action",
                            "roleAssignments/write/action", "roleAssignments/delete/action")),
            role("2c18b078-7c48-4d3a-af88-5a3a1b3f82b3", "Managed HSM Crypto Auditor",
                    "Grants read permissions to read key attributes and role assignments.",
                    List.of("roleAssignments/read/action", "roleDefinitions/read/action", "keys/read/action",
                            "keys/deletedKeys/read/action")),
            role("6efe6056-5259-49d2-8b3d-d3d73544b20b", "Managed HSM Restore User",
                    "Grants permissions to perform full HSM restore and single-key restore.",
                    List.of("restore/start/action", "restore/status/action", "keys/restore/action")),
            new Role("770fd66c-6266-4643-9d4e-b616870898d5", "Managed HSM ARM User",
                    "Internal role used by Azure Resource Manager for key creation through ARM.",
                    List.of(KeyPermission.HSM_PREFIX + "keys/createIfNotExists",
                            KeyPermission.HSM_PREFIX + "keys/read/action"), List.of()));

    /**
     * Every data action of the service (the spec's DataAction enum): a custom role may name these or a wildcard
     * ending in {@code *}.
     */
    static final List<String> DATA_ACTIONS = Stream.of(
                    "keys/read/action", "keys/write/action", "keys/deletedKeys/read/action",
                    "keys/deletedKeys/recover/action", "keys/backup/action", "keys/restore/action",
                    "keys/encrypt/action", "keys/decrypt/action", "keys/wrap/action", "keys/unwrap/action",
                    "keys/sign/action", "keys/verify/action", "keys/create", "keys/delete", "keys/export/action",
                    "keys/release/action", "keys/import/action", "keys/deletedKeys/delete", "keys/rotate/action",
                    "keys/derive/action", "roleAssignments/delete/action", "roleAssignments/read/action",
                    "roleAssignments/write/action", "roleDefinitions/read/action", "roleDefinitions/write/action",
                    "roleDefinitions/delete/action", "securitydomain/download/action", "securitydomain/download/read",
                    "securitydomain/upload/action", "securitydomain/upload/read", "securitydomain/transferkey/read",
                    "backup/start/action", "restore/start/action", "backup/status/action", "restore/status/action",
                    "rng/action")
            .map(a -> KeyPermission.HSM_PREFIX + a).toList();

    private BuiltInRoles() {
    }

    static Optional<Role> find(String name) {
        return ALL.stream().filter(r -> r.name().equalsIgnoreCase(name)).findFirst();
    }

    private static Role role(String name, String roleName, String description, List<String> dataActions) {
        return new Role(name, roleName, description, List.of(),
                dataActions.stream().map(a -> KeyPermission.HSM_PREFIX + a).toList());
    }

    private static List<String> concat(List<String> a, List<String> b) {
        return Stream.concat(a.stream(), b.stream()).toList();
    }
}
