package io.coffre.server;

import static io.coffre.server.ArmClient.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ResourceManagerRoutesTest {
    private static final String V = "?api-version=2021-04-01";
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
    void listsTheSubscriptionTheWayAzLoginNeedsIt() {
        HttpResponse<String> r = admin.get("/subscriptions?api-version=2019-11-01");
        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode s = json(r).get("value").get(0);
        assertThat(json(r).get("value")).hasSize(1);
        assertThat(s.get("id").asText()).isEqualTo(sub);
        assertThat(s.get("subscriptionId").asText()).isEqualTo(admin.subscriptionId());
        assertThat(s.get("tenantId").asText()).isEqualTo(server.server().core().identity().tenantId());
        assertThat(s.get("displayName").asText()).isEqualTo("Coffre");
        assertThat(s.get("state").asText()).isEqualTo("Enabled");
        assertThat(s.get("managedByTenants").isArray()).isTrue();
        assertThat(json(admin.get(sub + "?api-version=2022-12-01")).get("displayName").asText()).isEqualTo("Coffre");
        HttpResponse<String> missing = admin.get("/subscriptions/00000000-0000-0000-0000-000000000000"
                + "?api-version=2022-12-01");
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(json(missing).at("/error/code").asText()).isEqualTo("SubscriptionNotFound");
    }

    @Test
    void resourceGroupsHaveTheirWholeLifecycle() {
        HttpResponse<String> created = admin.send("PUT", sub + "/resourcegroups/Life" + V,
                "{\"location\":\"UAE North\",\"tags\":{\"env\":\"test\"}}");
        assertThat(created.statusCode()).isEqualTo(201);
        JsonNode g = json(created);
        assertThat(g.get("id").asText()).isEqualTo(sub + "/resourceGroups/Life");
        assertThat(g.get("name").asText()).isEqualTo("Life");
        assertThat(g.get("type").asText()).isEqualTo("Microsoft.Resources/resourceGroups");
        assertThat(g.get("location").asText()).isEqualTo("uaenorth");
        assertThat(g.at("/tags/env").asText()).isEqualTo("test");
        assertThat(g.at("/properties/provisioningState").asText()).isEqualTo("Succeeded");

        assertThat(admin.send("PUT", sub + "/resourceGroups/LIFE" + V, "{\"location\":\"uaenorth\"}").statusCode())
                .isEqualTo(200);
        assertThat(json(admin.get(sub + "/RESOURCEGROUPS/life" + V)).get("name").asText()).isEqualTo("Life");
        assertThat(admin.send("HEAD", sub + "/resourcegroups/life" + V, null).statusCode()).isEqualTo(204);
        assertThat(json(admin.get(sub + "/resourcegroups" + V)).get("value")).extracting(n -> n.get("name").asText())
                .contains("Life");

        HttpResponse<String> moved = admin.send("PUT", sub + "/resourcegroups/life" + V, "{\"location\":\"koreacentral\"}");
        assertThat(moved.statusCode()).isEqualTo(409);
        assertThat(json(moved).at("/error/code").asText()).isEqualTo("InvalidResourceGroupLocation");
        HttpResponse<String> noLocation = admin.send("PUT", sub + "/resourcegroups/other" + V, "{}");
        assertThat(json(noLocation).at("/error/code").asText()).isEqualTo("LocationRequired");
        HttpResponse<String> badName = admin.send("PUT", sub + "/resourcegroups/bad." + V, "{\"location\":\"uaenorth\"}");
        assertThat(badName.statusCode()).isEqualTo(400);
        assertThat(json(badName).at("/error/code").asText()).isEqualTo("InvalidResourceGroup");
        HttpResponse<String> badJson = admin.send("PUT", sub + "/resourcegroups/x" + V, "{not json");
        assertThat(badJson.statusCode()).isEqualTo(400);

        assertThat(admin.send("DELETE", sub + "/resourcegroups/life" + V, null).statusCode()).isEqualTo(200);
        HttpResponse<String> gone = admin.get(sub + "/resourcegroups/life" + V);
        assertThat(gone.statusCode()).isEqualTo(404);
        assertThat(json(gone).at("/error/code").asText()).isEqualTo("ResourceGroupNotFound");
        assertThat(admin.send("HEAD", sub + "/resourcegroups/life" + V, null).statusCode()).isEqualTo(404);
        assertThat(admin.send("DELETE", sub + "/resourcegroups/life" + V, null).statusCode()).isEqualTo(404);
    }

    @Test
    void aGroupWithResourcesIsNotDeletedAndResourcesAreListedByType() {
        admin.send("PUT", sub + "/resourcegroups/full" + V, "{\"location\":\"uaenorth\"}");
        var index = server.server().core().resourceIndex();
        String kv = sub + "/resourceGroups/full/providers/Microsoft.KeyVault/vaults/kvfull";
        String des = sub + "/resourceGroups/full/providers/Microsoft.Compute/diskEncryptionSets/desfull";
        index.put(kv, "Microsoft.KeyVault/vaults", "uaenorth", "{\"owner\":\"me\"}");
        index.put(des, "Microsoft.Compute/diskEncryptionSets", "uaenorth", null);

        HttpResponse<String> refused = admin.send("DELETE", sub + "/resourcegroups/full" + V, null);
        assertThat(refused.statusCode()).isEqualTo(409);
        assertThat(json(refused).at("/error/code").asText()).isEqualTo("ResourceGroupNotEmpty");
        assertThat(json(refused).at("/error/message").asText()).contains(kv).contains(des);

        JsonNode vaults = json(admin.get(sub + "/resources?api-version=2015-11-01&$filter=resourceType%20eq%20"
                + "'Microsoft.KeyVault/vaults'")).get("value");
        assertThat(vaults).hasSize(1);
        assertThat(vaults.get(0).get("id").asText()).isEqualTo(kv);
        assertThat(vaults.get(0).get("name").asText()).isEqualTo("kvfull");
        assertThat(vaults.get(0).get("type").asText()).isEqualTo("Microsoft.KeyVault/vaults");
        assertThat(vaults.get(0).at("/tags/owner").asText()).isEqualTo("me");
        assertThat(json(admin.get(sub + "/resourceGroups/full/resources" + V)).get("value")).hasSize(2);
        HttpResponse<String> badFilter = admin.get(sub + "/resources" + V + "&$filter=name%20eq%20'x'");
        assertThat(badFilter.statusCode()).isEqualTo(400);
        assertThat(json(badFilter).at("/error/code").asText()).isEqualTo("UnsupportedQuery");

        index.remove(kv);
        index.remove(des);
        assertThat(admin.send("DELETE", sub + "/resourcegroups/full" + V, null).statusCode()).isEqualTo(200);
    }

    @Test
    void providersAreRegistered() {
        HttpResponse<String> r = admin.send("POST", sub + "/providers/Microsoft.Compute/register" + V, "");
        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode p = json(r);
        assertThat(p.get("namespace").asText()).isEqualTo("Microsoft.Compute");
        assertThat(p.get("registrationState").asText()).isEqualTo("Registered");
        assertThat(p.get("resourceTypes")).extracting(t -> t.get("resourceType").asText())
                .contains("diskEncryptionSets", "virtualMachines");
        JsonNode kv = json(admin.get(sub + "/providers/microsoft.keyvault" + V));
        assertThat(kv.get("namespace").asText()).isEqualTo("Microsoft.KeyVault");
        assertThat(kv.at("/resourceTypes/0/apiVersions")).extracting(JsonNode::asText).contains("2022-07-01");
        assertThat(json(admin.get(sub + "/providers" + V)).get("value")).hasSizeGreaterThanOrEqualTo(6);
        HttpResponse<String> unknown = admin.get(sub + "/providers/Microsoft.Sql" + V);
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(json(unknown).at("/error/code").asText()).isEqualTo("InvalidResourceNamespace");
    }

    @Test
    void aPrincipalWithoutRolesSeesNothingAndMayChangeNothing() {
        var sp = server.server().core().identity().createServicePrincipal("nobody").principal();
        ArmClient nobody = new ArmClient(server, sp);
        assertThat(json(nobody.get("/subscriptions?api-version=2019-11-01")).get("value")).isEmpty();
        HttpResponse<String> put = nobody.send("PUT", sub + "/resourcegroups/mine" + V, "{\"location\":\"uaenorth\"}");
        assertThat(put.statusCode()).isEqualTo(403);
        assertThat(json(put).at("/error/code").asText()).isEqualTo("AuthorizationFailed");
        assertThat(json(put).at("/error/message").asText()).contains(sp.objectId())
                .contains("Microsoft.Resources/subscriptions/resourceGroups/write");
    }
}
