package io.coffre.server;

import static io.coffre.server.ArmClient.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.coffre.identity.Principal;
import java.net.http.HttpResponse;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class AuthorizationRoutesTest {
    private static final String V = "?api-version=2022-04-01";
    private static final String CRYPTO_USER = "12338af0-0e69-4776-bea7-57ae8d297424";
    private static TestServer server;
    private static ArmClient admin;
    private static String sub;
    private static String rg;
    private static String vault;

    @BeforeAll
    static void start() {
        server = TestServer.start();
        admin = ArmClient.admin(server);
        sub = "/subscriptions/" + admin.subscriptionId();
        admin.send("PUT", sub + "/resourcegroups/rbac?api-version=2021-04-01", "{\"location\":\"uaenorth\"}");
        rg = sub + "/resourceGroups/rbac";
        vault = rg + "/providers/Microsoft.KeyVault/vaults/kvrbac";
        server.server().core().resourceIndex().put(vault, "Microsoft.KeyVault/vaults", "uaenorth", null);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static String body(String roleGuid, String principalId, String principalType) {
        return "{\"properties\":{\"roleDefinitionId\":\"" + sub + "/providers/Microsoft.Authorization/roleDefinitions/"
                + roleGuid + "\",\"principalId\":\"" + principalId + "\""
                + (principalType == null ? "" : ",\"principalType\":\"" + principalType + "\"") + "}}";
    }

    private static Principal newServicePrincipal(String name) {
        return server.server().core().identity().createServicePrincipal(name).principal();
    }

    @Test
    void aRoleAssignmentOnAKeyRoundTripsAndGrantsItsDataActions() {
        Principal des = newServicePrincipal("des-identity");
        String key = vault + "/keys/cvmkey";
        String name = UUID.randomUUID().toString();
        String url = key + "/providers/Microsoft.Authorization/roleAssignments/" + name + V;
        HttpResponse<String> put = admin.send("PUT", url, body("e147488a-f6f5-4113-8e2d-b22465e65bf6",
                des.objectId(), "ServicePrincipal"));
        assertThat(put.statusCode()).as(put.body()).isEqualTo(201);
        JsonNode a = json(put);
        assertThat(a.get("id").asText()).isEqualTo(key + "/providers/Microsoft.Authorization/roleAssignments/" + name);
        assertThat(a.get("name").asText()).isEqualTo(name);
        assertThat(a.get("type").asText()).isEqualTo("Microsoft.Authorization/roleAssignments");
        assertThat(a.at("/properties/roleDefinitionId").asText()).isEqualTo(sub
                + "/providers/Microsoft.Authorization/roleDefinitions/e147488a-f6f5-4113-8e2d-b22465e65bf6");
        assertThat(a.at("/properties/principalId").asText()).isEqualTo(des.objectId());
        assertThat(a.at("/properties/principalType").asText()).isEqualTo("ServicePrincipal");
        assertThat(a.at("/properties/scope").asText()).isEqualTo(key);

        var rbac = server.server().core().accessControl();
        assertThat(rbac.isAllowed(des, key, "Microsoft.KeyVault/vaults/keys/unwrap/action", true)).isTrue();
        assertThat(rbac.isAllowed(des, vault + "/keys/other", "Microsoft.KeyVault/vaults/keys/unwrap/action", true))
                .isFalse();

        assertThat(json(admin.get(key + "/providers/Microsoft.Authorization/roleAssignments/" + name + V)))
                .isEqualTo(a);
        HttpResponse<String> again = admin.send("PUT", url, body("e147488a-f6f5-4113-8e2d-b22465e65bf6",
                des.objectId(), null));
        assertThat(again.statusCode()).isEqualTo(201);

        HttpResponse<String> deleted = admin.send("DELETE", url, null);
        assertThat(deleted.statusCode()).isEqualTo(200);
        assertThat(json(deleted).get("name").asText()).isEqualTo(name);
        assertThat(admin.send("DELETE", url, null).statusCode()).isEqualTo(204);
        HttpResponse<String> gone = admin.get(key + "/providers/Microsoft.Authorization/roleAssignments/" + name + V);
        assertThat(gone.statusCode()).isEqualTo(404);
        assertThat(json(gone).at("/error/code").asText()).isEqualTo("RoleAssignmentNotFound");
        assertThat(rbac.isAllowed(des, key, "Microsoft.KeyVault/vaults/keys/unwrap/action", true)).isFalse();
    }

    @Test
    void everyRefusalHasItsArmError() {
        Principal sp = newServicePrincipal("refused");
        String base = rg + "/providers/Microsoft.Authorization/roleAssignments/";
        String name = UUID.randomUUID().toString();
        assertThat(admin.send("PUT", base + name + V, body(CRYPTO_USER, sp.objectId(), null)).statusCode())
                .isEqualTo(201);
        expect(admin.send("PUT", base + UUID.randomUUID() + V, body(CRYPTO_USER, sp.objectId(), null)), 409,
                "RoleAssignmentExists");
        expect(admin.send("PUT", base + UUID.randomUUID() + V, body(CRYPTO_USER, UUID.randomUUID().toString(), null)),
                400, "PrincipalNotFound");
        expect(admin.send("PUT", base + UUID.randomUUID() + V, body(UUID.randomUUID().toString(), sp.objectId(), null)),
                404, "RoleDefinitionDoesNotExist");
        expect(admin.send("PUT", base + "not-a-guid" + V, body(CRYPTO_USER, sp.objectId(), null)), 400,
                "InvalidRoleAssignmentId");
        expect(admin.send("PUT", base + UUID.randomUUID() + V, body(CRYPTO_USER, sp.objectId(), "User")), 400,
                "UnmatchedPrincipalType");
        expect(admin.send("PUT", sub + "/resourceGroups/nowhere/providers/Microsoft.Authorization/roleAssignments/"
                + UUID.randomUUID() + V, body(CRYPTO_USER, sp.objectId(), null)), 404, "ResourceGroupNotFound");
        expect(admin.send("PUT", base + UUID.randomUUID(), body(CRYPTO_USER, sp.objectId(), null)), 400,
                "MissingApiVersionParameter");
        HttpResponse<String> forbidden = new ArmClient(server, sp).send("PUT", base + UUID.randomUUID() + V,
                body("8e3af657-a8ff-443c-a75c-2fe8c4bcb635", sp.objectId(), null));
        expect(forbidden, 403, "AuthorizationFailed");
        assertThat(json(forbidden).at("/error/message").asText()).isEqualTo("The client '" + sp.appId()
                + "' with object id '" + sp.objectId() + "' does not have authorization to perform action"
                + " 'Microsoft.Authorization/roleAssignments/write' over scope '" + rg + "' or the scope is invalid."
                + " If access was recently granted, please refresh your credentials.");
        expect(admin.get(rg + "/providers/Microsoft.Authorization/roleAssignments" + V + "&$filter=foo"), 400,
                "UnsupportedQuery");
    }

    @Test
    void listingsFollowTheirFilters() {
        Principal sp = newServicePrincipal("listed");
        String atVault = UUID.randomUUID().toString();
        admin.send("PUT", vault + "/providers/Microsoft.Authorization/roleAssignments/" + atVault + V,
                body(CRYPTO_USER, sp.objectId(), null));

        JsonNode atScope = json(admin.get(rg + "/providers/Microsoft.Authorization/roleAssignments" + V
                + "&$filter=atScope()")).get("value");
        assertThat(atScope).extracting(n -> n.get("name").asText()).doesNotContain(atVault);
        assertThat(atScope).extracting(n -> n.at("/properties/principalId").asText())
                .contains(server.server().core().identity().admin().objectId());

        JsonNode below = json(admin.get(rg + "/providers/Microsoft.Authorization/roleAssignments" + V)).get("value");
        assertThat(below).extracting(n -> n.get("name").asText()).contains(atVault);

        JsonNode byPrincipal = json(admin.get(sub + "/providers/Microsoft.Authorization/roleAssignments" + V
                + "&$filter=principalId%20eq%20'" + sp.objectId() + "'")).get("value");
        assertThat(byPrincipal).extracting(n -> n.get("name").asText()).containsExactly(atVault);
        JsonNode atVaultScope = json(admin.get(vault + "/providers/Microsoft.Authorization/roleAssignments" + V
                + "&$filter=atScope()%20and%20assignedTo('" + sp.objectId() + "')")).get("value");
        assertThat(atVaultScope).extracting(n -> n.get("name").asText()).containsExactly(atVault);
    }

    @Test
    void roleDefinitionsAreListedAndFoundByName() {
        JsonNode all = json(admin.get(sub + "/providers/Microsoft.Authorization/roleDefinitions" + V)).get("value");
        assertThat(all).extracting(n -> n.at("/properties/roleName").asText()).contains("Owner", "Contributor",
                "Reader", "Key Vault Crypto Service Encryption User", "Backup Operator");
        JsonNode release = json(admin.get(vault + "/providers/Microsoft.Authorization/roleDefinitions" + V
                + "&$filter=roleName%20eq%20'Key%20Vault%20Crypto%20Service%20Release%20User'")).get("value");
        assertThat(release).hasSize(1);
        JsonNode d = release.get(0);
        assertThat(d.get("id").asText()).isEqualTo(sub
                + "/providers/Microsoft.Authorization/roleDefinitions/08bbd89e-9f13-488c-ac41-acfcb10c90ab");
        assertThat(d.get("name").asText()).isEqualTo("08bbd89e-9f13-488c-ac41-acfcb10c90ab");
        assertThat(d.get("type").asText()).isEqualTo("Microsoft.Authorization/roleDefinitions");
        assertThat(d.at("/properties/type").asText()).isEqualTo("BuiltInRole");
        assertThat(d.at("/properties/permissions/0/dataActions/0").asText())
                .isEqualTo("Microsoft.KeyVault/vaults/keys/release/action");
        JsonNode owner = json(admin.get(sub + "/providers/Microsoft.Authorization/roleDefinitions/"
                + "8e3af657-a8ff-443c-a75c-2fe8c4bcb635" + V));
        assertThat(owner.at("/properties/roleName").asText()).isEqualTo("Owner");
        expect(admin.get(sub + "/providers/Microsoft.Authorization/roleDefinitions/" + UUID.randomUUID() + V), 404,
                "RoleDefinitionDoesNotExist");
        assertThat(json(admin.get(sub + "/providers/Microsoft.Authorization/roleDefinitions" + V
                + "&$filter=type%20eq%20'CustomRole'")).get("value")).isEmpty();
    }

    private static void expect(HttpResponse<String> r, int status, String code) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        assertThat(json(r).at("/error/code").asText()).as(r.body()).isEqualTo(code);
    }
}
