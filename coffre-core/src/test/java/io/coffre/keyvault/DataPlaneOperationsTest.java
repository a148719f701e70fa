package io.coffre.keyvault;

import static io.coffre.keyvault.KeyVaultFixture.json;
import static io.coffre.keyvault.KeyVaultFixture.version;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.arm.ArmException;
import io.coffre.json.Json;
import io.coffre.keyvault.KeyService.Store;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.AlgorithmParameters;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.MessageDigest;
import java.security.Signature;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.RSAPublicKeySpec;
import java.time.Duration;
import javax.crypto.Cipher;
import javax.crypto.spec.OAEPParameterSpec;
import javax.crypto.spec.PSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataPlaneOperationsTest {
    @TempDir
    Path dir;
    private KeyVaultFixture f;
    private Store vault;

    @BeforeEach
    void open() {
        f = new KeyVaultFixture(dir);
        vault = f.vault("kv-ops", "uaenorth", "premium");
    }

    @AfterEach
    void close() {
        f.close();
    }

    private static PublicKey ecPublicKey(JsonNode jwk) throws Exception {
        AlgorithmParameters parameters = AlgorithmParameters.getInstance("EC");
        parameters.init(new ECGenParameterSpec("secp256r1"));
        ECPoint point = new ECPoint(new BigInteger(1, Json.unb64url(jwk.path("x").asText(), "x")),
                new BigInteger(1, Json.unb64url(jwk.path("y").asText(), "y")));
        return KeyFactory.getInstance("EC").generatePublic(new ECPublicKeySpec(point,
                parameters.getParameterSpec(ECParameterSpec.class)));
    }

    private static String b64(byte[] bytes) {
        return Json.b64url(bytes);
    }

    private ObjectNode op(String name, String version, String operation, String body) {
        return f.keys.keyOperation(f.admin, vault, name, version, operation, json(body));
    }

    @Test
    void wrapWithThePublicKeyUnwrapsInTheService() throws Exception {
        ObjectNode key = f.createKey(vault, "k1", "RSA-HSM");
        byte[] dataKey = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
        // What an SDK does locally with the public key from GET.
        RSAPublicKey publicKey = (RSAPublicKey) KeyFactory.getInstance("RSA").generatePublic(new RSAPublicKeySpec(
                new BigInteger(1, Json.unb64url(key.path("key").path("n").asText(), "n")),
                new BigInteger(1, Json.unb64url(key.path("key").path("e").asText(), "e"))));
        Cipher cipher = Cipher.getInstance("RSA/ECB/OAEPPadding");
        cipher.init(Cipher.ENCRYPT_MODE, publicKey, new OAEPParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256,
                PSource.PSpecified.DEFAULT));
        byte[] wrapped = cipher.doFinal(dataKey);

        ObjectNode unwrapped = op("k1", version(key), "unwrapkey", "{\"alg\":\"RSA-OAEP-256\",\"value\":\""
                + b64(wrapped) + "\"}");
        assertThat(unwrapped.path("kid").asText()).isEqualTo(key.path("key").path("kid").asText());
        assertThat(Json.unb64url(unwrapped.path("value").asText(), "value")).isEqualTo(dataKey);

        ObjectNode serviceWrapped = op("k1", null, "wrapKey", "{\"alg\":\"RSA-OAEP\",\"value\":\"" + b64(dataKey)
                + "\"}");
        assertThat(Json.unb64url(op("k1", null, "unwrapKey", "{\"alg\":\"RSA-OAEP\",\"value\":\""
                + serviceWrapped.path("value").asText() + "\"}").path("value").asText(), "value")).isEqualTo(dataKey);
    }

    @Test
    void signAndVerifyWithEc() throws Exception {
        f.createKey(vault, "ec", "EC");
        byte[] digest = MessageDigest.getInstance("SHA-256").digest("hello".getBytes(StandardCharsets.UTF_8));
        ObjectNode signed = op("ec", null, "sign", "{\"alg\":\"ES256\",\"value\":\"" + b64(digest) + "\"}");
        String signature = signed.path("value").asText();
        assertThat(op("ec", null, "verify", "{\"alg\":\"ES256\",\"digest\":\"" + b64(digest) + "\",\"value\":\""
                + signature + "\"}").path("value").asBoolean()).isTrue();
        digest[0] ^= 1;
        assertThat(op("ec", null, "verify", "{\"alg\":\"ES256\",\"digest\":\"" + b64(digest) + "\",\"value\":\""
                + signature + "\"}").path("value").asBoolean()).isFalse();
    }

    @Test
    void aesGcmOnAnHsmKeyReturnsIvAndTag() {
        Store hsm = f.hsm("hsm-ops");
        f.createKey(hsm, "aes", "oct-HSM");
        byte[] plaintext = "secret payload".getBytes(StandardCharsets.UTF_8);
        ObjectNode encrypted = f.keys.keyOperation(f.admin, hsm, "aes", null, "encrypt", json("{\"alg\":\"A256GCM\","
                + "\"value\":\"" + b64(plaintext) + "\",\"aad\":\"" + b64("ctx".getBytes()) + "\"}"));
        assertThat(encrypted.has("iv")).isTrue();
        assertThat(encrypted.has("tag")).isTrue();
        ObjectNode decrypted = f.keys.keyOperation(f.admin, hsm, "aes", null, "decrypt", json("{\"alg\":\"A256GCM\","
                + "\"value\":\"" + encrypted.path("value").asText() + "\",\"iv\":\"" + encrypted.path("iv").asText()
                + "\",\"tag\":\"" + encrypted.path("tag").asText() + "\",\"aad\":\"" + b64("ctx".getBytes())
                + "\"}"));
        assertThat(Json.unb64url(decrypted.path("value").asText(), "value")).isEqualTo(plaintext);
    }

    @Test
    void badRequestsAndUnusableKeysAreRefused() {
        f.keys.createKey(f.admin, vault, "wrap-only", json("{\"kty\":\"RSA\",\"key_ops\":[\"wrapKey\"]}"));
        f.createKey(vault, "ec", "EC");
        ArmException notPermitted = f.rejectsWithoutWriting(() -> op("wrap-only", null, "decrypt",
                "{\"alg\":\"RSA-OAEP\",\"value\":\"" + b64(new byte[256]) + "\"}"), 403, "Forbidden");
        assertThat(notPermitted.getMessage()).contains("Operation decrypt is not permitted on this key.");
        assertThat(f.rejectsWithoutWriting(() -> op("ec", null, "sign", "{\"alg\":\"RS256\",\"value\":\""
                + b64(new byte[32]) + "\"}"), 400, "BadParameter").getMessage()).contains("RS256");
        f.rejectsWithoutWriting(() -> op("ec", null, "sign", "{\"alg\":\"ES256\",\"value\":\"not*base64\"}"), 400,
                "BadParameter");
        f.rejectsWithoutWriting(() -> op("ec", null, "sign", "{\"alg\":\"ES256\"}"), 400, "BadParameter");
        f.rejectsWithoutWriting(() -> op("ec", null, "frobnicate", "{}"), 400, "BadParameter");
        f.rejectsWithoutWriting(() -> op("ec", "f".repeat(32), "sign", "{}"), 404, "KeyNotFound");

        f.keys.updateKey(f.admin, vault, "ec", null, json("{\"attributes\":{\"enabled\":false}}"));
        assertThat(f.rejectsWithoutWriting(() -> op("ec", null, "sign", "{\"alg\":\"ES256\",\"value\":\""
                + b64(new byte[32]) + "\"}"), 403, "Forbidden").innerCode()).isEqualTo("KeyDisabled");

        long now = f.clock.now().getEpochSecond();
        f.keys.updateKey(f.admin, vault, "ec", null, json("{\"attributes\":{\"enabled\":true,\"nbf\":" + (now + 3600)
                + ",\"exp\":" + (now + 7200) + "}}"));
        String sign = "{\"alg\":\"ES256\",\"value\":\"" + b64(new byte[32]) + "\"}";
        assertThat(f.rejectsWithoutWriting(() -> op("ec", null, "sign", sign), 403, "Forbidden").innerCode())
                .isEqualTo("KeyNotYetValid");
        f.clock.advance(Duration.ofMinutes(90));
        assertThat(op("ec", null, "sign", sign).path("value").asText()).isNotEmpty();
        f.clock.advance(Duration.ofHours(1));
        assertThat(f.rejectsWithoutWriting(() -> op("ec", null, "sign", sign), 403, "Forbidden").innerCode())
                .isEqualTo("KeyExpired");
    }

    @Test
    void eachVersionKeepsItsOwnMaterial() throws Exception {
        ObjectNode v1 = f.createKey(vault, "multi", "EC");
        ObjectNode v2 = f.keys.rotateKey(f.admin, vault, "multi");
        byte[] digest = MessageDigest.getInstance("SHA-256").digest(new byte[]{1});
        String sig1 = op("multi", version(v1), "sign", "{\"alg\":\"ES256\",\"value\":\"" + b64(digest) + "\"}")
                .path("value").asText();
        String verify = "{\"alg\":\"ES256\",\"digest\":\"" + b64(digest) + "\",\"value\":\"" + sig1 + "\"}";
        assertThat(op("multi", version(v1), "verify", verify).path("value").asBoolean()).isTrue();
        assertThat(op("multi", version(v2), "verify", verify).path("value").asBoolean()).isFalse();
        // Verify locally with the JDK and the version's public key, as a client would.
        Signature jdk = Signature.getInstance("SHA256withECDSAinP1363Format");
        jdk.initVerify(ecPublicKey(v1.path("key")));
        jdk.update(new byte[]{1});
        assertThat(jdk.verify(Json.unb64url(sig1, "sig"))).isTrue();
    }
}
