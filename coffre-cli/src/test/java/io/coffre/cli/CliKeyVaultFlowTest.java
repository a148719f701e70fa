package io.coffre.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.coffre.json.Json;
import io.coffre.server.CoffreServer;
import io.coffre.server.ServerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The CLI against the real key service, ARM, directory and attestation routes. */
class CliKeyVaultFlowTest {
    private static Path dir;
    private static CoffreServer server;

    @BeforeAll
    static void start() throws Exception {
        dir = Files.createTempDirectory("coffre-cli-flow");
        server = CoffreServer.start(ServerConfig.defaults(dir).withPort(0));
    }

    @AfterAll
    static void stop() {
        server.close();
        QuickstartCommand.deleteRecursively(dir);
    }

    private static CliRun.Result ok(String... args) {
        List<String> argv = new ArrayList<>(List.of("--data-dir", dir.toString()));
        argv.addAll(List.of(args));
        CliRun.Result r = CliRun.coffre(argv.toArray(String[]::new));
        assertThat(r.code()).as(r.toString()).isZero();
        return r;
    }

    @Test
    void quickstartWalksEveryStep() {
        CliRun.Result r = CliRun.coffre("quickstart");
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.out()).contains("[32] verify the audit log ... ok (intact)").doesNotContain("FAILED");
    }

    @Test
    void groupVaultAndKeyCommands() throws Exception {
        assertThat(ok("group", "create", "-n", "rg-cli", "-l", "uaenorth").json().path("name").asText())
                .isEqualTo("rg-cli");
        assertThat(ok("group", "list").json().findValuesAsText("name")).contains("rg-cli");
        JsonNode vault = ok("keyvault", "create", "-n", "kv1", "-g", "rg-cli", "-l", "uaenorth", "--sku", "premium",
                "--enable-purge-protection").json();
        assertThat(vault.path("properties").path("enablePurgeProtection").asBoolean()).isTrue();
        assertThat(ok("keyvault", "show", "-n", "kv1").json().path("name").asText()).isEqualTo("kv1");
        ok("keyvault", "set-policy", "-n", "kv1", "--spn", QuickstartSteps.BACKUP_MANAGEMENT_SERVICE,
                "--key-permissions", "get", "list", "backup");

        String kid = ok("keyvault", "key", "create", "--vault-name", "kv1", "-n", "k1", "--kty", "RSA-HSM", "--size",
                "3072", "--exportable", "--default-cvm-policy").json().path("key").path("kid").asText();
        assertThat(kid).startsWith("https://kv1.vault.coffre.localhost:" + server.port() + "/keys/k1/");
        String wrapped = ok("keyvault", "key", "wrap", "--vault-name", "kv1", "-n", "k1", "-a", "RSA-OAEP-256",
                "--value", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8").json().path("value").asText();
        assertThat(ok("keyvault", "key", "unwrap", "--vault-name", "kv1", "-n", "k1", "-a", "RSA-OAEP-256", "--value",
                wrapped).json().path("value").asText()).isEqualTo("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8");

        Path backup = dir.resolve("k1.backup");
        ok("keyvault", "key", "backup", "--vault-name", "kv1", "-n", "k1", "--file", backup.toString());
        ok("keyvault", "key", "delete", "--vault-name", "kv1", "-n", "k1");
        CliRun.Result refused = CliRun.coffre("--data-dir", dir.toString(), "keyvault", "key", "purge",
                "--vault-name", "kv1", "-n", "k1");
        assertThat(refused.code()).isEqualTo(1);
        assertThat(refused.err()).contains("(Forbidden)").contains("purge protection");
        ok("keyvault", "key", "recover", "--vault-name", "kv1", "-n", "k1");
        assertThat(ok("keyvault", "key", "list", "--vault-name", "kv1", "-o", "table").out()).contains("k1");

        // Same subscription and geography: the backup restores into another vault, keeping its version.
        ok("keyvault", "create", "-n", "kv2", "-g", "rg-cli", "-l", "uaenorth", "--sku", "premium");
        String restored = ok("keyvault", "key", "restore", "--vault-name", "kv2", "--file", backup.toString()).json()
                .path("key").path("kid").asText();
        assertThat(restored.substring(restored.lastIndexOf('/'))).isEqualTo(kid.substring(kid.lastIndexOf('/')));
        ok("keyvault", "audit", "verify");
    }

    @Test
    void managedHsmRolesAndServicePrincipals() {
        ok("group", "create", "-n", "rg-hsm", "-l", "uaenorth");
        JsonNode sp = ok("ad", "sp", "create", "--display-name", "cli-test").json();
        assertThat(sp.path("secret").asText()).isNotEmpty();
        String me = ok("ad", "sp", "show", "--id", sp.path("appId").asText()).json().path("id").asText();
        assertThat(me).isEqualTo(sp.path("objectId").asText());
        ok("keyvault", "create", "--hsm-name", "hsm1", "-g", "rg-hsm", "-l", "uaenorth", "--administrators",
                new Session(dir, null, null, null, null, java.util.Set.of(), java.util.Set.of()).callerObjectId());
        JsonNode definition = ok("keyvault", "role", "definition", "create", "--hsm-name", "hsm1", "--role-definition",
                "{\"roleName\":\"CLI backup\",\"dataActions\":[\"Microsoft.KeyVault/managedHsm/keys/read/action\","
                        + "\"Microsoft.KeyVault/managedHsm/keys/backup/action\"]}").json();
        ok("keyvault", "role", "assignment", "create", "--hsm-name", "hsm1", "--role", "CLI backup", "--assignee",
                sp.path("appId").asText(), "--scope", "/keys");
        JsonNode assignments = ok("keyvault", "role", "assignment", "list", "--hsm-name", "hsm1", "--scope", "/keys",
                "--assignee", sp.path("appId").asText()).json();
        assertThat(assignments).hasSize(1);
        assertThat(assignments.path(0).path("properties").path("roleDefinitionId").asText())
                .endsWith(definition.path("name").asText());
        ok("keyvault", "role", "assignment", "delete", "--hsm-name", "hsm1", "--scope", "/keys", "--assignee",
                sp.path("appId").asText());
        assertThat(ok("keyvault", "role", "definition", "list", "--hsm-name", "hsm1", "--custom-role-only").json())
                .hasSize(1);
        assertThat(Json.write(ok("ad", "sp", "credential", "reset", "--id", sp.path("appId").asText()).json()))
                .contains("secret");
    }
}
