package io.coffre.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.coffre.identity.Identity;
import io.coffre.json.Json;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;

/** Creates vaults and managed HSMs through the ARM routes, as a client would, for data-plane tests. */
final class KeyStores {
    static final String ARM_VERSION = "?api-version=2022-07-01";

    private KeyStores() {
    }

    static String groupPath(TestServer server) {
        return "/subscriptions/" + server.server().core().identity().defaultSubscriptionId() + "/resourceGroups/rg1";
    }

    /** A premium vault whose access policy gives the admin every key permission; returns its host name. */
    static String createVault(TestServer server, String managementToken, String name) {
        Identity identity = server.server().core().identity();
        String body = """
                {"location":"uaenorth","properties":{"tenantId":"%s","sku":{"family":"A","name":"premium"},
                 "enableSoftDelete":true,"softDeleteRetentionInDays":7,
                 "accessPolicies":[{"tenantId":"%s","objectId":"%s","permissions":{"keys":["all"]}}]}}"""
                .formatted(identity.tenantId(), identity.tenantId(), identity.admin().objectId());
        put(server, managementToken, groupPath(server) + "/providers/Microsoft.KeyVault/vaults/" + name, body);
        return name + ".vault.coffre.localhost";
    }

    /** A managed HSM whose initial administrators are {@code adminObjectIds}; returns its host name. */
    static String createManagedHsm(TestServer server, String managementToken, String name, String... adminObjectIds) {
        Identity identity = server.server().core().identity();
        String body = """
                {"location":"uaenorth","sku":{"family":"B","name":"Standard_B1"},
                 "properties":{"tenantId":"%s","initialAdminObjectIds":["%s"],"softDeleteRetentionInDays":7}}"""
                .formatted(identity.tenantId(), String.join("\",\"", adminObjectIds));
        HttpResponse<String> created = put(server, managementToken,
                groupPath(server) + "/providers/Microsoft.KeyVault/managedHSMs/" + name, body);
        // Long-running in Azure: the answer names an operation the SDK pollers follow to completion.
        String status = created.headers().firstValue("Azure-AsyncOperation").orElseThrow();
        HttpResponse<String> polled = server.send(HttpRequest.newBuilder(URI.create(status)).GET()
                .header("Authorization", "Bearer " + managementToken));
        assertThat(polled.statusCode()).as(polled.body()).isEqualTo(200);
        assertThat(Json.parse(polled.body()).path("status").asText()).isEqualTo("Succeeded");
        return name + ".managedhsm.coffre.localhost";
    }

    /** Resource group rg1 (in-process: creating groups is the ARM routes' business, not under test here). */
    private static void ensureGroup(TestServer server) {
        Identity identity = server.server().core().identity();
        server.server().core().resourceManager().putResourceGroup(identity.admin(), identity.defaultSubscriptionId(),
                "rg1", "uaenorth", Map.of());
    }

    private static HttpResponse<String> put(TestServer server, String token, String path, String body) {
        ensureGroup(server);
        HttpResponse<String> r = server.send("PUT", "management.coffre.localhost", path + ARM_VERSION, token, body);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return r;
    }
}
