package io.coffre.server;

import static io.coffre.server.ArmClient.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.coffre.identity.Principal;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class FeatureRoutesTest {
    private static final String V = "?api-version=2021-07-01";
    private static final String NAME = "RestorePointSupportForConfidentialVMV2";
    private static TestServer server;
    private static ArmClient admin;
    private static String sub;

    @BeforeAll
    static void start() {
        server = TestServer.start(true);
        admin = ArmClient.admin(server);
        sub = "/subscriptions/" + admin.subscriptionId();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static String feature(String namespace, String name) {
        return sub + "/providers/Microsoft.Features/providers/" + namespace + "/features/" + name;
    }

    @Test
    void registersTheCvmRestorePointFeatureAsAzCliSeesIt() {
        String path = feature("Microsoft.Compute", NAME);
        HttpResponse<String> before = server.get(ArmClient.HOST, path + V, server.adminToken());
        assertThat(before.statusCode()).isEqualTo(200);
        assertThat(json(before).at("/properties/state").asText()).isEqualTo("NotRegistered");

        // az sends the register POST without a body.
        HttpResponse<String> registered = server.send("POST", ArmClient.HOST, path + "/register" + V,
                server.adminToken(), null);
        assertThat(registered.statusCode()).isEqualTo(200);
        JsonNode body = json(registered);
        assertThat(body.get("id").asText()).isEqualTo(path);
        assertThat(body.get("name").asText()).isEqualTo("Microsoft.Compute/" + NAME);
        assertThat(body.get("type").asText()).isEqualTo("Microsoft.Features/providers/features");
        assertThat(body.at("/properties/state").asText()).isEqualTo("Registering");

        HttpResponse<String> shown = admin.get(path.toLowerCase() + V);
        assertThat(json(shown).at("/properties/state").asText()).isEqualTo("Registered");
        assertThat(json(shown).get("name").asText()).isEqualTo("Microsoft.Compute/" + NAME);

        JsonNode inNamespace = json(admin.get(sub + "/providers/Microsoft.Features/providers/Microsoft.Compute/features"
                + V)).get("value");
        assertThat(inNamespace.findValuesAsText("name")).contains("Microsoft.Compute/" + NAME,
                "Microsoft.Compute/ConfidentialVMV2OptOut");
        JsonNode all = json(admin.get(sub + "/providers/Microsoft.Features/features" + V)).get("value");
        assertThat(all.size()).isGreaterThanOrEqualTo(inNamespace.size());
        for (JsonNode f : all) {
            if (f.get("name").asText().equals("Microsoft.Compute/" + NAME)) {
                assertThat(f.at("/properties/state").asText()).isEqualTo("Registered");
            }
        }
    }

    @Test
    void unregistersAFlag() {
        String path = feature("Microsoft.Compute", "ConfidentialVMV2OptOut");
        assertThat(json(admin.send("POST", path + "/register" + V, null)).at("/properties/state").asText())
                .isEqualTo("Registering");
        assertThat(server.server().core().features().isRegistered(admin.subscriptionId(), "Microsoft.Compute",
                "ConfidentialVMV2OptOut")).isTrue();
        HttpResponse<String> unregistered = admin.send("POST", path + "/unregister" + V, null);
        assertThat(unregistered.statusCode()).isEqualTo(200);
        assertThat(json(unregistered).at("/properties/state").asText()).isEqualTo("Unregistering");
        assertThat(json(admin.get(path + V)).at("/properties/state").asText()).isEqualTo("Unregistered");
    }

    @Test
    void anUnknownFeatureIsA404AndAnOldApiVersionA400() {
        HttpResponse<String> unknown = admin.send("POST", feature("Microsoft.Compute", "NoSuchFeature") + "/register"
                + V, null);
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(json(unknown).at("/error/code").asText()).isEqualTo("FeatureNotFound");
        HttpResponse<String> badVersion = admin.get(feature("Microsoft.Compute", NAME) + "?api-version=2014-01-01");
        assertThat(badVersion.statusCode()).isEqualTo(400);
        assertThat(json(badVersion).at("/error/code").asText()).isEqualTo("InvalidApiVersionParameter");
        assertThat(json(badVersion).at("/error/message").asText()).contains("2021-07-01");
    }

    @Test
    void aCallerWithoutARoleIsRefused() {
        Principal app = server.server().core().identity().createServicePrincipal("no-role").principal();
        ArmClient stranger = new ArmClient(server, app);
        HttpResponse<String> r = stranger.send("POST", feature("Microsoft.Compute", NAME) + "/register" + V, null);
        assertThat(r.statusCode()).isEqualTo(403);
        assertThat(json(r).at("/error/code").asText()).isEqualTo("AuthorizationFailed");
        assertThat(json(r).at("/error/message").asText())
                .contains("Microsoft.Features/providers/features/register/action");
        HttpResponse<String> anonymous = ArmClient.anonymous(server).get(feature("Microsoft.Compute", NAME) + V);
        assertThat(anonymous.statusCode()).isEqualTo(401);
    }
}
