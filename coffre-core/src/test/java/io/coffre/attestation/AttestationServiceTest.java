package io.coffre.attestation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.coffre.Endpoints;
import io.coffre.arm.ArmException;
import io.coffre.json.Json;
import io.coffre.seal.MasterKey;
import io.coffre.store.MetadataStore;
import io.coffre.store.MetadataStores;
import io.coffre.time.ManualClock;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AttestationServiceTest {
    private static final Endpoints ENDPOINTS = new Endpoints("coffre.localhost", 8443);
    private static final String ISSUER = "https://attest.coffre.localhost:8443";
    private static RSAKey runtimeKey;

    @TempDir
    Path dir;
    private final ManualClock clock = new ManualClock();
    private MasterKey masterKey;
    private MetadataStore metadata;
    private AttestationService attestation;

    @BeforeAll
    static void runtimeKey() throws Exception {
        runtimeKey = new RSAKeyGenerator(2048).generate();
    }

    @BeforeEach
    void open() {
        masterKey = MasterKey.generate(dir.resolve("master.key"));
        metadata = MetadataStores.h2(dir.resolve("db"));
        attestation = Attestations.open(metadata, masterKey.sealer(), ENDPOINTS, clock);
    }

    @AfterEach
    void close() {
        metadata.close();
    }

    private static Map<String, Object> publicJwk() {
        return runtimeKey.toPublicJWK().toJSONObject();
    }

    @Test
    @SuppressWarnings("unchecked")
    void sevSnpTokenCarriesTheParavisorClaims() throws Exception {
        String token = attestation.issue("SevSnpVm", publicJwk(), "7D9E1A52-1C5F-4B0C-8E0A-3F3D2C1B0A99", null);

        SignedJWT jwt = SignedJWT.parse(token);
        JWSHeader header = jwt.getHeader();
        assertThat(header.getAlgorithm()).isEqualTo(JWSAlgorithm.RS256);
        assertThat(header.getType().getType()).isEqualTo("JWT");
        assertThat(header.getJWKURL()).isEqualTo(URI.create(ISSUER + "/certs"));
        assertThat(header.getKeyID()).isNotBlank();

        Map<String, Object> claims = attestation.verify(token);
        assertThat(claims).containsEntry("iss", ISSUER).containsEntry("x-ms-ver", "1.0")
                .containsEntry("x-ms-attestation-type", "sevsnpvm")
                .containsEntry("x-ms-compliance-status", "azure-compliant-cvm")
                .containsEntry("x-ms-sevsnpvm-is-debuggable", false)
                .containsKeys("jti", "x-ms-policy-hash", "x-ms-sevsnpvm-reportdata");
        assertThat(((Number) claims.get("x-ms-sevsnpvm-vmpl")).intValue()).isZero();
        assertThat(((Number) claims.get("exp")).longValue() - ((Number) claims.get("iat")).longValue())
                .isEqualTo(28800);
        assertThat(claims.get("nbf")).isEqualTo(claims.get("iat"));
        Map<String, Object> runtime = (Map<String, Object>) claims.get("x-ms-runtime");
        Map<String, Object> key = ((List<Map<String, Object>>) runtime.get("keys")).get(0);
        assertThat(key).containsEntry("kid", "HCLTransferKey").containsEntry("kty", "RSA")
                .containsEntry("n", runtimeKey.getModulus().toString())
                .containsEntry("e", runtimeKey.getPublicExponent().toString())
                .containsEntry("key_ops", List.of("encrypt"));
        assertThat((Map<String, Object>) runtime.get("vm-configuration")).containsEntry("secure-boot", true)
                .containsEntry("tpm-enabled", true)
                .containsEntry("vmUniqueId", "7D9E1A52-1C5F-4B0C-8E0A-3F3D2C1B0A99");
        assertThat((String) claims.get("x-ms-sevsnpvm-reportdata")).hasSize(128);
        assertThat(claims).doesNotContainKey("x-ms-isolation-tee");
    }

    @Test
    void tdxTokenNamesItsType() {
        Map<String, Object> claims = attestation.verify(attestation.issue("tdxvm", publicJwk(), null,
                "azure-compliant-cvm"));
        assertThat(claims).containsEntry("x-ms-attestation-type", "tdxvm").containsEntry("dbgstat", "disabled")
                .containsKey("tdx_report_data").doesNotContainKey("x-ms-sevsnpvm-vmpl");
    }

    @Test
    @SuppressWarnings("unchecked")
    void guestTokenNestsTheIsolationTee() {
        Map<String, Object> claims = attestation.verify(attestation.issue("AzureGuest", publicJwk(), "vm-1",
                "not-compliant"));
        assertThat(claims).containsEntry("x-ms-attestation-type", "azurevm").containsEntry("x-ms-azurevm-vmid", "vm-1")
                .doesNotContainKey("x-ms-compliance-status");
        Map<String, Object> tee = (Map<String, Object>) claims.get("x-ms-isolation-tee");
        assertThat(tee).containsEntry("x-ms-attestation-type", "sevsnpvm")
                .containsEntry("x-ms-compliance-status", "not-compliant")
                .containsEntry("x-ms-sevsnpvm-is-debuggable", false);
        Map<String, Object> key = ((List<Map<String, Object>>) ((Map<String, Object>) claims.get("x-ms-runtime"))
                .get("keys")).get(0);
        assertThat(key).containsEntry("kid", "TpmEphemeralEncryptionKey")
                .containsEntry("n", runtimeKey.getModulus().toString());
    }

    @Test
    void badIssueRequestsAreRefusedWithActionableMessages() throws Exception {
        Map<String, Object> ecKey = new ECKeyGenerator(Curve.P_256).generate().toPublicJWK().toJSONObject();
        Map<String, Object> weakKey = new RSAKeyGenerator(1024, true).generate().toPublicJWK().toJSONObject();
        assertBadParameter(() -> attestation.issue("SgxEnclave", publicJwk(), null, null), "SevSnpVm");
        assertBadParameter(() -> attestation.issue("SevSnpVm", null, null, null), "runtimeKey is required");
        assertBadParameter(() -> attestation.issue("SevSnpVm", Map.of("kty", "RSA"), null, null), "not a valid JWK");
        assertBadParameter(() -> attestation.issue("SevSnpVm", ecKey, null, null), "kty EC");
        assertBadParameter(() -> attestation.issue("SevSnpVm", runtimeKey.toJSONObject(), null, null),
                "private key parts");
        assertBadParameter(() -> attestation.issue("SevSnpVm", weakKey, null, null), "1024-bit");
        assertBadParameter(() -> attestation.issue("SevSnpVm", publicJwk(), "vm id with spaces", null), "vmId");
        assertBadParameter(() -> attestation.issue("SevSnpVm", publicJwk(), null, "{}"), "complianceStatus");
    }

    private static void assertBadParameter(Runnable call, String messagePart) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(ArmException.class, e -> {
            assertThat(e.status()).isEqualTo(400);
            assertThat(e.code()).isEqualTo("BadParameter");
            assertThat(e.getMessage()).contains(messagePart);
        });
    }

    @Test
    void publishedCertsVerifyTheTokens() throws Exception {
        String token = attestation.issue("SevSnpVm", publicJwk(), null, null);
        JWKSet jwks = JWKSet.parse(attestation.jwks());
        assertThat(jwks.getKeys()).hasSize(1);
        RSAKey published = (RSAKey) jwks.getKeys().get(0);
        assertThat(published.isPrivate()).isFalse();
        assertThat(published.getKeyID()).isEqualTo(SignedJWT.parse(token).getHeader().getKeyID());
        assertThat(SignedJWT.parse(token).verify(new RSASSAVerifier(published))).isTrue();
        X509Certificate certificate = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(
                new ByteArrayInputStream(published.getX509CertChain().get(0).decode()));
        assertThat(certificate.getPublicKey()).isEqualTo(published.toRSAPublicKey());
        certificate.verify(certificate.getPublicKey());
        certificate.checkValidity();
        assertThat(attestation.jwks()).doesNotContain("\"d\"");
    }

    @Test
    void openIdConfigurationPointsAtTheCerts() {
        var document = Json.parse(attestation.openIdConfiguration("https://attest.coffre.localhost:8443/"));
        assertThat(document.path("issuer").asText()).isEqualTo(ISSUER);
        assertThat(document.path("jwks_uri").asText()).isEqualTo(ISSUER + "/certs");
        assertThat(document.path("id_token_signing_alg_values_supported").toString()).isEqualTo("[\"RS256\"]");
        assertThat(document.path("response_types_supported").toString()).isEqualTo("[\"token\",\"none\"]");
    }

    @Test
    void verifyRefusesWhatIsNotAJwsOrNotRs256() throws Exception {
        for (String garbage : new String[] {null, "", "garbage", "a.b.c"}) {
            assertThatThrownBy(() -> attestation.verify(garbage)).as(String.valueOf(garbage))
                    .isInstanceOfSatisfying(ArmException.class, e -> {
                        assertThat(e.status()).isEqualTo(400);
                        assertThat(e.code()).isEqualTo("BadParameter");
                    });
        }
        SignedJWT hmac = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims(ISSUER, Duration.ZERO));
        hmac.sign(new MACSigner(new byte[32]));
        assertThatThrownBy(() -> attestation.verify(hmac.serialize())).isInstanceOfSatisfying(ArmException.class,
                e -> assertThat(e).hasMessageContaining("HS256").extracting(ArmException::status).isEqualTo(400));
    }

    @Test
    void verifyRefusesAForeignIssuer() throws Exception {
        String foreign = signWith(new RSAKeyGenerator(2048).keyID("x").generate(),
                claims("https://sharedeus.eus.attest.azure.net", Duration.ZERO));
        assertThatThrownBy(() -> attestation.verify(foreign)).isInstanceOfSatisfying(ArmException.class, e -> {
            assertThat(e.status()).isEqualTo(403);
            assertThat(e.code()).isEqualTo("Forbidden");
            assertThat(e.getMessage()).contains("was issued by https://sharedeus.eus.attest.azure.net; this key"
                    + " service trusts only " + ISSUER);
        });
    }

    @Test
    void verifyRefusesOurIssuerSignedByAnotherKey() throws Exception {
        String kid = SignedJWT.parse(attestation.issue("SevSnpVm", publicJwk(), null, null)).getHeader().getKeyID();
        String forged = signWith(new RSAKeyGenerator(2048).keyID(kid).generate(), claims(ISSUER, Duration.ZERO));
        assertThatThrownBy(() -> attestation.verify(forged)).isInstanceOfSatisfying(ArmException.class, e -> {
            assertThat(e.status()).isEqualTo(403);
            assertThat(e.innerCode()).isEqualTo("AttestationTokenInvalidSignature");
        });
    }

    @Test
    void verifyAcceptsAnIssuerWithATrailingSlash() throws Exception {
        assertThat(attestation.verify(signWith(storedKey(), claims(ISSUER + "/", Duration.ZERO)))).containsKey("iss");
    }

    @Test
    void verifyRefusesAnExpiredToken() {
        String token = attestation.issue("SevSnpVm", publicJwk(), null, null);
        clock.advance(Duration.ofHours(8).plusMinutes(4));
        assertThat(attestation.verify(token)).as("within the 5 minute skew").isNotEmpty();
        clock.advance(Duration.ofMinutes(2));
        assertThatThrownBy(() -> attestation.verify(token)).isInstanceOfSatisfying(ArmException.class, e -> {
            assertThat(e.status()).isEqualTo(403);
            assertThat(e.innerCode()).isEqualTo("AttestationTokenExpired");
            assertThat(e.getMessage()).contains("expired at").contains("it is now");
        });
    }

    @Test
    void verifyRefusesATokenNotYetValidOrWithoutExpiry() throws Exception {
        String future = signWith(storedKey(), claims(ISSUER, Duration.ofMinutes(10)));
        assertThatThrownBy(() -> attestation.verify(future)).isInstanceOfSatisfying(ArmException.class, e -> {
            assertThat(e.status()).isEqualTo(403);
            assertThat(e.getMessage()).contains("valid only from");
        });
        String noExpiry = signWith(storedKey(), new JWTClaimsSet.Builder().issuer(ISSUER).build());
        assertThatThrownBy(() -> attestation.verify(noExpiry)).isInstanceOfSatisfying(ArmException.class,
                e -> assertThat(e).hasMessageContaining("no expiry"));
    }

    @Test
    void signingKeySurvivesARestartAndIsStoredSealed() throws Exception {
        String token = attestation.issue("SevSnpVm", publicJwk(), null, null);
        String jwks = attestation.jwks();
        metadata.close();
        metadata = MetadataStores.h2(dir.resolve("db"));
        AttestationService again = Attestations.open(metadata, MasterKey.load(dir.resolve("master.key")).sealer(),
                ENDPOINTS, clock);
        assertThat(again.jwks()).isEqualTo(jwks);
        assertThat(again.verify(token)).containsEntry("iss", ISSUER);

        byte[] sealed = metadata.withHandle(h -> h.createQuery("SELECT sealed_key FROM attestation_signing_keys")
                .mapTo(byte[].class).one());
        String stored = HexFormat.of().formatHex(sealed);
        byte[] pkcs8 = storedKey().toPrivateKey().getEncoded();
        assertThat(stored).doesNotContain(HexFormat.of().formatHex(pkcs8, 0, 64))
                .doesNotContain(HexFormat.of().formatHex(pkcs8, pkcs8.length - 64, pkcs8.length));
        assertThat(new String(sealed, java.nio.charset.StandardCharsets.ISO_8859_1)).doesNotContain("BEGIN");
        MasterKey other = MasterKey.generate(dir.resolve("other.key"));
        assertThatThrownBy(() -> Attestations.open(metadata, other.sealer(), ENDPOINTS, clock))
                .isInstanceOf(io.coffre.seal.SealException.class);
    }

    @Test
    void concurrentFirstStartsAgreeOnOneSigningKey() throws Exception {
        try (MetadataStore shared = MetadataStores.h2(dir.resolve("race"))) {
            CountDownLatch go = new CountDownLatch(1);
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<String>> published = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    published.add(pool.submit(() -> {
                        go.await();
                        return Attestations.open(shared, masterKey.sealer(), ENDPOINTS, clock).jwks();
                    }));
                }
                go.countDown();
                Set<String> keys = new HashSet<>();
                for (Future<String> f : published) {
                    keys.add(f.get(60, TimeUnit.SECONDS));
                }
                assertThat(keys).hasSize(1);
            } finally {
                pool.shutdownNow();
            }
        }
    }

    /** The service's own key, read back from the store, to mint tokens the API would never issue. */
    private RSAKey storedKey() {
        AttestationSigningKey key = AttestationSigningKey.loadOrCreate(metadata, masterKey.sealer(), ISSUER,
                clock.now());
        return new RSAKey.Builder(key.publicKey()).privateKey(key.privateKey()).keyID(key.kid()).build();
    }

    private JWTClaimsSet claims(String issuer, Duration startsIn) {
        Instant start = clock.now().plus(startsIn);
        return new JWTClaimsSet.Builder().issuer(issuer).issueTime(Date.from(start)).notBeforeTime(Date.from(start))
                .expirationTime(Date.from(start.plus(Duration.ofHours(8))))
                .claim("x-ms-attestation-type", "sevsnpvm").build();
    }

    private static String signWith(RSAKey key, JWTClaimsSet claims) throws Exception {
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID()).build(), claims);
        jwt.sign(new RSASSASigner(key));
        return jwt.serialize();
    }
}
