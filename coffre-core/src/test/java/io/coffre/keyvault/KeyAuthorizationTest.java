package io.coffre.keyvault;

import static io.coffre.keyvault.KeyVaultFixture.accessPolicy;
import static io.coffre.keyvault.KeyVaultFixture.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.arm.ArmException;
import io.coffre.audit.AuditLog;
import io.coffre.identity.Principal;
import io.coffre.json.Json;
import io.coffre.keyvault.KeyService.Store;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every data-plane call is authorised by the store's model, and a refusal names what is missing and where. */
class KeyAuthorizationTest {
    private static final String WRAP = "{\"alg\":\"RSA-OAEP-256\",\"value\":\"" + Json.b64url(new byte[32]) + "\"}";

    @TempDir
    Path dir;
    private KeyVaultFixture f;
    private Principal app;

    @BeforeEach
    void open() {
        f = new KeyVaultFixture(dir);
        app = f.servicePrincipal("des-identity");
    }

    @AfterEach
    void close() {
        f.close();
    }

    @Test
    void accessPolicyGrantsExactlyItsPermissions() {
        Store vault = f.vault("kv-ap", "uaenorth", "premium");
        f.createKey(vault, "k1", "RSA");
        f.setAccessPolicies(vault, accessPolicy(app, "Get", "WRAPKEY"));

        assertThat(f.keys.getKey(app, vault, "k1", null).path("key").path("kty").asText()).isEqualTo("RSA");
        ObjectNode wrapped = f.keys.keyOperation(app, vault, "k1", null, "wrapkey", json(WRAP));
        ArmException denied = f.rejectsWithoutWriting(() -> f.keys.keyOperation(app, vault, "k1", null, "unwrapkey",
                json("{\"alg\":\"RSA-OAEP-256\",\"value\":\"" + wrapped.path("value").asText() + "\"}")), 403,
                "Forbidden");
        assertThat(denied.innerCode()).isEqualTo("AccessDenied");
        assertThat(denied.getMessage()).contains("appid=" + app.appId()).contains("oid=" + app.objectId())
                .contains("does not have keys unwrapKey permission on key vault 'kv-ap;location=uaenorth'");
        assertThat(f.rejectsWithoutWriting(() -> f.keys.createKey(app, vault, "k2", json("{\"kty\":\"RSA\"}")),
                403, "Forbidden").getMessage()).contains("keys create permission");
    }

    @Test
    void everyPermissionIsCheckedByName() {
        Store vault = f.vault("kv-perm", "uaenorth", "premium");
        f.createKey(vault, "k1", "RSA");
        record Call(String permission, Runnable call) {
        }
        List<Call> calls = List.of(
                new Call("get", () -> f.keys.getKey(app, vault, "k1", null)),
                new Call("list", () -> f.keys.listKeys(app, vault, 25, null)),
                new Call("list", () -> f.keys.listKeyVersions(app, vault, "k1", 25, null)),
                new Call("create", () -> f.keys.createKey(app, vault, "k2", json("{\"kty\":\"RSA\"}"))),
                new Call("import", () -> f.keys.importKey(app, vault, "k2", KnownKeys.importParameters(
                        KnownKeys.ec()))),
                new Call("update", () -> f.keys.updateKey(app, vault, "k1", null, json("{}"))),
                new Call("delete", () -> f.keys.deleteKey(app, vault, "k1")),
                new Call("backup", () -> f.keys.backupKey(app, vault, "k1")),
                new Call("restore", () -> f.keys.restoreKey(app, vault, json("{\"value\":\"AAAA\"}"))),
                new Call("rotate", () -> f.keys.rotateKey(app, vault, "k1")),
                new Call("getrotationpolicy", () -> f.keys.getRotationPolicy(app, vault, "k1")),
                new Call("setrotationpolicy", () -> f.keys.putRotationPolicy(app, vault, "k1", json("{}"))),
                new Call("encrypt", () -> f.keys.keyOperation(app, vault, "k1", null, "encrypt", json(WRAP))),
                new Call("sign", () -> f.keys.keyOperation(app, vault, "k1", null, "sign", json(WRAP))),
                new Call("release", () -> f.keys.keyOperation(app, vault, "k1", null, "release", json("{}"))),
                new Call("list", () -> f.keys.listDeletedKeys(app, vault, 25, null)),
                new Call("get", () -> f.keys.getDeletedKey(app, vault, "k1")),
                new Call("recover", () -> f.keys.recoverDeletedKey(app, vault, "k1")),
                new Call("purge", () -> f.keys.purgeDeletedKey(app, vault, "k1")));
        for (Call c : calls) {
            ArmException e = f.rejectsWithoutWriting(c.call()::run, 403, "Forbidden");
            assertThat(e.getMessage()).as(c.permission()).contains("keys " + c.permission() + " permission");
        }
        // "all" grants every one of them.
        f.setAccessPolicies(vault, accessPolicy(app, "all"));
        assertThat(f.keys.getKey(app, vault, "k1", null)).isNotNull();
    }

    @Test
    void rbacVaultUsesAzureRoleAssignmentsDownToTheKey() {
        Store vault = f.vault("kv-rbac", "uaenorth", "premium", (ObjectNode) json("{\"enableRbacAuthorization\":true}"));
        String vaultId = "/subscriptions/" + f.subscription + "/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/"
                + "kv-rbac";
        // The admin holds Owner, which has no data actions: even the vault's creator needs a data role.
        ArmException ownerDenied = f.rejectsWithoutWriting(() -> f.createKey(vault, "k1", "RSA"), 403, "Forbidden");
        assertThat(ownerDenied.innerCode()).isEqualTo("ForbiddenByRbac");
        assertThat(ownerDenied.getMessage()).contains("Microsoft.KeyVault/vaults/keys/create/action")
                .contains(vaultId + "/keys/k1");

        f.core.accessControl().grantBySystem(vaultId, KeyVaultFixture.KEY_VAULT_CRYPTO_OFFICER, f.admin.objectId());
        f.createKey(vault, "k1", "RSA");
        f.createKey(vault, "k2", "RSA");
        f.core.accessControl().grantBySystem(vaultId + "/keys/k1",
                "e147488a-f6f5-4113-8e2d-b22465e65bf6", app.objectId());
        assertThat(f.keys.keyOperation(app, vault, "k1", null, "wrapkey", json(WRAP)).path("value").asText())
                .isNotEmpty();
        ArmException otherKey = f.rejectsWithoutWriting(() -> f.keys.keyOperation(app, vault, "k2", null,
                "wrapkey", json(WRAP)), 403, "Forbidden");
        assertThat(otherKey.getMessage()).contains("Microsoft.KeyVault/vaults/keys/wrap/action")
                .contains(vaultId + "/keys/k2");
        ArmException sign = f.rejectsWithoutWriting(() -> f.keys.keyOperation(app, vault, "k1", null, "sign",
                json("{\"alg\":\"RS256\",\"value\":\"" + Json.b64url(new byte[32]) + "\"}")), 403, "Forbidden");
        assertThat(sign.getMessage()).contains("Microsoft.KeyVault/vaults/keys/sign/action");
        // Access policies are ignored in RBAC mode, even one granting everything.
        f.setAccessPolicies(vault, accessPolicy(app, "all"));
        f.rejectsWithoutWriting(() -> f.keys.getKey(app, vault, "k2", null), 403, "Forbidden");
    }

    @Test
    void managedHsmRefusalNamesTheDataActionAndScope() {
        Store hsm = f.hsm("hsm-deny");
        f.createKey(hsm, "k1", "RSA-HSM");
        f.assign(hsm, "/keys/k1", "33413926-3206-4cdd-b39a-83574fe37a17", app);
        f.keys.keyOperation(app, hsm, "k1", null, "wrapkey", json(WRAP));
        ArmException e = f.rejectsWithoutWriting(() -> f.keys.keyOperation(app, hsm, "k1", null, "sign",
                json("{\"alg\":\"RS256\",\"value\":\"" + Json.b64url(new byte[32]) + "\"}")), 403, "Forbidden");
        assertThat(e.getMessage()).contains("Caller is not authorized to perform action on resource")
                .contains("Action: 'Microsoft.KeyVault/managedHsm/keys/sign/action'").contains("Scope: '/keys/k1'");
    }

    @Test
    void everyCallIsAuditedAllowedOrNot() {
        Store vault = f.vault("kv-audit", "uaenorth", "premium");
        ObjectNode created = f.createKey(vault, "k1", "RSA");
        f.rejectsWithoutWriting(() -> f.keys.getKey(app, vault, "k1", null), 403, "Forbidden");
        List<AuditLog.Entry> entries = f.core.audit().list(f.core.endpoints().vaultUri("kv-audit") + "/keys/k1", 100);
        assertThat(entries).anySatisfy(e -> {
            assertThat(e.operation()).isEqualTo("KeyCreate");
            assertThat(e.principalId()).isEqualTo(f.admin.objectId());
            assertThat(e.keyVersion()).isEqualTo(KeyVaultFixture.version(created));
            assertThat(e.allowed()).isTrue();
        });
        assertThat(entries).anySatisfy(e -> {
            assertThat(e.operation()).isEqualTo("KeyGet");
            assertThat(e.principalId()).isEqualTo(app.objectId());
            assertThat(e.allowed()).isFalse();
            assertThat(e.detail()).contains("403").contains("get");
        });
    }
}
