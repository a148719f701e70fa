package io.coffre.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.coffre.arm.ArmException;
import io.coffre.attestation.AttestationService;
import io.coffre.identity.Directory;
import io.coffre.identity.Identity;
import io.coffre.identity.Principal;
import io.coffre.json.Json;
import io.coffre.time.ManualClock;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class AttestationRoutesTest {
    private static final String ATTEST = "attest.coffre.localhost";
    private static TestServer server;
    private static Identity identity;
    private static AttestationService attestation;
    private static String adminToken;
    private static RSAKey runtimeKey;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start();
        identity = server.server().core().identity();
        attestation = server.server().core().attestation();
        adminToken = Files.readString(server.dataDir().resolve("admin-token"));
        runtimeKey = new RSAKeyGenerator(2048).generate();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static HttpResponse<String> attest(String host, String type, String body, String token) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(server.url(host) + "/attest/" + type
                        + "?api-version=2022-08-01"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return server.send(request);
    }

    private static String runtimeKeyBody(String extra) {
        return "{\"runtimeKey\":" + runtimeKey.toPublicJWK().toJSONString() + extra + "}";
    }

    private static String managementTokenOf(Principal principal) {
        return identity.issueToken(principal, List.of(server.server().core().endpoints().managementResource()),
                Duration.ofMinutes(10));
    }

    private static JsonNode json(HttpResponse<String> r) {
        return Json.parse(r.body());
    }

    @Test
    void oidcMetadataAndCertsDescribeTheIssuer() throws Exception {
        HttpResponse<String> r = server.get(ATTEST, "/.well-known/openid-configuration", null);
        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode doc = json(r);
        String issuer = server.server().core().endpoints().attestationIssuer();
        assertThat(issuer).isEqualTo("https://attest.coffre.localhost:" + server.port());
        assertThat(doc.path("issuer").asText()).isEqualTo(issuer);
        assertThat(doc.path("jwks_uri").asText()).isEqualTo(issuer + "/certs");
        assertThat(doc.path("id_token_signing_alg_values_supported").toString()).isEqualTo("[\"RS256\"]");

        HttpResponse<String> certs = server.get(ATTEST, URI.create(doc.path("jwks_uri").asText()).getPath(), null);
        assertThat(certs.statusCode()).isEqualTo(200);
        RSAKey key = (RSAKey) JWKSet.parse(certs.body()).getKeys().get(0);
        assertThat(key.getKeyID()).isNotBlank();
        assertThat(key.getX509CertChain()).hasSize(1);
        assertThat(key.isPrivate()).isFalse();
    }

    @Test
    void adminGetsAVerifiableSevSnpToken() throws Exception {
        HttpResponse<String> r = attest(ATTEST, "SevSnpVm", runtimeKeyBody(",\"vmId\":\"vm-0001\""), adminToken);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        String token = json(r).path("token").asText();
        SignedJWT jwt = SignedJWT.parse(token);
        RSAKey published = (RSAKey) JWKSet.parse(server.get(ATTEST, "/certs", null).body()).getKeys().get(0);
        assertThat(jwt.verify(new RSASSAVerifier(published))).isTrue();
        assertThat(jwt.getHeader().getJWKURL()).isEqualTo(URI.create(server.url(ATTEST) + "/certs"));
        Map<String, Object> claims = attestation.verify(token);
        assertThat(claims).containsEntry("x-ms-attestation-type", "sevsnpvm")
                .containsEntry("x-ms-compliance-status", "azure-compliant-cvm");
        assertThat(Json.write(claims.get("x-ms-runtime"))).contains("HCLTransferKey").contains("vm-0001")
                .contains(runtimeKey.getModulus().toString());
    }

    @Test
    void cvmOrchestratorGetsTdxAndGuestTokens() {
        String token = managementTokenOf(identity.find(Directory.CVM_ORCHESTRATOR_APP_ID).orElseThrow());
        HttpResponse<String> tdx = attest(ATTEST, "TdxVm", runtimeKeyBody(""), token);
        assertThat(tdx.statusCode()).as(tdx.body()).isEqualTo(200);
        assertThat(attestation.verify(json(tdx).path("token").asText()))
                .containsEntry("x-ms-attestation-type", "tdxvm");
        HttpResponse<String> guest = attest(ATTEST, "AzureGuest",
                runtimeKeyBody(",\"complianceStatus\":\"azure-compliant-cvm\""), token);
        assertThat(guest.statusCode()).as(guest.body()).isEqualTo(200);
        Map<String, Object> claims = attestation.verify(json(guest).path("token").asText());
        assertThat(claims).containsEntry("x-ms-attestation-type", "azurevm").containsKey("x-ms-isolation-tee");
    }

    @Test
    void otherCallersAreRefused() {
        Identity.Credentials other = identity.createServicePrincipal("not-the-platform");
        HttpResponse<String> r = attest(ATTEST, "SevSnpVm", runtimeKeyBody(""), managementTokenOf(other.principal()));
        assertThat(r.statusCode()).isEqualTo(403);
        assertThat(json(r).path("error").path("message").asText()).contains("Confidential VM Orchestrator");
        HttpResponse<String> anonymous = attest(ATTEST, "SevSnpVm", runtimeKeyBody(""), null);
        assertThat(anonymous.statusCode()).isEqualTo(401);
        // A vault-audience token is not a management token.
        String vaultToken = identity.issueToken(identity.admin(), List.of("https://vault.coffre.localhost"),
                Duration.ofMinutes(5));
        assertThat(attest(ATTEST, "SevSnpVm", runtimeKeyBody(""), vaultToken).statusCode()).isEqualTo(401);
    }

    @Test
    void badRequestsAreRefused() {
        assertThat(attest(ATTEST, "SgxEnclave", runtimeKeyBody(""), adminToken).statusCode()).isEqualTo(400);
        HttpResponse<String> noKey = attest(ATTEST, "SevSnpVm", "{\"vmId\":\"x\"}", adminToken);
        assertThat(noKey.statusCode()).isEqualTo(400);
        assertThat(json(noKey).path("error").path("code").asText()).isEqualTo("BadParameter");
        assertThat(attest(ATTEST, "SevSnpVm", runtimeKeyBody(",\"vmId\":7"), adminToken).statusCode())
                .isEqualTo(400);
        assertThat(attest(ATTEST, "SevSnpVm", "{\"runtimeKey\":{\"kty\":\"oct\",\"k\":\"AAAA\"}}", adminToken)
                .statusCode()).isEqualTo(400);
        assertThat(attest(ATTEST, "SevSnpVm", "not json", adminToken).statusCode()).isEqualTo(400);
    }

    @Test
    void attestationRoutesExistOnlyOnTheAttestationHost() {
        assertThat(server.get("management.coffre.localhost", "/certs", null).statusCode()).isEqualTo(404);
        assertThat(server.get("localhost", "/.well-known/openid-configuration", null).statusCode()).isEqualTo(404);
        assertThat(attest("management.coffre.localhost", "SevSnpVm", runtimeKeyBody(""), adminToken).statusCode())
                .isEqualTo(404);
    }

    @Test
    void verifyRefusesAForeignSignatureAndAForeignIssuer() throws Exception {
        String issuer = server.server().core().endpoints().attestationIssuer();
        String kid = SignedJWT.parse(attestation.issue("SevSnpVm", runtimeKey.toPublicJWK().toJSONObject(), null,
                null)).getHeader().getKeyID();
        RSAKey forger = new RSAKeyGenerator(2048).keyID(kid).generate();
        assertThatThrownBy(() -> attestation.verify(sign(forger, issuer))).isInstanceOfSatisfying(ArmException.class,
                e -> assertThat(e.status()).isEqualTo(403));
        assertThatThrownBy(() -> attestation.verify(sign(forger, "https://sharedeus.eus.attest.azure.net")))
                .isInstanceOfSatisfying(ArmException.class, e -> {
                    assertThat(e.status()).isEqualTo(403);
                    assertThat(e.getMessage()).contains("issued by https://sharedeus.eus.attest.azure.net")
                            .contains("trusts only " + issuer);
                });
    }

    @Test
    void verifyRefusesATokenAfterTheClockPassesItsExpiry() throws Exception {
        try (TestServer manual = TestServer.start(true)) {
            String admin = Files.readString(manual.dataDir().resolve("admin-token"));
            HttpResponse<String> r = manual.send(HttpRequest.newBuilder(URI.create(manual.url(ATTEST)
                            + "/attest/SevSnpVm?api-version=2022-08-01"))
                    .header("Authorization", "Bearer " + admin)
                    .POST(HttpRequest.BodyPublishers.ofString(runtimeKeyBody(""))));
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            String token = json(r).path("token").asText();
            AttestationService service = manual.server().core().attestation();
            assertThat(service.verify(token)).isNotEmpty();
            ManualClock clock = (ManualClock) manual.server().core().clock();
            clock.advance(Duration.ofHours(8).plusMinutes(6));
            assertThatThrownBy(() -> service.verify(token)).isInstanceOfSatisfying(ArmException.class, e -> {
                assertThat(e.status()).isEqualTo(403);
                assertThat(e.getMessage()).contains("expired at");
            });
        }
    }

    private static String sign(RSAKey key, String issuer) throws Exception {
        Instant now = Instant.now();
        JWTClaimsSet claims = new JWTClaimsSet.Builder().issuer(issuer).issueTime(Date.from(now))
                .notBeforeTime(Date.from(now)).expirationTime(Date.from(now.plus(Duration.ofHours(8))))
                .claim("x-ms-attestation-type", "sevsnpvm").claim("x-ms-compliance-status", "azure-compliant-cvm")
                .build();
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID()).build(), claims);
        jwt.sign(new RSASSASigner(key));
        return jwt.serialize();
    }
}
