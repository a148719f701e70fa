package io.coffre.authorization;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.coffre.CoffreCore;
import io.coffre.TestCores;
import io.coffre.arm.ArmException;
import io.coffre.identity.AccessControl;
import io.coffre.identity.Principal;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuthorizationTest {
    private static final String UNWRAP = "Microsoft.KeyVault/vaults/keys/unwrap/action";

    @TempDir
    Path dir;
    private CoffreCore core;
    private Authorization rbac;
    private Principal admin;
    private Principal sp;
    private String sub;
    private String rg1;
    private String kv1;

    @BeforeEach
    void open() {
        core = TestCores.open(dir);
        rbac = core.accessControl();
        admin = core.identity().admin();
        sp = core.identity().createServicePrincipal("app").principal();
        sub = "/subscriptions/" + core.identity().defaultSubscriptionId();
        core.resourceManager().putResourceGroup(admin, core.identity().defaultSubscriptionId(), "rg1", "uaenorth", Map.of());
        core.resourceManager().putResourceGroup(admin, core.identity().defaultSubscriptionId(), "rg2", "uaenorth", Map.of());
        rg1 = sub + "/resourceGroups/rg1";
        kv1 = rg1 + "/providers/Microsoft.KeyVault/vaults/kv1";
        core.resourceIndex().put(kv1, "Microsoft.KeyVault/vaults", "uaenorth", null);
    }

    @AfterEach
    void close() {
        core.close();
    }

    @Test
    void shipsTheBuiltInRolesWithTheirRealIdsAndActions() {
        assertThat(BuiltInRoles.all()).extracting(RoleDefinition::id).containsExactlyInAnyOrder(BuiltInRoles.OWNER,
                BuiltInRoles.CONTRIBUTOR, BuiltInRoles.READER, BuiltInRoles.KEY_VAULT_ADMINISTRATOR,
                BuiltInRoles.KEY_VAULT_CRYPTO_OFFICER, BuiltInRoles.KEY_VAULT_CRYPTO_USER,
                BuiltInRoles.KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER, BuiltInRoles.KEY_VAULT_CRYPTO_SERVICE_RELEASE_USER,
                BuiltInRoles.KEY_VAULT_READER, BuiltInRoles.BACKUP_CONTRIBUTOR, BuiltInRoles.BACKUP_OPERATOR,
                BuiltInRoles.BACKUP_READER);
        RoleDefinition encryption = BuiltInRoles.byName("key vault crypto service encryption user").orElseThrow();
        assertThat(encryption.id()).isEqualTo("e147488a-f6f5-4113-8e2d-b22465e65bf6");
        assertThat(encryption.permissions().get(0).dataActions()).containsExactly(
                "Microsoft.KeyVault/vaults/keys/read", "Microsoft.KeyVault/vaults/keys/wrap/action", UNWRAP);
        assertThat(BuiltInRoles.byId(BuiltInRoles.KEY_VAULT_CRYPTO_SERVICE_RELEASE_USER).orElseThrow().permissions()
                .get(0).dataActions()).containsExactly("Microsoft.KeyVault/vaults/keys/release/action");
        assertThat(BuiltInRoles.byId(BuiltInRoles.CONTRIBUTOR).orElseThrow().permissions().get(0).notActions())
                .contains("Microsoft.Authorization/*/Write", "Microsoft.Authorization/*/Delete");
        assertThat(rbac.listRoleDefinitions(admin, sub, "Backup Operator")).extracting(RoleDefinition::id)
                .containsExactly(BuiltInRoles.BACKUP_OPERATOR);
    }

    @Test
    void theAdministratorIsOwnerOfTheDefaultSubscriptionOnce() {
        assertThat(rbac.listAssignments(admin, sub, Authorization.Reach.AT_OR_ABOVE, admin.objectId()))
                .singleElement().satisfies(a -> {
                    assertThat(a.roleDefinitionId()).isEqualTo(BuiltInRoles.OWNER);
                    assertThat(a.scope()).isEqualTo(sub);
                });
        core.close();
        core = TestCores.open(dir);
        rbac = core.accessControl();
        assertThat(rbac.listAssignments(admin, sub, Authorization.Reach.AT_OR_ABOVE, admin.objectId())).hasSize(1);
        assertThat(rbac.isAllowed(admin, kv1, Authorization.WRITE_ASSIGNMENTS, false)).isTrue();
        assertThat(rbac.isAllowed(admin, kv1, UNWRAP, true)).as("Owner grants no data actions").isFalse();
    }

    @Test
    void aGroupAssignmentReachesItsResourcesAndTheirKeysButNotASiblingGroup() {
        rbac.grantBySystem(rg1, BuiltInRoles.KEY_VAULT_CRYPTO_USER, sp.objectId());
        assertThat(rbac.isAllowed(sp, kv1 + "/keys/k1", UNWRAP, true)).isTrue();
        assertThat(rbac.isAllowed(sp, kv1, UNWRAP, true)).isTrue();
        assertThat(rbac.isAllowed(sp, rg1, UNWRAP, true)).isTrue();
        assertThat(rbac.isAllowed(sp, sub + "/resourceGroups/rg2/providers/Microsoft.KeyVault/vaults/kv1/keys/k1",
                UNWRAP, true)).isFalse();
        assertThat(rbac.isAllowed(sp, sub, UNWRAP, true)).as("not upwards").isFalse();
        assertThat(rbac.isAllowed(sp, kv1 + "/keys/k1", "Microsoft.KeyVault/vaults/keys/release/action", true))
                .isFalse();
        assertThat(rbac.isAllowed(sp, kv1 + "/keys/k1", UNWRAP, false)).as("a data action is not an action").isFalse();
        assertThat(rbac.isAllowed(sp, "not a scope", UNWRAP, true)).isFalse();
    }

    @Test
    void aKeyScopedAssignmentCoversThatKeyOnly() {
        rbac.grantBySystem(kv1 + "/keys/k1", BuiltInRoles.KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER, sp.objectId());
        assertThat(rbac.isAllowed(sp, kv1 + "/keys/K1", UNWRAP, true)).isTrue();
        assertThat(rbac.isAllowed(sp, kv1 + "/keys/k2", UNWRAP, true)).isFalse();
        assertThat(rbac.isAllowed(sp, kv1, UNWRAP, true)).isFalse();
        AccessControl.Grants grants = rbac.grantsOf(sp);
        assertThat(grants.reaches(sub)).isTrue();
        assertThat(grants.reaches(sub + "/resourceGroups/rg2")).isFalse();
    }

    @Test
    void notActionsSubtract() {
        rbac.grantBySystem(sub, BuiltInRoles.CONTRIBUTOR, sp.objectId());
        assertThat(rbac.isAllowed(sp, kv1, "Microsoft.KeyVault/vaults/write", false)).isTrue();
        assertThat(rbac.isAllowed(sp, kv1, "Microsoft.Authorization/roleAssignments/write", false)).isFalse();
        assertThat(rbac.isAllowed(sp, kv1, "microsoft.authorization/roleassignments/DELETE", false)).isFalse();
        assertThat(rbac.isAllowed(sp, kv1, "Microsoft.Authorization/roleAssignments/read", false)).isTrue();
    }

    @Test
    void requireSaysWhoLacksWhatWhere() {
        assertThatThrownBy(() -> rbac.require(sp, kv1, UNWRAP, true)).isInstanceOfSatisfying(ArmException.class, e -> {
            assertThat(e.status()).isEqualTo(403);
            assertThat(e.code()).isEqualTo("AuthorizationFailed");
            assertThat(e.getMessage()).isEqualTo("The client '" + sp.appId() + "' with object id '" + sp.objectId()
                    + "' does not have authorization to perform action '" + UNWRAP + "' over scope '" + kv1
                    + "' or the scope is invalid. If access was recently granted, please refresh your credentials.");
        });
    }

    @Test
    void roleAssignmentsRoundTripWithEveryError() {
        String name = UUID.randomUUID().toString();
        String roleId = sub + "/providers/Microsoft.Authorization/roleDefinitions/" + BuiltInRoles.READER;
        RoleAssignment a = rbac.createAssignment(admin, rg1, name, roleId, sp.objectId(), "ServicePrincipal", null);
        assertThat(a.principalType()).isEqualTo("ServicePrincipal");
        assertThat(a.createdBy()).isEqualTo(admin.objectId());
        assertThat(rbac.createAssignment(admin, rg1, name.toUpperCase(), BuiltInRoles.READER, sp.objectId(), null,
                null)).as("the same PUT again").isEqualTo(a);
        assertThat(rbac.getAssignment(admin, rg1.toUpperCase(), name)).isEqualTo(a);

        assertCode(() -> rbac.createAssignment(admin, rg1, UUID.randomUUID().toString(), roleId, sp.objectId(), null,
                null), 409, "RoleAssignmentExists");
        assertCode(() -> rbac.createAssignment(admin, rg1, name, BuiltInRoles.OWNER, sp.objectId(), null, null), 400,
                "RoleAssignmentUpdateNotPermitted");
        assertCode(() -> rbac.createAssignment(admin, rg1, "not-a-guid", roleId, sp.objectId(), null, null), 400,
                "InvalidRoleAssignmentId");
        assertCode(() -> rbac.createAssignment(admin, rg1, UUID.randomUUID().toString(), roleId,
                UUID.randomUUID().toString(), null, null), 400, "PrincipalNotFound");
        assertCode(() -> rbac.createAssignment(admin, rg1, UUID.randomUUID().toString(), roleId, sp.appId(), null,
                null), 400, "PrincipalNotFound");
        assertCode(() -> rbac.createAssignment(admin, rg1, UUID.randomUUID().toString(), BuiltInRoles.OWNER,
                sp.objectId(), "User", null), 400, "UnmatchedPrincipalType");
        assertCode(() -> rbac.createAssignment(admin, rg1, UUID.randomUUID().toString(),
                UUID.randomUUID().toString(), sp.objectId(), null, null), 404, "RoleDefinitionDoesNotExist");
        assertCode(() -> rbac.createAssignment(admin, rg1, UUID.randomUUID().toString(), "Reader", sp.objectId(),
                null, null), 400, "InvalidRoleDefinitionId");
        assertCode(() -> rbac.createAssignment(admin, sub + "/resourceGroups/nope", UUID.randomUUID().toString(),
                roleId, sp.objectId(), null, null), 404, "ResourceGroupNotFound");
        assertCode(() -> rbac.createAssignment(admin, rg1 + "/providers/Microsoft.KeyVault/vaults/kv9/keys/k1",
                UUID.randomUUID().toString(), roleId, sp.objectId(), null, null), 404, "ResourceNotFound");
        assertCode(() -> rbac.createAssignment(sp, rg1, UUID.randomUUID().toString(), BuiltInRoles.OWNER,
                sp.objectId(), null, null), 403, "AuthorizationFailed");
        assertCode(() -> rbac.getAssignment(admin, sub, name), 404, "RoleAssignmentNotFound");

        assertThat(rbac.listAssignments(admin, kv1, Authorization.Reach.AT_OR_ABOVE, null))
                .extracting(RoleAssignment::name).contains(name);
        assertThat(rbac.listAssignments(admin, sub, Authorization.Reach.AT_OR_ABOVE, null))
                .extracting(RoleAssignment::name).doesNotContain(name);
        assertThat(rbac.listAssignments(admin, sub, Authorization.Reach.ANYWHERE_ALONG, sp.objectId()))
                .extracting(RoleAssignment::name).containsExactly(name);

        assertThat(rbac.deleteAssignment(admin, rg1, name)).contains(a);
        assertThat(rbac.deleteAssignment(admin, rg1, name)).isEmpty();
        assertThat(rbac.isAllowed(sp, rg1, "Microsoft.Resources/subscriptions/resourceGroups/read", false)).isFalse();
    }

    private static void assertCode(org.assertj.core.api.ThrowableAssert.ThrowingCallable call, int status,
                                   String code) {
        assertThatThrownBy(call).isInstanceOfSatisfying(ArmException.class, e -> {
            assertThat(e.status()).as(e.getMessage()).isEqualTo(status);
            assertThat(e.code()).as(e.getMessage()).isEqualTo(code);
        });
    }
}
