package io.coffre.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.coffre.CoffreCore;
import io.coffre.identity.Identity;
import io.coffre.json.Json;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Microsoft.KeyVault vaults through the ARM routes against the real key service, as az drives them. */
class KeyVaultArmTest {
    static final String MGMT = "management.coffre.localhost";
    static final String V = KeyStores.ARM_VERSION;

    @Test
    void vaultLifecycleAsAzDrivesIt() {
        try (TestServer server = TestServer.start()) {
            CoffreCore core = server.server().core();
            Identity identity = core.identity();
            String token = identity.issueToken(identity.admin(), List.of(core.endpoints().managementResource()),
                    Duration.ofHours(1));
            String sub = "/subscriptions/" + identity.defaultSubscriptionId();
            String check = sub + "/providers/Microsoft.KeyVault/checkNameAvailability" + V;
            String nameBody = "{\"name\":\"arm1\",\"type\":\"Microsoft.KeyVault/vaults\"}";
            assertThat(json(server.send("POST", MGMT, check, token, nameBody)).path("nameAvailable").asBoolean())
                    .isTrue();

            KeyStores.createVault(server, token, "arm1");
            // az probes with lower-case /resourcegroups/ and re-PUTs the echoed vault (200 on update).
            String vault = sub + "/resourcegroups/rg1/providers/Microsoft.KeyVault/vaults/arm1";
            JsonNode got = json(server.send("GET", MGMT, vault + V, token, null));
            assertThat(got.at("/properties/vaultUri").asText()).startsWith("https://arm1.vault.coffre.localhost");
            HttpResponse<String> again = server.send("PUT", MGMT, vault + V, token, got.toString());
            assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
            assertThat(json(server.send("POST", MGMT, check, token, nameBody)).path("reason").asText())
                    .isEqualTo("AlreadyExists");

            HttpResponse<String> added = server.send("PUT", MGMT, vault + "/accessPolicies/add" + V, token,
                    "{\"properties\":{\"accessPolicies\":[{\"tenantId\":\"" + identity.tenantId() + "\",\"objectId\":\""
                            + "11111111-2222-3333-4444-555555555555\",\"permissions\":{\"keys\":[\"get\",\"backup\"]}}]}}");
            assertThat(added.statusCode()).as(added.body()).isEqualTo(200);
            JsonNode policies = json(server.send("GET", MGMT, vault + V, token, null)).at("/properties/accessPolicies");
            assertThat(policies.toString()).contains("11111111-2222-3333-4444-555555555555").contains("backup");

            HttpResponse<String> patched = server.send("PATCH", MGMT, vault + V, token, "{\"tags\":{\"env\":\"test\"}}");
            assertThat(patched.statusCode()).as(patched.body()).isEqualTo(200);
            assertThat(json(patched).at("/tags/env").asText()).isEqualTo("test");
            assertThat(json(patched).at("/properties/accessPolicies").size()).isEqualTo(policies.size());

            assertThat(json(server.send("GET", MGMT, sub + "/resourceGroups/rg1/providers/Microsoft.KeyVault/vaults"
                    + V, token, null)).path("value")).hasSize(1);
            assertThat(json(server.send("GET", MGMT, sub + "/providers/Microsoft.KeyVault/vaults" + V, token, null))
                    .path("value")).hasSize(1);

            assertThat(server.send("DELETE", MGMT, vault + V, token, null).statusCode()).isEqualTo(200);
            assertThat(server.send("GET", MGMT, vault + V, token, null).statusCode()).isEqualTo(404);
            assertThat(json(server.send("GET", MGMT, sub + "/providers/Microsoft.KeyVault/deletedVaults" + V, token,
                    null)).path("value").toString()).contains("arm1");
            String deleted = sub + "/providers/Microsoft.KeyVault/locations/uaenorth/deletedVaults/arm1";
            assertThat(server.send("GET", MGMT, deleted + V, token, null).statusCode()).isEqualTo(200);
            assertThat(json(server.send("POST", MGMT, check, token, nameBody)).path("nameAvailable").asBoolean())
                    .as("a soft-deleted vault keeps its name").isFalse();
            HttpResponse<String> purged = server.send("POST", MGMT, deleted + "/purge" + V, token, null);
            assertThat(purged.statusCode()).as(purged.body()).isEqualTo(200);
            assertThat(server.send("GET", MGMT, deleted + V, token, null).statusCode()).isEqualTo(404);
            assertThat(json(server.send("POST", MGMT, check, token, nameBody)).path("nameAvailable").asBoolean())
                    .isTrue();
        }
    }

    private static JsonNode json(HttpResponse<String> r) {
        assertThat(r.statusCode()).as(r.body()).isLessThan(300);
        return Json.parse(r.body());
    }
}
