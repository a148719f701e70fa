package io.coffre.keyvault.crypto;

import static io.coffre.keyvault.crypto.KeyMaterialTest.badParameter;
import static org.assertj.core.api.Assertions.assertThat;

import io.coffre.json.Json;
import java.security.KeyFactory;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import javax.crypto.Cipher;
import javax.crypto.spec.OAEPParameterSpec;
import javax.crypto.spec.PSource;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class SecureKeyReleaseTest {
    /** The 2048-bit runtime key both CVM clients assume (they hard-code a 256-byte RSA block). */
    private static final KeyMaterial RUNTIME = TestKeys.rsa(2048);

    @ParameterizedTest
    @CsvSource(nullValues = "none", value = {"none", "CKM_RSA_AES_KEY_WRAP", "RSA_AES_KEY_WRAP_256",
        "RSA_AES_KEY_WRAP_384"})
    void wrapUnwrapRoundTripForEveryEnc(String enc) throws Exception {
        KeyMaterial target = TestKeys.rsa(3072);
        byte[] blob = SecureKeyRelease.wrap(target, RUNTIME.rsaPublic(), enc);
        byte[] released = SecureKeyRelease.unwrap(blob, RUNTIME.privateKey(), enc);
        assertThat(released).isEqualTo(target.exportForRelease());
        KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(released));
    }

    /** 256 bytes of RSA-OAEP, then RFC 5649 output: the PKCS#8 length rounded up to 8, plus 8. */
    @Test
    void blobIsOneRsaBlockThenAesKwpOfThePkcs8Key() {
        KeyMaterial rfcKey = KeyMaterial.fromJwk(TestKeys.json(TestKeys.RFC7517_RSA));
        int pkcs8 = rfcKey.exportForRelease().length;
        assertThat(pkcs8).isBetween(1217, 1224);
        assertThat(SecureKeyRelease.wrap(rfcKey, RUNTIME.rsaPublic(), "RSA_AES_KEY_WRAP_256")).hasSize(256 + 1232);

        KeyMaterial rsa3072 = TestKeys.rsa(3072);
        int length = rsa3072.exportForRelease().length;
        assertThat(SecureKeyRelease.wrap(rsa3072, RUNTIME.rsaPublic(), null))
                .hasSize(256 + (length + 7) / 8 * 8 + 8);
    }

    /** Unwraps with JDK primitives only, the way the CVM release client and the sidecar do. */
    @Test
    void blobUnwrapsWithPlainOaepAndKwpLikeTheCvmClients() throws Exception {
        KeyMaterial aes = TestKeys.oct(256);
        byte[] blob = SecureKeyRelease.wrap(aes, RUNTIME.rsaPublic(), "RSA_AES_KEY_WRAP_384");
        Cipher oaep = Cipher.getInstance("RSA/ECB/OAEPPadding");
        oaep.init(Cipher.DECRYPT_MODE, RUNTIME.privateKey(), new OAEPParameterSpec("SHA-384", "MGF1",
                MGF1ParameterSpec.SHA384, PSource.PSpecified.DEFAULT));
        byte[] kek = oaep.doFinal(blob, 0, 256);
        assertThat(kek).hasSize(32);
        Cipher kwp = Cipher.getInstance("AES/KWP/NoPadding");
        kwp.init(Cipher.DECRYPT_MODE, new SecretKeySpec(kek, "AES"));
        assertThat(kwp.doFinal(Arrays.copyOfRange(blob, 256, blob.length))).isEqualTo(aes.exportForRelease());
    }

    @ParameterizedTest
    @ValueSource(strings = {"P-256", "P-521", "P-256K"})
    void ecKeysAreReleasedAsPkcs8(String crv) {
        KeyMaterial target = TestKeys.ec(crv);
        byte[] blob = SecureKeyRelease.wrap(target, RUNTIME.rsaPublic(), "RSA_AES_KEY_WRAP_256");
        assertThat(SecureKeyRelease.unwrap(blob, RUNTIME.privateKey(), "RSA_AES_KEY_WRAP_256"))
                .isEqualTo(target.exportForRelease());
    }

    @Test
    void unwrapWithAnotherEncOrKeyOrAlteredBlobIsRefused() {
        byte[] blob = SecureKeyRelease.wrap(TestKeys.oct(128), RUNTIME.rsaPublic(), "RSA_AES_KEY_WRAP_256");
        badParameter(() -> SecureKeyRelease.unwrap(blob, RUNTIME.privateKey(), null))
                .hasMessageContaining("could not be decrypted");
        badParameter(() -> SecureKeyRelease.unwrap(blob, TestKeys.rsa(3072).privateKey(), "RSA_AES_KEY_WRAP_256"));
        byte[] altered = blob.clone();
        altered[altered.length - 1] ^= 1;
        badParameter(() -> SecureKeyRelease.unwrap(altered, RUNTIME.privateKey(), "RSA_AES_KEY_WRAP_256"));
        badParameter(() -> SecureKeyRelease.unwrap(Arrays.copyOf(blob, 200), RUNTIME.privateKey(), null))
                .hasMessageContaining("too short");
    }

    @Test
    void unknownEncIsABadParameter() {
        badParameter(() -> SecureKeyRelease.wrap(TestKeys.oct(128), RUNTIME.rsaPublic(), "RSA_AES_KEY_WRAP_512"))
                .hasMessageContaining("'RSA_AES_KEY_WRAP_512'").hasMessageContaining("RSA_AES_KEY_WRAP_384");
        assertThat(SecureKeyRelease.effectiveEnc(null)).isEqualTo("CKM_RSA_AES_KEY_WRAP");
        assertThat(SecureKeyRelease.effectiveEnc("RSA_AES_KEY_WRAP_256")).isEqualTo("RSA_AES_KEY_WRAP_256");
    }

    @Test
    void runtimeKeyIsTheFirstRsaEncryptionKeyOfTheTopLevelRuntimeClaim() {
        Map<String, Object> runtimeJwk = jwkMap(RUNTIME, "HCLTransferKey");
        Map<String, Object> other = jwkMap(TestKeys.rsa(3072), "second");
        Map<String, Object> ec = jwkMap(TestKeys.ec("P-256"), "ec");
        ec.put("key_ops", List.of("encrypt"));
        Map<String, Object> signingOnly = jwkMap(TestKeys.rsa(4096), "signing");
        signingOnly.put("key_ops", List.of("sign"));
        Map<String, Object> claims = Map.of("x-ms-runtime", Map.of("keys", List.of(ec, signingOnly, runtimeJwk,
                other)));
        RSAPublicKey key = SecureKeyRelease.runtimeKey(claims);
        assertThat(key.getModulus()).isEqualTo(RUNTIME.rsaPublic().getModulus());

        Map<String, Object> byUse = jwkMap(TestKeys.rsa(3072), "fake-release-key");
        byUse.remove("key_ops");
        byUse.put("use", "enc");
        assertThat(SecureKeyRelease.runtimeKey(Map.of("x-ms-runtime", Map.of("keys", List.of(byUse)))).getModulus())
                .isEqualTo(TestKeys.rsa(3072).rsaPublic().getModulus());
    }

    @Test
    void tokensWithoutAUsableRuntimeKeyAreRefused() {
        Map<String, Object> signingOnly = jwkMap(RUNTIME, "k");
        signingOnly.put("key_ops", List.of("sign"));
        for (Map<String, Object> claims : List.of(Map.<String, Object>of(), Map.<String, Object>of("x-ms-runtime",
                "x"), Map.<String, Object>of("x-ms-runtime", Map.of("keys", List.of(signingOnly))),
                Map.<String, Object>of("x-ms-isolation-tee", Map.of("x-ms-runtime", Map.of("keys",
                        List.of(jwkMap(RUNTIME, "nested"))))))) {
            badParameter(() -> SecureKeyRelease.runtimeKey(claims)).hasMessageContaining("x-ms-runtime.keys");
        }
        Map<String, Object> weak = jwkMap(RUNTIME, "weak");
        weak.put("n", Json.b64url(new byte[128]));
        weak.put("n", "AQ" + ((String) weak.get("n")).substring(2));
        badParameter(() -> SecureKeyRelease.runtimeKey(Map.of("x-ms-runtime", Map.of("keys", List.of(weak)))))
                .hasMessageContaining("at least 2048 bits");
        Map<String, Object> noModulus = jwkMap(RUNTIME, "broken");
        noModulus.remove("n");
        badParameter(() -> SecureKeyRelease.runtimeKey(Map.of("x-ms-runtime", Map.of("keys", List.of(noModulus)))))
                .hasMessageContaining("x-ms-runtime.keys[].n");
    }

    /** The JWK as a parsed JWT claim set carries it: plain maps and lists. */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> jwkMap(KeyMaterial key, String kid) {
        Map<String, Object> jwk = Json.MAPPER.convertValue(key.publicJwk(kid, List.of("encrypt")), Map.class);
        jwk.put("kty", key.type().family());
        return jwk;
    }
}
