package io.coffre.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.CoffreCore;
import io.coffre.identity.Principal;
import io.coffre.json.Json;
import io.coffre.keyvault.KeyService;
import io.coffre.keyvault.KeyService.Store;
import java.net.URI;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Microsoft.Compute/diskEncryptionSets over HTTPS against the real key service, in the shapes az and the SDK use. */
class DiskEncryptionSetRoutesTest {
    static final String MGMT = "management.coffre.localhost";
    static final String V = "?api-version=2022-03-02";

    @Test
    void lifecycleOverHttps() {
        try (TestServer s = TestServer.start()) {
            CoffreCore core = s.server().core();
            Principal admin = core.identity().admin();
            String subscription = core.identity().defaultSubscriptionId();
            core.resourceManager().putResourceGroup(admin, subscription, "rg1", "uaenorth", Map.of());
            KeyService keys = core.keyService();
            ObjectNode vault = Json.object().put("location", "uaenorth");
            ObjectNode p = vault.putObject("properties");
            p.putObject("sku").put("family", "A").put("name", "premium");
            p.put("tenantId", core.identity().tenantId()).put("enablePurgeProtection", true);
            p.putArray("accessPolicies").addObject().put("tenantId", core.identity().tenantId())
                    .put("objectId", admin.objectId()).putObject("permissions").putArray("keys").add("all");
            keys.putStore(admin, subscription, "rg1", Store.vault("kv1"), vault);
            String kid = keys.createKey(admin, Store.vault("kv1"), "k1", Json.object().put("kty", "RSA"))
                    .path("key").path("kid").asText();
            String token = s.adminToken();
            String des = "/subscriptions/" + subscription + "/resourcegroups/rg1/providers/Microsoft.Compute"
                    + "/diskEncryptionSets/des1";
            String body = "{\"location\":\"uaenorth\",\"identity\":{\"type\":\"SystemAssigned\"},\"properties\":"
                    + "{\"encryptionType\":\"EncryptionAtRestWithCustomerKey\",\"activeKey\":{\"sourceVault\":"
                    + "{\"id\":\"/subscriptions/" + subscription + "/resourceGroups/rg1/providers/Microsoft.KeyVault"
                    + "/vaults/kv1\"},\"keyUrl\":\"" + kid + "\"}}}";

            HttpResponse<String> created = s.send("PUT", MGMT, des + V, token, body);
            assertThat(created.statusCode()).as(created.body()).isEqualTo(200);
            JsonNode resource = Json.parse(created.body());
            assertThat(resource.at("/identity/principalId").asText()).isNotBlank();
            assertThat(resource.at("/properties/activeKey/keyUrl").asText()).isEqualTo(kid);
            assertThat(resource.at("/properties/activeKey/sourceVault/id").asText()).endsWith("/vaults/kv1");

            HttpResponse<String> got = s.send("GET", MGMT, des + V, token, null);
            assertThat(got.statusCode()).isEqualTo(200);
            assertThat(Json.parse(got.body())).isEqualTo(resource);
            HttpResponse<String> again = s.send("PUT", MGMT, des + V, token, body);
            assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
            HttpResponse<String> patched = s.send("PATCH", MGMT, des + V, token,
                    "{\"properties\":{\"rotationToLatestKeyVersionEnabled\":true}}");
            assertThat(patched.statusCode()).as(patched.body()).isEqualTo(200);
            assertThat(Json.parse(patched.body()).at("/properties/rotationToLatestKeyVersionEnabled").asBoolean())
                    .isTrue();

            String list = "/subscriptions/" + subscription + "/providers/Microsoft.Compute/diskEncryptionSets" + V;
            assertThat(Json.parse(s.send("GET", MGMT, list, token, null).body()).path("value")).hasSize(1);
            HttpResponse<String> associated = s.send("GET", MGMT, des + "/associatedResources" + V, token, null);
            assertThat(Json.parse(associated.body()).path("value")).isEmpty();

            HttpResponse<String> unversioned = s.send("PUT", MGMT, des.replace("des1", "des2") + V, token,
                    body.replace(kid, kid.substring(0, kid.lastIndexOf('/'))));
            assertThat(unversioned.statusCode()).isEqualTo(400);
            assertThat(Json.parse(unversioned.body()).at("/error/code").asText()).isEqualTo("InvalidParameter");
            assertThat(Json.parse(unversioned.body()).at("/error/message").asText()).contains("versioned");
            HttpResponse<String> cvm = s.send("PUT", MGMT, des.replace("des1", "des2") + V, token,
                    body.replace("EncryptionAtRestWithCustomerKey", "ConfidentialVmEncryptedWithCustomerKey"));
            assertThat(cvm.statusCode()).isEqualTo(400);
            assertThat(Json.parse(cvm.body()).at("/error/code").asText()).isEqualTo("ConfidentialVmKeyNotHsm");
            assertThat(s.send("GET", MGMT, des + "?api-version=2001-01-01", token, null).statusCode()).isEqualTo(400);
            assertThat(s.send("GET", MGMT, des + V, null, null).statusCode()).isEqualTo(401);

            // A rotation by PUT answers 200 with the polling headers of its operation (automatic rotation off, so
            // the new version below is not followed on its own).
            assertThat(s.send("PATCH", MGMT, des + V, token,
                    "{\"properties\":{\"rotationToLatestKeyVersionEnabled\":false}}").statusCode()).isEqualTo(200);
            String v2 = keys.rotateKey(admin, Store.vault("kv1"), "k1").path("key").path("kid").asText();
            String principalId = resource.at("/identity/principalId").asText();
            ObjectNode withPolicy = keys.getStore(admin, subscription, "rg1", Store.vault("kv1"));
            ((com.fasterxml.jackson.databind.node.ArrayNode) withPolicy.at("/properties/accessPolicies")).addObject()
                    .put("tenantId", core.identity().tenantId()).put("objectId", principalId)
                    .putObject("permissions").putArray("keys").add("get").add("wrapKey").add("unwrapKey");
            keys.putStore(admin, subscription, "rg1", Store.vault("kv1"), withPolicy);
            core.encryptionKeys().ring(new io.coffre.compute.EncryptionKeys.Setting(
                    "EncryptionAtRestWithCustomerKey", des, "uaenorth")).newKey("disk1");
            HttpResponse<String> rotated = s.send("PUT", MGMT, des + V, token, body.replace(kid, v2));
            assertThat(rotated.statusCode()).as(rotated.body()).isEqualTo(200);
            assertThat(rotated.headers().firstValue("Azure-AsyncOperation")).get().asString()
                    .contains("/providers/Microsoft.Compute/locations/uaenorth/operations/");
            URI status = URI.create(rotated.headers().firstValue("Azure-AsyncOperation").orElseThrow());
            String state = "";
            for (int i = 0; i < 300 && !state.equals("Succeeded"); i++) {
                HttpResponse<String> poll = s.send("GET", MGMT, status.getRawPath() + "?" + status.getRawQuery(), token,
                        null);
                assertThat(poll.statusCode()).as(poll.body()).isEqualTo(200);
                state = Json.parse(poll.body()).path("status").asText();
                assertThat(state).isIn("InProgress", "Succeeded");
                sleep();
            }
            assertThat(state).isEqualTo("Succeeded");
            // A PATCH's pollers take the updated resource from the Location URL.
            URI result = URI.create(rotated.headers().firstValue("Location").orElseThrow());
            HttpResponse<String> finalResult = s.send("GET", MGMT, result.getRawPath() + "?" + result.getRawQuery(), token,
                    null);
            assertThat(finalResult.statusCode()).as(finalResult.body()).isEqualTo(200);
            assertThat(Json.parse(finalResult.body()).at("/properties/activeKey/keyUrl").asText()).isEqualTo(v2);
            assertThat(Json.parse(finalResult.body()).path("id").asText()).isEqualToIgnoringCase(des);
            JsonNode afterRotation = Json.parse(s.send("GET", MGMT, des + V, token, null).body());
            assertThat(afterRotation.at("/properties/activeKey/keyUrl").asText()).isEqualTo(v2);
            assertThat(afterRotation.at("/properties/lastKeyRotationTimestamp").asText()).isNotBlank();

            core.diskEncryptionSets().associate(des, "/subscriptions/" + subscription
                    + "/resourceGroups/rg1/providers/Microsoft.Compute/disks/d1");
            HttpResponse<String> refused = s.send("DELETE", MGMT, des + V, token, null);
            assertThat(refused.statusCode()).isEqualTo(409);
            assertThat(Json.parse(refused.body()).at("/error/code").asText()).isEqualTo("DiskEncryptionSetInUse");
            core.diskEncryptionSets().dissociate(des, "/subscriptions/" + subscription
                    + "/resourceGroups/rg1/providers/Microsoft.Compute/disks/d1");
            assertThat(s.send("DELETE", MGMT, des + V, token, null).statusCode()).isEqualTo(200);
            assertThat(s.send("GET", MGMT, des + V, token, null).statusCode()).isEqualTo(404);
            assertThat(s.send("DELETE", MGMT, des + V, token, null).statusCode()).isEqualTo(204);
        }
    }

    private static void sleep() {
        try {
            Thread.sleep(20);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
