package io.coffre.keyvault;

import static io.coffre.keyvault.KeyVaultFixture.accessPolicy;
import static io.coffre.keyvault.KeyVaultFixture.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.coffre.arm.ArmException;
import io.coffre.attestation.AttestationService;
import io.coffre.identity.Directory;
import io.coffre.identity.Principal;
import io.coffre.json.Json;
import io.coffre.keyvault.KeyService.Store;
import io.coffre.keyvault.crypto.ReleasePolicy;
import io.coffre.keyvault.crypto.SecureKeyRelease;
import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.util.Date;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Secure key release of a CMK to an attested confidential VM, as the Confidential VM Orchestrator asks for it. */
class KeyReleaseTest {
    private static RSAKey runtimeKey;

    @TempDir
    Path dir;
    private KeyVaultFixture f;
    private Store vault;
    private Principal orchestrator;
    private ObjectNode cmk;

    @BeforeAll
    static void runtimeKey() throws Exception {
        runtimeKey = new RSAKeyGenerator(2048).keyID("TpmEphemeralEncryptionKey").generate();
    }

    @BeforeEach
    void open() {
        f = new KeyVaultFixture(dir);
        vault = f.vault("kv-skr", "uaenorth", "premium");
        orchestrator = f.core.identity().find(Directory.CVM_ORCHESTRATOR_APP_ID).orElseThrow();
        f.setAccessPolicies(vault, accessPolicy(orchestrator, "get", "release"));
        cmk = f.keys.createKey(f.admin, vault, "cmk", exportable("RSA-HSM"));
    }

    @AfterEach
    void close() {
        f.close();
    }

    private ObjectNode exportable(String kty) {
        ObjectNode params = (ObjectNode) json("{\"kty\":\"" + kty + "\",\"attributes\":{\"exportable\":true}}");
        ObjectNode policy = params.putObject("release_policy");
        policy.put("contentType", "application/json; charset=utf-8");
        policy.put("data", Json.b64url(ReleasePolicy.defaultCvmPolicy(f.core.endpoints().attestationIssuer())));
        return params;
    }

    private String token(String type) {
        return f.core.attestation().issue(type, runtimeKey.toPublicJWK().toJSONObject(), null, null);
    }

    private ObjectNode release(Principal caller, Store store, String name, String token, String enc) {
        ObjectNode body = Json.object();
        body.put("target", token);
        if (enc != null) {
            body.put("enc", enc);
        }
        return f.keys.keyOperation(caller, store, name, null, "release", body);
    }

    @Test
    void attestedConfidentialVmGetsTheKeyWrappedToItsRuntimeKey() throws Exception {
        ObjectNode result = release(orchestrator, vault, "cmk", token(AttestationService.SEV_SNP_VM), null);

        JWSObject jws = JWSObject.parse(result.path("value").asText());
        assertThat(jws.getHeader().getAlgorithm()).isEqualTo(JWSAlgorithm.RS256);
        X509Certificate certificate = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(
                new ByteArrayInputStream(jws.getHeader().getX509CertChain().get(0).decode()));
        assertThat(jws.verify(new RSASSAVerifier((RSAPublicKey) certificate.getPublicKey()))).isTrue();
        assertThat(jws.getHeader().getX509CertSHA256Thumbprint()).isNotNull();

        JsonNode payload = Json.parse(jws.getPayload().toString());
        assertThat(payload.path("request").path("enc").asText()).isEqualTo("CKM_RSA_AES_KEY_WRAP");
        assertThat(payload.path("request").path("kid").asText()).isEqualTo(f.core.endpoints().vaultUri("kv-skr")
                + "/keys/cmk");
        JsonNode released = payload.path("response").path("key");
        assertThat(released.path("attributes").path("exportable").asBoolean()).isTrue();
        assertThat(released.path("release_policy")).isEqualTo(cmk.path("release_policy"));
        assertThat(released.path("key").path("kid")).isEqualTo(cmk.path("key").path("kid"));
        assertThat(released.path("key").path("kty").asText()).isEqualTo("RSA-HSM");

        JsonNode keyHsm = Json.parse(new String(Json.unb64url(released.path("key").path("key_hsm").asText(),
                "key_hsm")));
        assertThat(keyHsm.path("schema_version").asText()).isEqualTo("1.0");
        assertThat(keyHsm.path("header").path("alg").asText()).isEqualTo("dir");
        byte[] pkcs8 = SecureKeyRelease.unwrap(Json.unb64url(keyHsm.path("ciphertext").asText(), "ciphertext"),
                runtimeKey.toPrivateKey(), "CKM_RSA_AES_KEY_WRAP");
        RSAPrivateCrtKey privateKey = (RSAPrivateCrtKey) KeyFactory.getInstance("RSA")
                .generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
        assertThat(privateKey.getModulus()).isEqualTo(new BigInteger(1, Json.unb64url(cmk.path("key").path("n")
                .asText(), "n")));
        assertThat(f.core.audit().list(f.core.endpoints().vaultUri("kv-skr") + "/keys/cmk", 100))
                .anySatisfy(e -> {
                    assertThat(e.operation()).isEqualTo("KeyRelease");
                    assertThat(e.principalId()).isEqualTo(orchestrator.objectId());
                    assertThat(e.allowed()).isTrue();
                });
    }

    @Test
    void requestedEncIsUsedAndReported() throws Exception {
        ObjectNode result = release(orchestrator, vault, "cmk", token(AttestationService.TDX_VM),
                "RSA_AES_KEY_WRAP_256");
        JsonNode payload = Json.parse(JWSObject.parse(result.path("value").asText()).getPayload().toString());
        assertThat(payload.path("request").path("enc").asText()).isEqualTo("RSA_AES_KEY_WRAP_256");
        JsonNode keyHsm = Json.parse(new String(Json.unb64url(payload.path("response").path("key").path("key")
                .path("key_hsm").asText(), "key_hsm")));
        assertThat(SecureKeyRelease.unwrap(Json.unb64url(keyHsm.path("ciphertext").asText(), "c"),
                runtimeKey.toPrivateKey(), "RSA_AES_KEY_WRAP_256")).isNotEmpty();
        f.rejectsWithoutWriting(() -> release(orchestrator, vault, "cmk", token(AttestationService.TDX_VM),
                "ROT13"), 400, "BadParameter");
    }

    @Test
    void guestTokenDoesNotSatisfyTheDefaultCvmPolicy() {
        ArmException e = f.rejectsWithoutWriting(() -> release(orchestrator, vault, "cmk",
                token(AttestationService.AZURE_GUEST), null), 403, "Forbidden");
        assertThat(e.innerCode()).isEqualTo("AccessDenied");
        assertThat(e.getMessage()).contains("release policy").contains("x-ms-compliance-status");
        assertThat(f.core.audit().list(f.core.endpoints().vaultUri("kv-skr") + "/keys/cmk", 100))
                .anySatisfy(entry -> {
                    assertThat(entry.operation()).isEqualTo("KeyRelease");
                    assertThat(entry.allowed()).isFalse();
                });
    }

    @Test
    void expiredTokenIsRefused() {
        String token = token(AttestationService.SEV_SNP_VM);
        f.clock.advance(Duration.ofHours(9));
        ArmException e = f.rejectsWithoutWriting(() -> release(orchestrator, vault, "cmk", token, null), 403,
                "Forbidden");
        assertThat(e.innerCode()).isEqualTo("AttestationTokenExpired");
        assertThat(e.getMessage()).contains("expired");
    }

    @Test
    void tokenSignedByAnotherKeyIsRefused() throws Exception {
        RSAKey forger = new RSAKeyGenerator(2048).keyID("forged").generate();
        JWTClaimsSet claims = new JWTClaimsSet.Builder()
                .issuer(f.core.endpoints().attestationIssuer())
                .issueTime(Date.from(f.clock.now()))
                .notBeforeTime(Date.from(f.clock.now()))
                .expirationTime(Date.from(f.clock.now().plus(Duration.ofHours(8))))
                .claim("x-ms-attestation-type", "sevsnpvm")
                .claim("x-ms-compliance-status", "azure-compliant-cvm")
                .claim("x-ms-runtime", Map.of("keys", java.util.List.of(runtimeKey.toPublicJWK().toJSONObject())))
                .build();
        SignedJWT forged = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("forged").build(), claims);
        forged.sign(new RSASSASigner(forger));
        ArmException e = f.rejectsWithoutWriting(() -> release(orchestrator, vault, "cmk", forged.serialize(), null),
                403, "Forbidden");
        assertThat(e.innerCode()).startsWith("AttestationToken");
    }

    @Test
    void callerWithoutReleasePermissionIsRefused() {
        Principal app = f.servicePrincipal("not-the-orchestrator");
        f.setAccessPolicies(vault, accessPolicy(orchestrator, "get", "release"), accessPolicy(app, "get"));
        ArmException e = f.rejectsWithoutWriting(() -> release(app, vault, "cmk",
                token(AttestationService.SEV_SNP_VM), null), 403, "Forbidden");
        assertThat(e.getMessage()).contains("keys release permission");
    }

    @Test
    void onlyExportableKeysWithAPolicyAreReleased() {
        f.createKey(vault, "plain", "RSA-HSM");
        assertThat(f.rejectsWithoutWriting(() -> release(orchestrator, vault, "plain",
                token(AttestationService.SEV_SNP_VM), null), 400, "BadParameter").getMessage())
                .contains("not exportable");
        f.rejectsWithoutWriting(() -> f.keys.keyOperation(orchestrator, vault, "cmk", null, "release", json("{}")),
                400, "BadParameter");
        f.rejectsWithoutWriting(() -> release(orchestrator, vault, "cmk", "not-a-jws", null), 400, "BadParameter");
    }

    @Test
    void managedHsmReleasesToTheServiceReleaseUser() throws Exception {
        Store hsm = f.hsm("hsm-skr");
        f.keys.createKey(f.admin, hsm, "cmk", exportable("RSA-HSM"));
        f.rejectsWithoutWriting(() -> release(orchestrator, hsm, "cmk", token(AttestationService.SEV_SNP_VM), null),
                403, "Forbidden");
        f.assign(hsm, "/keys/cmk", "21dbd100-6940-42c2-9190-5d6cb909625c", orchestrator);
        ObjectNode result = release(orchestrator, hsm, "cmk", token(AttestationService.SEV_SNP_VM), null);
        assertThat(JWSObject.parse(result.path("value").asText()).getPayload().toString())
                .contains(f.core.endpoints().managedHsmUri("hsm-skr") + "/keys/cmk");
    }
}
