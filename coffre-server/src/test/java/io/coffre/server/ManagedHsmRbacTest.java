package io.coffre.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.coffre.CoffreCore;
import io.coffre.identity.Directory;
import io.coffre.identity.Principal;
import io.coffre.json.Json;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Managed HSM local RBAC over raw HTTPS with the reference shapes (azure-rest-shapes §2): the least-privilege
 * custom role the backup service needs, granted at one key's scope, and nothing more.
 */
class ManagedHsmRbacTest {
    static final String V = "?api-version=7.6";
    static final String ROLE_ID_PREFIX = "Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/";
    static final String CRYPTO_USER = "21dbd100-6940-42c2-9190-5d6cb909625b";

    @Test
    void backupServiceWithACustomRoleAtOneKeyMayReadAndBackUpThatKeyOnly() {
        try (TestServer server = TestServer.start()) {
            CoffreCore core = server.server().core();
            Principal admin = core.identity().admin();
            String adminToken = core.identity().issueToken(admin, List.of(core.endpoints().managedHsmResource(),
                    core.endpoints().managementResource()), Duration.ofHours(1));
            String hsm = KeyStores.createManagedHsm(server, adminToken, "hsm1", admin.objectId());

            // The initial administrator may manage roles but holds no key permissions until it grants itself some.
            HttpResponse<String> selfGrant = server.send("PUT", hsm, "//providers/Microsoft.Authorization/roleAssignments/"
                    + UUID.randomUUID() + V, adminToken, assignment(CRYPTO_USER, admin.objectId()));
            assertThat(selfGrant.statusCode()).as(selfGrant.body()).isEqualTo(201);
            JsonNode granted = Json.parse(selfGrant.body());
            assertThat(granted.path("type").asText()).isEqualTo("Microsoft.Authorization/roleAssignments");
            assertThat(granted.at("/properties/scope").asText()).isEqualTo("/");
            assertThat(granted.at("/properties/principalId").asText()).isEqualTo(admin.objectId());
            for (String key : new String[] {"k1", "k2"}) {
                HttpResponse<String> created = server.send("POST", hsm, "/keys/" + key + "/create" + V, adminToken,
                        "{\"kty\":\"RSA-HSM\",\"key_size\":3072}");
                assertThat(created.statusCode()).as(created.body()).isEqualTo(200);
            }

            String roleName = UUID.randomUUID().toString();
            HttpResponse<String> role = server.send("PUT", hsm, "//providers/Microsoft.Authorization/roleDefinitions/"
                    + roleName + V, adminToken, """
                    {"properties":{"roleName":"Backup key reader","description":"read and back up keys",
                     "type":"CustomRole","permissions":[{"actions":[],"notActions":[],
                     "dataActions":["Microsoft.KeyVault/managedHsm/keys/read/action",
                                    "Microsoft.KeyVault/managedHsm/keys/backup/action"],"notDataActions":[]}],
                     "assignableScopes":["/"]}}""");
            assertThat(role.statusCode()).as(role.body()).isEqualTo(201);
            JsonNode definition = Json.parse(role.body());
            assertThat(definition.path("id").asText()).isEqualTo(ROLE_ID_PREFIX + roleName);
            assertThat(definition.path("name").asText()).isEqualTo(roleName);
            assertThat(definition.at("/properties/type").asText()).isEqualTo("CustomRole");

            Principal backupService = core.identity().find(Directory.BACKUP_MANAGEMENT_SERVICE_APP_ID).orElseThrow();
            HttpResponse<String> grant = server.send("PUT", hsm, "/keys/k1/providers/Microsoft.Authorization/"
                    + "roleAssignments/" + UUID.randomUUID() + V, adminToken, assignment(roleName, backupService.objectId()));
            assertThat(grant.statusCode()).as(grant.body()).isEqualTo(201);
            assertThat(Json.parse(grant.body()).at("/properties/scope").asText()).isEqualTo("/keys/k1");
            HttpResponse<String> listed = server.send("GET", hsm, "/keys/k1/providers/Microsoft.Authorization/"
                    + "roleAssignments" + V + "&$filter=atScope()", adminToken, null);
            assertThat(listed.statusCode()).isEqualTo(200);
            assertThat(listed.body()).contains(backupService.objectId());

            String backupToken = core.identity().issueToken(backupService,
                    List.of(core.endpoints().managedHsmResource()), Duration.ofHours(1));
            assertThat(server.send("GET", hsm, "/keys/k1" + V, backupToken, null).statusCode()).isEqualTo(200);
            HttpResponse<String> backup = server.send("POST", hsm, "/keys/k1/backup" + V, backupToken, null);
            assertThat(backup.statusCode()).as(backup.body()).isEqualTo(200);
            assertThat(Json.parse(backup.body()).path("value").asText()).matches("[A-Za-z0-9_-]+");

            String wrapBody = "{\"alg\":\"RSA-OAEP-256\",\"value\":\"" + Json.b64url(new byte[32]) + "\"}";
            assertForbidden(server.send("POST", hsm, "/keys/k1/wrapkey" + V, backupToken, wrapBody),
                    "Microsoft.KeyVault/managedHsm/keys/wrap/action", "/keys/k1");
            assertForbidden(server.send("POST", hsm, "/keys/k1/unwrapkey" + V, backupToken, wrapBody),
                    "Microsoft.KeyVault/managedHsm/keys/unwrap/action", "/keys/k1");
            assertForbidden(server.send("GET", hsm, "/keys/k2" + V, backupToken, null),
                    "Microsoft.KeyVault/managedHsm/keys/read/action", "/keys/k2");
            assertForbidden(server.send("POST", hsm, "/keys/k2/backup" + V, backupToken, null),
                    "Microsoft.KeyVault/managedHsm/keys/backup/action", "/keys/k2");
        }
    }

    private static String assignment(String roleDefinitionName, String principalId) {
        return "{\"properties\":{\"roleDefinitionId\":\"" + ROLE_ID_PREFIX + roleDefinitionName
                + "\",\"principalId\":\"" + principalId + "\"}}";
    }

    private static void assertForbidden(HttpResponse<String> r, String dataAction, String scope) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(403);
        JsonNode error = Json.parse(r.body()).path("error");
        assertThat(error.path("code").asText()).isEqualTo("Forbidden");
        assertThat(error.path("message").asText()).contains(dataAction).contains(scope);
    }
}
