package io.coffre.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.coffre.identity.Directory;
import io.coffre.identity.Identity;
import io.coffre.json.Json;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class DirectoryRoutesTest {
    private static final String GRAPH = "graph.coffre.localhost";
    private static TestServer server;
    private static Identity identity;
    private static String adminToken;

    @BeforeAll
    static void start() throws IOException {
        server = TestServer.start();
        identity = server.server().core().identity();
        adminToken = Files.readString(server.dataDir().resolve("admin-token"));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static HttpResponse<String> post(String path, String body, String token) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(server.url(GRAPH) + path))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return server.send(request);
    }

    private static HttpResponse<String> get(String path, String token) {
        return server.get(GRAPH, path, token);
    }

    private static String filter(String odata) {
        return "/v1.0/servicePrincipals?$filter=" + URLEncoder.encode(odata, StandardCharsets.UTF_8);
    }

    private static JsonNode json(HttpResponse<String> r) {
        return Json.parse(r.body());
    }

    /** A token for a principal that is not the administrator. */
    private static String tokenOf(Identity.Credentials credentials) {
        return identity.issueToken(credentials.principal(), List.of(server.server().core().endpoints()
                .graphResource()), Duration.ofMinutes(10));
    }

    @Test
    void adminCreatesAServicePrincipalThatCanSignIn() {
        HttpResponse<String> r = post("/v1.0/servicePrincipals", "{\"displayName\":\"backup-operator\"}", adminToken);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        JsonNode created = json(r);
        String appId = created.path("appId").asText();
        assertThat(created.path("id").asText()).matches("[0-9a-f-]{36}");
        assertThat(created.path("displayName").asText()).isEqualTo("backup-operator");
        assertThat(created.path("servicePrincipalType").asText()).isEqualTo("Application");
        assertThat(created.path("servicePrincipalNames").toString()).isEqualTo("[\"" + appId + "\"]");
        assertThat(created.path("accountEnabled").asBoolean()).isTrue();
        JsonNode password = created.path("passwordCredentials").get(0);
        assertThat(password.path("keyId").asText()).isNotBlank();
        String secret = password.path("secretText").asText();

        HttpResponse<String> token = IdentityRoutesTest.postForm(server, "login.coffre.localhost",
                "/" + identity.tenantId() + "/oauth2/v2.0/token", Map.of("grant_type", "client_credentials",
                        "client_id", appId, "client_secret", secret,
                        "scope", "https://management.coffre.localhost//.default"));
        assertThat(token.statusCode()).as(token.body()).isEqualTo(200);

        // The secret is shown once: reading the principal back never returns it.
        HttpResponse<String> shown = get("/v1.0/servicePrincipals/" + created.path("id").asText(), adminToken);
        assertThat(shown.statusCode()).isEqualTo(200);
        assertThat(shown.body()).doesNotContain(secret).doesNotContain("passwordCredentials");
        assertThat(json(shown).path("appId").asText()).isEqualTo(appId);
    }

    @Test
    void filtersFindByAppIdDisplayNameAndServicePrincipalName() {
        Identity.Credentials sp = identity.createServicePrincipal("filter-me");
        String appId = sp.principal().appId();
        for (String odata : List.of("appId eq '" + appId + "'", "displayName eq 'filter-me'",
                "servicePrincipalNames/any(c:c eq '" + appId + "')", "servicePrincipalNames/any(x: x eq '" + appId
                        + "')")) {
            HttpResponse<String> r = get(filter(odata), adminToken);
            assertThat(r.statusCode()).as(odata + " " + r.body()).isEqualTo(200);
            JsonNode value = json(r).path("value");
            assertThat(value.size()).as(odata).isEqualTo(1);
            assertThat(value.get(0).path("id").asText()).isEqualTo(sp.principal().objectId());
        }
        assertThat(json(get(filter("appId eq 'no-such-app'"), adminToken)).path("value").size()).isZero();
        HttpResponse<String> unsupported = get(filter("startswith(displayName,'f')"), adminToken);
        assertThat(unsupported.statusCode()).isEqualTo(400);
        assertThat(json(unsupported).path("error").path("code").asText()).isEqualTo("Request_UnsupportedQuery");
    }

    @Test
    void everySignedInCallerReadsButOnlyTheAdminWrites() {
        Identity.Credentials other = identity.createServicePrincipal("reader");
        String token = tokenOf(other);
        // az keyvault create looks its own principal up this way.
        HttpResponse<String> self = get(filter("servicePrincipalNames/any(c:c eq '" + other.principal().appId()
                + "')"), token);
        assertThat(self.statusCode()).isEqualTo(200);
        assertThat(json(self).path("value").size()).isEqualTo(1);

        HttpResponse<String> create = post("/v1.0/servicePrincipals", "{\"displayName\":\"sneaky\"}", token);
        assertThat(create.statusCode()).isEqualTo(403);
        assertThat(json(create).path("error").path("code").asText()).isEqualTo("Authorization_RequestDenied");
        assertThat(post("/v1.0/servicePrincipals/" + other.principal().objectId() + "/addPassword", "{}", token)
                .statusCode()).isEqualTo(403);
        assertThat(identity.list("sneaky")).isEmpty();

        HttpResponse<String> anonymous = get("/v1.0/servicePrincipals", null);
        assertThat(anonymous.statusCode()).isEqualTo(401);
        assertThat(json(anonymous).path("error").path("code").asText()).isEqualTo("AuthenticationFailed");
        assertThat(post("/v1.0/servicePrincipals", "{\"displayName\":\"anon\"}", null).statusCode()).isEqualTo(401);
    }

    @Test
    void addPasswordReplacesTheSecret() {
        Identity.Credentials sp = identity.createServicePrincipal("rotate-me");
        HttpResponse<String> r = post("/v1.0/servicePrincipals/" + sp.principal().appId() + "/addPassword",
                "{\"passwordCredential\":{\"displayName\":\"rotated\"}}", adminToken);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        String newSecret = json(r).path("secretText").asText();
        assertThat(json(r).path("keyId").asText()).isNotEqualTo(sp.keyId());
        String tenant = identity.tenantId();
        String scope = "https://vault.coffre.localhost/.default";
        assertThat(identity.clientCredentials(tenant, sp.principal().appId(), newSecret, scope).accessToken())
                .isNotBlank();
        HttpResponse<String> old = IdentityRoutesTest.postForm(server, "login.coffre.localhost",
                "/" + tenant + "/oauth2/v2.0/token", Map.of("grant_type", "client_credentials",
                        "client_id", sp.principal().appId(), "client_secret", sp.clientSecret(), "scope", scope));
        assertThat(old.statusCode()).isEqualTo(401);
        assertThat(old.body()).contains("AADSTS7000215");
    }

    @Test
    void firstPartyAppsAreListedButKeepNoSecrets() {
        HttpResponse<String> r = get("/v1.0/servicePrincipals/" + Directory.CVM_ORCHESTRATOR_APP_ID, adminToken);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(json(r).path("displayName").asText()).isEqualTo("Confidential VM Orchestrator");
        HttpResponse<String> add = post("/v1.0/servicePrincipals/" + Directory.CVM_ORCHESTRATOR_APP_ID
                + "/addPassword", "{}", adminToken);
        assertThat(add.statusCode()).isEqualTo(400);
        assertThat(json(add).path("error").path("message").asText()).contains("first-party");
    }

    @Test
    void managedIdentitiesShowTheirType() {
        var mi = identity.createManagedIdentity("des-identity");
        JsonNode shown = json(get("/v1.0/servicePrincipals/" + mi.objectId(), adminToken));
        assertThat(shown.path("servicePrincipalType").asText()).isEqualTo("ManagedIdentity");
    }

    @Test
    void deleteRemovesThePrincipal() {
        Identity.Credentials sp = identity.createServicePrincipal("short-lived");
        HttpRequest.Builder delete = HttpRequest.newBuilder(URI.create(server.url(GRAPH) + "/v1.0/servicePrincipals/"
                + sp.principal().objectId())).header("Authorization", "Bearer " + adminToken).DELETE();
        assertThat(server.send(delete).statusCode()).isEqualTo(204);
        HttpResponse<String> gone = get("/v1.0/servicePrincipals/" + sp.principal().objectId(), adminToken);
        assertThat(gone.statusCode()).isEqualTo(404);
        assertThat(json(gone).path("error").path("code").asText()).isEqualTo("Request_ResourceNotFound");
        assertThat(server.send(delete).statusCode()).isEqualTo(404);
    }

    @Test
    void badCreateBodiesAreRefused() {
        for (String body : new String[] {"{}", "{\"displayName\":42}", "{\"displayName\":\"\"}", "not json"}) {
            HttpResponse<String> r = post("/v1.0/servicePrincipals", body, adminToken);
            assertThat(r.statusCode()).as(body).isEqualTo(400);
        }
    }

    @Test
    void meIsABadRequestForAppTokens() {
        HttpResponse<String> r = get("/v1.0/me", adminToken);
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(json(r).path("error").path("message").asText()).contains("delegated authentication flow");
        assertThat(get("/v1.0/me", null).statusCode()).isEqualTo(401);
    }

    @Test
    void directoryIsServedOnlyOnTheManagementHost() {
        assertThat(server.get("kv1.vault.coffre.localhost", "/v1.0/servicePrincipals", adminToken).statusCode())
                .isEqualTo(404);
    }
}
