package io.coffre.server;

import static io.coffre.server.ArmClient.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ArmPlumbingTest {
    private static TestServer server;
    private static ArmClient admin;
    private static String sub;

    @BeforeAll
    static void start() {
        server = TestServer.start();
        admin = ArmClient.admin(server);
        sub = "/subscriptions/" + admin.subscriptionId();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void aMissingApiVersionIsRefusedInArmWords() {
        HttpResponse<String> r = admin.get(sub + "/resourcegroups");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(json(r).at("/error/code").asText()).isEqualTo("MissingApiVersionParameter");
        assertThat(json(r).at("/error/message").asText())
                .isEqualTo("The api-version query parameter (?api-version=) is required for all requests.");
    }

    @Test
    void anUnknownApiVersionListsTheSupportedOnes() {
        HttpResponse<String> r = admin.get(sub + "/resourcegroups?api-version=2099-01-01");
        assertThat(r.statusCode()).isEqualTo(400);
        JsonNode error = json(r).get("error");
        assertThat(error.get("code").asText()).isEqualTo("InvalidApiVersionParameter");
        assertThat(error.get("message").asText()).startsWith("The api-version '2099-01-01' is invalid. The supported"
                + " versions are '").contains("2021-04-01").contains("2015-11-01");
        HttpResponse<String> auth = admin.get(sub + "/providers/Microsoft.Authorization/roleDefinitions"
                + "?api-version=2021-04-01");
        assertThat(json(auth).at("/error/message").asText()).contains("2022-04-01").doesNotContain("2019-11-01");
    }

    @Test
    void theVersionsAzCli245SendsAreAccepted() {
        assertThat(admin.get("/subscriptions?api-version=2019-11-01").statusCode()).isEqualTo(200);
        assertThat(admin.get(sub + "/resources?api-version=2015-11-01").statusCode()).isEqualTo(200);
        assertThat(admin.get(sub + "/providers/Microsoft.Compute?api-version=2021-04-01").statusCode()).isEqualTo(200);
        assertThat(admin.get(sub + "/providers/Microsoft.Authorization/roleDefinitions?api-version=2022-04-01")
                .statusCode()).isEqualTo(200);
    }

    @Test
    void armRoutesWantAToken() {
        ArmClient anonymous = ArmClient.anonymous(server);
        for (String path : new String[] {"/subscriptions?api-version=2022-12-01", sub + "/resourcegroups/rg1",
                sub + "/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01",
                sub + "/providers/Microsoft.Compute/locations/uaenorth/operations/x?api-version=2021-04-01",
                sub + "/providers/Microsoft.Nothing/locations/uaenorth/operations/x?api-version=1"}) {
            HttpResponse<String> r = anonymous.get(path);
            assertThat(r.statusCode()).as(path).isEqualTo(401);
            assertThat(json(r).at("/error/code").asText()).as(path).isEqualTo("AuthenticationFailed");
        }
        var core = server.server().core();
        String vaultToken = core.identity().issueToken(core.identity().admin(),
                java.util.List.of(core.endpoints().vaultResource()), java.time.Duration.ofHours(1));
        HttpResponse<String> wrongAudience = server.send(java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create(server.url(ArmClient.HOST) + "/subscriptions?api-version=2022-12-01"))
                .header("Authorization", "Bearer " + vaultToken).GET());
        assertThat(wrongAudience.statusCode()).isEqualTo(401);
        assertThat(json(wrongAudience).at("/error/code").asText()).isEqualTo("InvalidAuthenticationToken");
    }

    @Test
    void armPathsAreNotServedOnVaultHosts() {
        HttpResponse<String> r = admin.sendTo("kv1.vault.coffre.localhost", "GET", "/subscriptions?api-version=2022-12-01",
                null);
        assertThat(r.statusCode()).isEqualTo(404);
    }

    @Test
    void nextLinksAreAbsoluteOnTheHostAndPortTheClientUsedAndCanBeFollowed() {
        for (String rg : new String[] {"page-a", "page-b", "page-c"}) {
            assertThat(admin.send("PUT", sub + "/resourcegroups/" + rg + "?api-version=2021-04-01",
                    "{\"location\":\"uaenorth\"}").statusCode()).isIn(200, 201);
        }
        HttpResponse<String> first = admin.sendTo("127.0.0.1", "GET", sub + "/resourcegroups?api-version=2021-04-01"
                + "&$top=2", null);
        JsonNode page = json(first);
        assertThat(page.get("value")).hasSize(2);
        String next = page.get("nextLink").asText();
        assertThat(next).startsWith("https://127.0.0.1:" + server.port() + sub + "/resourcegroups?")
                .contains("api-version=2021-04-01").contains("$top=2").contains("$skiptoken=");
        JsonNode second = json(admin.sendUrl("GET", next, null));
        assertThat(second.has("nextLink")).isFalse();
        assertThat(second.get("value").size()).isGreaterThanOrEqualTo(1);
        assertThat(second.get("value").get(0).get("name").asText())
                .isNotEqualTo(page.get("value").get(1).get("name").asText());
        HttpResponse<String> bad = admin.get(sub + "/resourcegroups?api-version=2021-04-01&$skiptoken=garbage");
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(json(bad).at("/error/code").asText()).isEqualTo("BadParameter");
        assertThat(admin.get(sub + "/resourcegroups?api-version=2021-04-01&$top=0").statusCode()).isEqualTo(400);
    }

    @Test
    void encodedSemicolonsInNamesReachRoutesDecoded() {
        var core = server.server().core();
        admin.send("PUT", sub + "/resourcegroups/semi?api-version=2021-04-01", "{\"location\":\"uaenorth\"}");
        String vault = sub + "/resourceGroups/semi/providers/Microsoft.RecoveryServices/vaults/rsv1";
        core.resourceIndex().put(vault, "Microsoft.RecoveryServices/vaults", "uaenorth", null);
        String container = vault + "/backupFabrics/Azure/protectionContainers/iaasvmcontainer%3Biaasvmcontainerv2"
                + "%3Bsemi%3Bcvm1";
        String name = java.util.UUID.randomUUID().toString();
        HttpResponse<String> put = admin.send("PUT", container + "/providers/Microsoft.Authorization/roleAssignments/"
                + name + "?api-version=2022-04-01", "{\"properties\":{\"roleDefinitionId\":\"" + sub
                + "/providers/Microsoft.Authorization/roleDefinitions/a795c7a0-d4a2-40c1-ae25-d81f01202912\","
                + "\"principalId\":\"" + core.identity().admin().objectId() + "\"}}");
        assertThat(put.statusCode()).as(put.body()).isEqualTo(201);
        assertThat(json(put).at("/properties/scope").asText())
                .endsWith("/protectionContainers/iaasvmcontainer;iaasvmcontainerv2;semi;cvm1");
    }
}
