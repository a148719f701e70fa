package io.coffre.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.SignedJWT;
import io.coffre.identity.Identity;
import io.coffre.json.Json;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class IdentityRoutesTest {
    private static final String LOGIN = "login.coffre.localhost";
    private static final String VAULT_SCOPE = "https://vault.coffre.localhost/.default";
    private static TestServer server;
    private static Identity identity;
    private static Identity.Credentials sp;

    @BeforeAll
    static void start() {
        server = TestServer.start();
        identity = server.server().core().identity();
        sp = identity.createServicePrincipal("routes-test");
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static HttpResponse<String> postForm(TestServer server, String host, String path, Map<String, String> form,
                                         String... headers) {
        String body = form.entrySet().stream()
                .map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "="
                        + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
                .collect(Collectors.joining("&"));
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(server.url(host) + path))
                .header("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (headers.length > 0) {
            request.headers(headers);
        }
        return server.send(request);
    }

    /** The form MSAL4J sends for ClientSecretCredential (see the SDK reference). */
    private static Map<String, String> msalForm(String clientId, String secret, String scope) {
        Map<String, String> form = new LinkedHashMap<>();
        form.put("grant_type", "client_credentials");
        form.put("client_id", clientId);
        form.put("client_secret", secret);
        form.put("client_info", "1");
        form.put("scope", "openid profile offline_access " + scope);
        form.put("claims", "{\"access_token\":{\"xms_cc\":{\"values\":[\"CP1\"]}}}");
        return form;
    }

    private static JsonNode json(HttpResponse<String> response) {
        return Json.parse(response.body());
    }

    @Test
    void v2TokenEndpointIssuesAnSdkShapedTokenAndEchoesTheCorrelationId() {
        HttpResponse<String> r = postForm(server, LOGIN, "/" + identity.tenantId() + "/oauth2/v2.0/token",
                msalForm(sp.principal().appId(), sp.clientSecret(), VAULT_SCOPE),
                "client-request-id", "0c2f7e1e-0000-4000-8000-000000000001");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.headers().firstValue("client-request-id")).contains("0c2f7e1e-0000-4000-8000-000000000001");
        assertThat(r.headers().firstValue("Cache-Control")).contains("no-store");
        JsonNode body = json(r);
        assertThat(body.path("token_type").asText()).isEqualTo("Bearer");
        assertThat(body.path("expires_in").asInt()).isEqualTo(3600);
        assertThat(body.path("ext_expires_in").asInt()).isEqualTo(3600);
        assertThat(body.path("refresh_in").asInt()).isEqualTo(1800);
        assertThat(identity.authenticate(body.path("access_token").asText(), "https://vault.coffre.localhost"))
                .get().extracting(p -> p.objectId()).isEqualTo(sp.principal().objectId());
    }

    @Test
    void v1AndAdfsPathsAcceptResourceInsteadOfScope() {
        for (String path : new String[] {"/" + identity.tenantId() + "/oauth2/token", "/adfs/oauth2/token"}) {
            Map<String, String> form = new LinkedHashMap<>();
            form.put("grant_type", "client_credentials");
            form.put("client_id", sp.principal().appId());
            form.put("client_secret", sp.clientSecret());
            form.put("resource", "https://management.coffre.localhost/");
            HttpResponse<String> r = postForm(server, "127.0.0.1", path, form);
            assertThat(r.statusCode()).as(path + " " + r.body()).isEqualTo(200);
            String token = json(r).path("access_token").asText();
            // The management token opens the management host.
            assertThat(server.get("management.coffre.localhost", "/v1.0/servicePrincipals/"
                    + sp.principal().appId(), token).statusCode()).isEqualTo(200);
        }
    }

    @Test
    void clientSecretBasicIsAccepted() {
        String basic = Base64.getEncoder().encodeToString((sp.principal().appId() + ":" + sp.clientSecret())
                .getBytes(StandardCharsets.UTF_8));
        HttpResponse<String> r = postForm(server, LOGIN, "/organizations/oauth2/v2.0/token",
                Map.of("grant_type", "client_credentials", "scope", VAULT_SCOPE), "Authorization", "Basic " + basic);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    }

    @Test
    void tokenErrorsAreEntraShaped() {
        String tenantPath = "/" + identity.tenantId() + "/oauth2/v2.0/token";
        String app = sp.principal().appId();
        assertOAuthError(postForm(server, LOGIN, "/11111111-1111-1111-1111-111111111111/oauth2/v2.0/token",
                msalForm(app, sp.clientSecret(), VAULT_SCOPE)), 400, "invalid_request", 90002);
        assertOAuthError(postForm(server, LOGIN, tenantPath, msalForm(app, "wrong", VAULT_SCOPE)),
                401, "invalid_client", 7000215);
        Map<String, String> noSecret = msalForm(app, "", VAULT_SCOPE);
        noSecret.remove("client_secret");
        assertOAuthError(postForm(server, LOGIN, tenantPath, noSecret), 401, "invalid_client", 7000216);
        assertOAuthError(postForm(server, LOGIN, tenantPath, msalForm("22222222-2222-2222-2222-222222222222",
                sp.clientSecret(), VAULT_SCOPE)), 400, "unauthorized_client", 700016);
        assertOAuthError(postForm(server, LOGIN, tenantPath, msalForm(app, sp.clientSecret(),
                "https://vault.azure.net/.default")), 400, "invalid_resource", 500011);
        Map<String, String> password = msalForm(app, sp.clientSecret(), VAULT_SCOPE);
        password.put("grant_type", "password");
        assertOAuthError(postForm(server, LOGIN, tenantPath, password), 400, "unsupported_grant_type", 70003);
        assertOAuthError(postForm(server, LOGIN, tenantPath, Map.of("client_id", app)), 400, "invalid_request",
                900144);
    }

    private static void assertOAuthError(HttpResponse<String> r, int status, String error, int code) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        JsonNode body = json(r);
        assertThat(body.path("error").asText()).isEqualTo(error);
        assertThat(body.path("error_description").asText()).startsWith("AADSTS" + code + ":")
                .contains("Trace ID: ").contains("Correlation ID: ");
        assertThat(body.path("error_codes").toString()).isEqualTo("[" + code + "]");
        assertThat(body.path("timestamp").asText()).matches("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ");
        assertThat(body.path("trace_id").asText()).isNotBlank();
        assertThat(body.path("correlation_id").asText()).isNotBlank();
        assertThat(r.headers().firstValue("client-request-id")).contains(body.path("correlation_id").asText());
    }

    @Test
    void v2DiscoveryIsAbsoluteOnTheRequestedHostAndPort() {
        for (String host : new String[] {LOGIN, "127.0.0.1"}) {
            HttpResponse<String> r = server.get(host, "/" + identity.tenantId()
                    + "/v2.0/.well-known/openid-configuration", null);
            assertThat(r.statusCode()).isEqualTo(200);
            JsonNode doc = json(r);
            String authority = server.url(host) + "/" + identity.tenantId();
            assertThat(doc.path("issuer").asText()).isEqualTo(authority + "/v2.0");
            assertThat(doc.path("authorization_endpoint").asText()).isEqualTo(authority + "/oauth2/v2.0/authorize");
            assertThat(doc.path("token_endpoint").asText()).isEqualTo(authority + "/oauth2/v2.0/token");
            assertThat(doc.path("jwks_uri").asText()).isEqualTo(authority + "/discovery/v2.0/keys");
            assertThat(doc.path("id_token_signing_alg_values_supported").toString()).isEqualTo("[\"RS256\"]");
            assertThat(doc.path("response_types_supported").isArray()).isTrue();
            assertThat(doc.path("tenant_region_scope").asText()).isNotBlank();
        }
    }

    @Test
    void adfsAndV1DiscoveryPointAtTheV1TokenEndpoint() {
        JsonNode adfs = json(server.get("127.0.0.1", "/adfs/.well-known/openid-configuration", null));
        assertThat(adfs.path("issuer").asText()).isEqualTo(server.url("127.0.0.1") + "/adfs");
        assertThat(adfs.path("token_endpoint").asText()).isEqualTo(server.url("127.0.0.1") + "/adfs/oauth2/token");
        assertThat(adfs.path("jwks_uri").asText()).isEqualTo(server.url("127.0.0.1") + "/adfs/discovery/keys");
        JsonNode v1 = json(server.get(LOGIN, "/" + identity.tenantId() + "/.well-known/openid-configuration", null));
        assertThat(v1.path("issuer").asText()).isEqualTo(identity.issuer());
        assertThat(v1.path("token_endpoint").asText())
                .isEqualTo(server.url(LOGIN) + "/" + identity.tenantId() + "/oauth2/token");
    }

    @Test
    void discoveryOfAnotherTenantIsRefused() {
        HttpResponse<String> r = server.get(LOGIN, "/someone-else/v2.0/.well-known/openid-configuration", null);
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(json(r).path("error_codes").toString()).isEqualTo("[90002]");
    }

    @Test
    void publishedKeysVerifyIssuedTokens() throws Exception {
        String token = identity.issueToken(identity.admin(), java.util.List.of("https://vault.coffre.localhost"),
                java.time.Duration.ofMinutes(5));
        for (String path : new String[] {"/" + identity.tenantId() + "/discovery/v2.0/keys", "/adfs/discovery/keys"}) {
            HttpResponse<String> r = server.get(LOGIN, path, null);
            assertThat(r.statusCode()).isEqualTo(200);
            RSAKey key = (RSAKey) JWKSet.parse(r.body()).getKeys().get(0);
            assertThat(key.isPrivate()).isFalse();
            assertThat(SignedJWT.parse(token).verify(new RSASSAVerifier(key))).isTrue();
        }
    }

    @Test
    void instanceDiscoveryPutsTheServerPortBack() {
        String authorize = URLEncoder.encode("https://127.0.0.1/" + identity.tenantId() + "/oauth2/v2.0/authorize",
                StandardCharsets.UTF_8);
        HttpResponse<String> r = server.get("localhost", "/common/discovery/instance?api-version=1.0"
                + "&authorization_endpoint=" + authorize, null);
        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode body = json(r);
        assertThat(body.path("tenant_discovery_endpoint").asText()).isEqualTo("https://127.0.0.1:" + server.port()
                + "/" + identity.tenantId() + "/v2.0/.well-known/openid-configuration");
        assertThat(body.path("api-version").asText()).isEqualTo("1.0");
        assertThat(body.path("metadata").get(0).path("aliases").toString()).contains("127.0.0.1:" + server.port());

        // The tenant discovery endpoint it names answers.
        assertThat(server.get("127.0.0.1", URI.create(body.path("tenant_discovery_endpoint").asText()).getPath(),
                null).statusCode()).isEqualTo(200);

        HttpResponse<String> bad = server.get("localhost", "/common/discovery/instance?api-version=1.1"
                + "&authorization_endpoint=not-a-url", null);
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(json(bad).path("error").asText()).isEqualTo("invalid_instance");
    }

    @Test
    void cloudMetadataServesBothShapes() {
        // az sends //metadata/... when the resource manager URL ends with a slash.
        HttpResponse<String> old = server.get("127.0.0.1", "//metadata/endpoints?api-version=2015-01-01", null);
        assertThat(old.statusCode()).as(old.body()).isEqualTo(200);
        JsonNode o = json(old);
        assertThat(o.path("authentication").path("loginEndpoint").asText())
                .isEqualTo(server.url("127.0.0.1") + "/adfs");
        assertThat(o.path("authentication").path("audiences").get(0).asText())
                .isEqualTo("https://management.coffre.localhost/");
        assertThat(o.path("graphEndpoint").asText()).isEqualTo("https://graph.coffre.localhost:" + server.port() + "/");
        assertThat(o.path("suffixes").path("keyVaultDns").asText())
                .isEqualTo(".vault.coffre.localhost:" + server.port());

        JsonNode clouds = json(server.get("127.0.0.1", "/metadata/endpoints?api-version=2022-09-01", null));
        assertThat(clouds.isArray()).isTrue();
        JsonNode cloud = clouds.get(0);
        for (String required : new String[] {"name", "resourceManager", "sqlManagement", "batch", "gallery",
                "graphAudience", "vmImageAliasDoc", "media"}) {
            assertThat(cloud.has(required)).as(required).isTrue();
        }
        assertThat(cloud.path("resourceManager").asText()).isEqualTo(server.url("127.0.0.1") + "/");
        assertThat(cloud.path("suffixes").path("mhsmDns").asText())
                .isEqualTo(".managedhsm.coffre.localhost:" + server.port());
        assertThat(cloud.path("authentication").path("identityProvider").asText()).isEqualTo("ADFS");

        assertThat(server.get("127.0.0.1", "/metadata/endpoints", null).statusCode()).isEqualTo(400);
    }

    @Test
    void signInRoutesExistOnlyOnTheManagementHost() {
        HttpResponse<String> r = postForm(server, "kv1.vault.coffre.localhost",
                "/" + identity.tenantId() + "/oauth2/v2.0/token",
                msalForm(sp.principal().appId(), sp.clientSecret(), VAULT_SCOPE));
        assertThat(r.statusCode()).isEqualTo(404);
        assertThat(server.get("attest.coffre.localhost", "/metadata/endpoints?api-version=2015-01-01", null)
                .statusCode()).isEqualTo(404);
    }
}
