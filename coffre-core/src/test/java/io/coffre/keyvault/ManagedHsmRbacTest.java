package io.coffre.keyvault;

import static io.coffre.keyvault.KeyVaultFixture.json;
import static io.coffre.keyvault.KeyVaultFixture.rejects;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.arm.ArmException;
import io.coffre.identity.Principal;
import io.coffre.json.Json;
import io.coffre.keyvault.KeyService.Store;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ManagedHsmRbacTest {
    private static final String BACKUP_ROLE = "{\"properties\":{\"roleName\":\"Backup CVM key\",\"type\":\"CustomRole\","
            + "\"permissions\":[{\"actions\":[],\"notActions\":[],\"dataActions\":["
            + "\"Microsoft.KeyVault/managedHsm/keys/read/action\",\"Microsoft.KeyVault/managedHsm/keys/backup/action\"],"
            + "\"notDataActions\":[]}],\"assignableScopes\":[\"/\"]}}";
    private static final String WRAP = "{\"alg\":\"RSA-OAEP-256\",\"value\":\"" + Json.b64url(new byte[32]) + "\"}";

    @TempDir
    Path dir;
    private KeyVaultFixture f;
    private Store hsm;

    @BeforeEach
    void open() {
        f = new KeyVaultFixture(dir);
        hsm = f.hsm("hsm-rbac");
    }

    @AfterEach
    void close() {
        f.close();
    }

    private ObjectNode assignment(String roleDefinition, Principal principal) {
        ObjectNode body = Json.object();
        body.putObject("properties").put("roleDefinitionId", LocalRbac.DEFINITION_ID_PREFIX + roleDefinition)
                .put("principalId", principal.objectId());
        return body;
    }

    private List<String> names(KeyService.Page page) {
        return page.value().stream().map(n -> n.path("name").asText()).toList();
    }

    @Test
    void customBackupRoleAtOneKeyGrantsReadAndBackupOfThatKeyOnly() {
        f.createKey(hsm, "cvm-key", "RSA-HSM");
        f.createKey(hsm, "other-key", "RSA-HSM");
        String roleId = UUID.randomUUID().toString();
        ObjectNode role = f.keys.putRoleDefinition(f.admin, hsm, "/", roleId, json(BACKUP_ROLE));
        assertThat(role.path("id").asText()).isEqualTo(LocalRbac.DEFINITION_ID_PREFIX + roleId);
        assertThat(role.path("properties").path("type").asText()).isEqualTo("CustomRole");
        Principal bms = f.backupManagementService();
        ObjectNode assigned = f.keys.putRoleAssignment(f.admin, hsm, "/keys/cvm-key", UUID.randomUUID().toString(),
                assignment(roleId, bms));
        assertThat(assigned.path("id").asText()).startsWith("/keys/cvm-key/providers/Microsoft.Authorization/"
                + "roleAssignments/");
        assertThat(assigned.path("properties").path("scope").asText()).isEqualTo("/keys/cvm-key");

        assertThat(f.keys.getKey(bms, hsm, "cvm-key", null).path("key").path("kty").asText()).isEqualTo("RSA-HSM");
        ObjectNode backup = f.keys.backupKey(bms, hsm, "cvm-key");
        assertThat(backup.path("value").asText()).isNotEmpty();
        f.keys.deleteKey(f.admin, hsm, "cvm-key");
        f.keys.purgeDeletedKey(f.admin, hsm, "cvm-key");
        assertThat(f.rejectsWithoutWriting(() -> f.keys.restoreKey(bms, hsm, backup), 403, "Forbidden").getMessage())
                .contains("Microsoft.KeyVault/managedHsm/keys/restore/action").contains("Scope: '/keys/cvm-key'");
        f.keys.restoreKey(f.admin, hsm, backup);

        ArmException wrap = f.rejectsWithoutWriting(() -> f.keys.keyOperation(bms, hsm, "cvm-key", null, "wrapkey",
                json(WRAP)), 403, "Forbidden");
        assertThat(wrap.getMessage()).contains("Microsoft.KeyVault/managedHsm/keys/wrap/action")
                .contains("Scope: '/keys/cvm-key'");
        f.rejectsWithoutWriting(() -> f.keys.keyOperation(bms, hsm, "cvm-key", null, "unwrapkey", json(WRAP)), 403,
                "Forbidden");
        ArmException other = f.rejectsWithoutWriting(() -> f.keys.getKey(bms, hsm, "other-key", null), 403,
                "Forbidden");
        assertThat(other.getMessage()).contains("Scope: '/keys/other-key'");
        f.rejectsWithoutWriting(() -> f.keys.backupKey(bms, hsm, "other-key"), 403, "Forbidden");
        f.rejectsWithoutWriting(() -> f.keys.listKeys(bms, hsm, 25, null), 403, "Forbidden");
        f.rejectsWithoutWriting(() -> f.keys.deleteKey(bms, hsm, "cvm-key"), 403, "Forbidden");
        f.rejectsWithoutWriting(() -> f.keys.listRoleAssignments(bms, hsm, "/", null), 403, "Forbidden");
    }

    @Test
    void builtInDefinitionsAreListedAndCannotBeChanged() {
        KeyService.Page all = f.keys.listRoleDefinitions(f.admin, hsm, "/", null);
        assertThat(names(all)).contains("a290e904-7015-4bba-90c8-60543313cdb4", "515eb02d-2335-4d2d-92f2-b1cbdf9c3778",
                "21dbd100-6940-42c2-9190-5d6cb909625b", "33413926-3206-4cdd-b39a-83574fe37a17",
                "7b127d3c-77bd-4e3e-bbe0-dbb8971fa7f8", "21dbd100-6940-42c2-9190-5d6cb909625c",
                "4bd23610-cdcf-4971-bdee-bdc562cc28e4", "2c18b078-7c48-4d3a-af88-5a3a1b3f82b3");
        ObjectNode user = f.keys.getRoleDefinition(f.admin, hsm, "/", "33413926-3206-4cdd-b39a-83574fe37a17");
        assertThat(user.path("properties").path("type").asText()).isEqualTo("AKVBuiltInRole");
        assertThat(user.path("properties").path("roleName").asText())
                .isEqualTo("Managed HSM Crypto Service Encryption User");
        assertThat(user.path("properties").path("permissions").get(0).path("dataActions"))
                .extracting(JsonNode::asText).containsExactly("Microsoft.KeyVault/managedHsm/keys/read/action",
                        "Microsoft.KeyVault/managedHsm/keys/wrap/action",
                        "Microsoft.KeyVault/managedHsm/keys/unwrap/action");
        assertThat(names(f.keys.listRoleDefinitions(f.admin, hsm, "/", "roleName eq 'Managed HSM Crypto User'")))
                .containsExactly("21dbd100-6940-42c2-9190-5d6cb909625b");

        f.rejectsWithoutWriting(() -> f.keys.putRoleDefinition(f.admin, hsm, "/",
                "21dbd100-6940-42c2-9190-5d6cb909625b", json(BACKUP_ROLE)), 400, "BadParameter");
        f.rejectsWithoutWriting(() -> f.keys.deleteRoleDefinition(f.admin, hsm, "/",
                "21dbd100-6940-42c2-9190-5d6cb909625b"), 400, "BadParameter");
        rejects(() -> f.keys.getRoleDefinition(f.admin, hsm, "/", UUID.randomUUID().toString()), 404,
                "RoleDefinitionNotFound");
    }

    @Test
    void customDefinitionsAreValidated() {
        String id = UUID.randomUUID().toString();
        assertThat(f.rejectsWithoutWriting(() -> f.keys.putRoleDefinition(f.admin, hsm, "/keys", id,
                json(BACKUP_ROLE)), 400, "BadParameter").getMessage()).contains("scope '/'");
        f.rejectsWithoutWriting(() -> f.keys.putRoleDefinition(f.admin, hsm, "/", "not-a-guid", json(BACKUP_ROLE)),
                400, "BadParameter");
        assertThat(f.rejectsWithoutWriting(() -> f.keys.putRoleDefinition(f.admin, hsm, "/", id,
                json(BACKUP_ROLE.replace("keys/backup/action", "keys/steal/action"))), 400, "BadParameter")
                .getMessage()).contains("keys/steal/action");
        f.rejectsWithoutWriting(() -> f.keys.putRoleDefinition(f.admin, hsm, "/", id,
                json("{\"properties\":{\"roleName\":\"x\"}}")), 400, "BadParameter");
        f.keys.putRoleDefinition(f.admin, hsm, "/", id, json(BACKUP_ROLE));
        f.rejectsWithoutWriting(() -> f.keys.putRoleDefinition(f.admin, hsm, "/", UUID.randomUUID().toString(),
                json(BACKUP_ROLE)), 409, "RoleDefinitionWithSameNameExists");
        f.rejectsWithoutWriting(() -> f.keys.putRoleDefinition(f.admin, hsm, "/", UUID.randomUUID().toString(),
                json(BACKUP_ROLE.replace("Backup CVM key", "Managed HSM Crypto User"))), 409,
                "RoleDefinitionWithSameNameExists");
    }

    @Test
    void deletingACustomRoleMakesItsAssignmentsDefunct() {
        f.createKey(hsm, "k1", "RSA-HSM");
        Principal app = f.servicePrincipal("reader");
        String roleId = UUID.randomUUID().toString();
        f.keys.putRoleDefinition(f.admin, hsm, "/", roleId, json(BACKUP_ROLE));
        f.keys.putRoleAssignment(f.admin, hsm, "/keys", UUID.randomUUID().toString(), assignment(roleId, app));
        assertThat(f.keys.getKey(app, hsm, "k1", null)).isNotNull();

        ObjectNode deleted = f.keys.deleteRoleDefinition(f.admin, hsm, "/", roleId);
        assertThat(deleted.path("name").asText()).isEqualTo(roleId);
        f.rejectsWithoutWriting(() -> f.keys.getKey(app, hsm, "k1", null), 403, "Forbidden");
        assertThat(f.keys.listRoleAssignments(f.admin, hsm, "/keys", "principalId eq '" + app.objectId() + "'")
                .value()).hasSize(1);
        f.keys.putRoleDefinition(f.admin, hsm, "/", roleId, json(BACKUP_ROLE));
        assertThat(f.keys.getKey(app, hsm, "k1", null)).isNotNull();
    }

    @Test
    void assignmentListingFollowsScopes() {
        Principal app = f.servicePrincipal("scoped");
        String atKeys = UUID.randomUUID().toString();
        String atKey = UUID.randomUUID().toString();
        f.keys.putRoleAssignment(f.admin, hsm, "/keys", atKeys, assignment(KeyVaultFixture.HSM_CRYPTO_USER, app));
        f.keys.putRoleAssignment(f.admin, hsm, "/keys/k1", atKey,
                assignment("33413926-3206-4cdd-b39a-83574fe37a17", app));

        List<String> atRoot = names(f.keys.listRoleAssignments(f.admin, hsm, "//", null));
        assertThat(atRoot).doesNotContain(atKeys, atKey);
        List<String> underKeys = names(f.keys.listRoleAssignments(f.admin, hsm, "/keys", null));
        assertThat(underKeys).contains(atKeys).doesNotContain(atKey);
        assertThat(names(f.keys.listRoleAssignments(f.admin, hsm, "/keys/k1", null))).contains(atKeys, atKey);
        assertThat(names(f.keys.listRoleAssignments(f.admin, hsm, "/keys/k1", "atScope()"))).containsExactly(atKey);
        assertThat(names(f.keys.listRoleAssignments(f.admin, hsm, "/keys/k1",
                "atScope() and principalId eq '" + app.objectId() + "'"))).containsExactly(atKey);
        assertThat(names(f.keys.listRoleAssignments(f.admin, hsm, "/", "principalId eq '" + f.admin.objectId()
                + "'"))).hasSize(3);
        rejects(() -> f.keys.listRoleAssignments(f.admin, hsm, "/", "roleName eq 'x'"), 400, "BadParameter");

        assertThat(f.keys.getRoleAssignment(f.admin, hsm, "/keys/k1", atKey).path("properties").path("principalId")
                .asText()).isEqualTo(app.objectId());
        assertThat(f.keys.deleteRoleAssignment(f.admin, hsm, "/keys/k1", atKey).path("name").asText())
                .isEqualTo(atKey);
        rejects(() -> f.keys.getRoleAssignment(f.admin, hsm, "/keys/k1", atKey), 404, "RoleAssignmentNotFound");
        rejects(() -> f.keys.deleteRoleAssignment(f.admin, hsm, "/keys/k1", atKey), 404, "RoleAssignmentNotFound");
    }

    @Test
    void badAssignmentsAreRejectedWithoutWriting() {
        Principal app = f.servicePrincipal("assignee");
        String name = UUID.randomUUID().toString();
        f.rejectsWithoutWriting(() -> f.keys.putRoleAssignment(f.admin, hsm, "/secrets", name,
                assignment(KeyVaultFixture.HSM_CRYPTO_USER, app)), 400, "BadParameter");
        f.rejectsWithoutWriting(() -> f.keys.putRoleAssignment(f.admin, hsm, "/keys/bad_name", name,
                assignment(KeyVaultFixture.HSM_CRYPTO_USER, app)), 400, "BadParameter");
        f.rejectsWithoutWriting(() -> f.keys.putRoleAssignment(f.admin, hsm, "/", "nope",
                assignment(KeyVaultFixture.HSM_CRYPTO_USER, app)), 400, "BadParameter");
        f.rejectsWithoutWriting(() -> f.keys.putRoleAssignment(f.admin, hsm, "/", name,
                assignment(UUID.randomUUID().toString(), app)), 400, "RoleDefinitionDoesNotExist");
        ObjectNode ghost = assignment(KeyVaultFixture.HSM_CRYPTO_USER, app);
        ((ObjectNode) ghost.get("properties")).put("principalId", UUID.randomUUID().toString());
        f.rejectsWithoutWriting(() -> f.keys.putRoleAssignment(f.admin, hsm, "/", name, ghost), 400,
                "PrincipalNotFound");
        f.rejectsWithoutWriting(() -> f.keys.putRoleAssignment(f.admin, hsm, "/", name, json("{}")), 400,
                "BadParameter");

        f.keys.putRoleAssignment(f.admin, hsm, "/keys", name, assignment(KeyVaultFixture.HSM_CRYPTO_USER, app));
        assertThat(f.keys.putRoleAssignment(f.admin, hsm, "/keys", name,
                assignment(KeyVaultFixture.HSM_CRYPTO_USER, app)).path("name").asText()).isEqualTo(name);
        f.rejectsWithoutWriting(() -> f.keys.putRoleAssignment(f.admin, hsm, "/keys", UUID.randomUUID().toString(),
                assignment(KeyVaultFixture.HSM_CRYPTO_USER, app)), 409, "RoleAssignmentExists");
        f.rejectsWithoutWriting(() -> f.keys.putRoleAssignment(f.admin, hsm, "/", name,
                assignment(KeyVaultFixture.HSM_CRYPTO_USER, app)), 409, "RoleAssignmentUpdateNotPermitted");

        // A Crypto User may read role assignments but not write them.
        ArmException denied = f.rejectsWithoutWriting(() -> f.keys.putRoleAssignment(app, hsm, "/keys/k1",
                UUID.randomUUID().toString(), assignment(KeyVaultFixture.HSM_CRYPTO_USER, app)), 403, "Forbidden");
        assertThat(denied.getMessage()).contains("Microsoft.KeyVault/managedHsm/roleAssignments/write/action");
        assertThat(f.keys.listRoleAssignments(app, hsm, "/keys", null).value()).isNotEmpty();
    }

    @Test
    void keyVaultsHaveNoLocalRbac() {
        Store vault = f.vault("kv-norbac", "uaenorth", "standard");
        assertThat(rejects(() -> f.keys.listRoleDefinitions(f.admin, vault, "/", null), 400, "BadParameter")
                .getMessage()).contains("Managed HSM");
    }
}
