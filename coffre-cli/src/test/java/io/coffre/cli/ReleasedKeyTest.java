package io.coffre.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.json.Json;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.interfaces.RSAPrivateKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.MGF1ParameterSpec;
import javax.crypto.Cipher;
import javax.crypto.spec.OAEPParameterSpec;
import javax.crypto.spec.PSource;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Opens release tokens built here with plain JCA, the way reference protocols §2.3 lays them out. */
class ReleasedKeyTest {
    private static final String KID = "https://quickhsm.managedhsm.coffre.localhost:8443/keys/cvmkey/0123456789abcdef0123456789abcdef";
    private static KeyPair runtime;
    private static KeyPair target;
    private static KeyPair vaultSigner;

    @BeforeAll
    static void keys() throws Exception {
        KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
        rsa.initialize(2048);
        runtime = rsa.generateKeyPair();
        vaultSigner = rsa.generateKeyPair();
        rsa.initialize(3072);
        target = rsa.generateKeyPair();
    }

    /** What a key service sends back from a release: a signed JWS carrying the wrapped PKCS#8 key. */
    static String releaseToken(String enc, String hash, byte[] keyMaterial, RSAPublicKey wrapTo) throws Exception {
        byte[] transferKey = new byte[32];
        new SecureRandom().nextBytes(transferKey);
        Cipher oaep = Cipher.getInstance("RSA/ECB/OAEPPadding");
        oaep.init(Cipher.ENCRYPT_MODE, wrapTo,
                new OAEPParameterSpec(hash, "MGF1", new MGF1ParameterSpec(hash), PSource.PSpecified.DEFAULT));
        byte[] wrappedTransferKey = oaep.doFinal(transferKey);
        Cipher kwp = Cipher.getInstance("AES/KWP/NoPadding");
        kwp.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(transferKey, "AES"));
        byte[] wrappedKey = kwp.doFinal(keyMaterial);
        byte[] ciphertext = new byte[wrappedTransferKey.length + wrappedKey.length];
        System.arraycopy(wrappedTransferKey, 0, ciphertext, 0, wrappedTransferKey.length);
        System.arraycopy(wrappedKey, 0, ciphertext, wrappedTransferKey.length, wrappedKey.length);

        ObjectNode keyHsm = Json.object().put("schema_version", "1.0").put("ciphertext", Json.b64url(ciphertext));
        keyHsm.putObject("header").put("kid", "runtime").put("alg", "dir").put("enc", enc);
        ObjectNode payload = Json.object();
        payload.putObject("request").put("api-version", "7.6").put("enc", enc).put("kid", KID);
        ObjectNode key = payload.putObject("response").putObject("key").putObject("key");
        key.setAll(Jwk.rsaPublic((RSAPublicKey) target.getPublic()));
        key.put("kid", KID).put("kty", "RSA-HSM").put("key_hsm", Json.b64url(Json.write(keyHsm).getBytes(StandardCharsets.UTF_8)));
        String signingInput = Json.b64url("{\"alg\":\"RS256\"}".getBytes(StandardCharsets.UTF_8)) + "."
                + Json.b64url(Json.write(payload).getBytes(StandardCharsets.UTF_8));
        Signature rs256 = Signature.getInstance("SHA256withRSA");
        rs256.initSign(vaultSigner.getPrivate());
        rs256.update(signingInput.getBytes(StandardCharsets.US_ASCII));
        return signingInput + "." + Json.b64url(rs256.sign());
    }

    @ParameterizedTest
    @CsvSource({"CKM_RSA_AES_KEY_WRAP, SHA-1", "RSA_AES_KEY_WRAP_256, SHA-256", "RSA_AES_KEY_WRAP_384, SHA-384"})
    void opensEachWrappingAndYieldsTheReleasedPrivateKey(String enc, String hash) throws Exception {
        String token = releaseToken(enc, hash, target.getPrivate().getEncoded(), (RSAPublicKey) runtime.getPublic());
        ReleasedKey.Opened opened = ReleasedKey.open(token, (RSAPrivateKey) runtime.getPrivate());
        assertThat(opened.kid()).isEqualTo(KID);
        assertThat(opened.enc()).isEqualTo(enc);
        assertThat(opened.material()).isEqualTo(target.getPrivate().getEncoded());
        assertThat(ReleasedKey.matches(ReleasedKey.rsaPrivateKey(opened.material()), opened.publicKey())).isTrue();
    }

    @Test
    void aPrivateKeyDoesNotMatchAnotherKeysPublicJwk() {
        assertThat(ReleasedKey.matches(ReleasedKey.rsaPrivateKey(target.getPrivate().getEncoded()),
                Jwk.rsaPublic((RSAPublicKey) runtime.getPublic()))).isFalse();
    }

    @Test
    void refusesToOpenWithAnotherRuntimeKey() throws Exception {
        String token = releaseToken("RSA_AES_KEY_WRAP_256", "SHA-256", target.getPrivate().getEncoded(),
                (RSAPublicKey) vaultSigner.getPublic());
        assertThatThrownBy(() -> ReleasedKey.open(token, (RSAPrivateKey) runtime.getPrivate()))
                .isInstanceOf(CliError.class).hasMessageContaining("another runtime key");
    }

    @Test
    void detectsADamagedKeyWrap() throws Exception {
        byte[] transferKey = new byte[32];
        Cipher oaep = Cipher.getInstance("RSA/ECB/OAEPPadding");
        oaep.init(Cipher.ENCRYPT_MODE, runtime.getPublic(), new OAEPParameterSpec("SHA-256", "MGF1",
                MGF1ParameterSpec.SHA256, PSource.PSpecified.DEFAULT));
        byte[] head = oaep.doFinal(transferKey);
        Cipher kwp = Cipher.getInstance("AES/KWP/NoPadding");
        kwp.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(transferKey, "AES"));
        byte[] tail = kwp.doFinal("the released key".getBytes(StandardCharsets.UTF_8));
        tail[3] ^= 1;
        byte[] ciphertext = new byte[head.length + tail.length];
        System.arraycopy(head, 0, ciphertext, 0, head.length);
        System.arraycopy(tail, 0, ciphertext, head.length, tail.length);
        assertThatThrownBy(() -> ReleasedKey.unwrap(ciphertext, "RSA_AES_KEY_WRAP_256",
                (RSAPrivateKey) runtime.getPrivate())).isInstanceOf(CliError.class).hasMessageContaining("damaged");
    }

    @Test
    void rejectsWhatIsNotAReleaseToken() {
        RSAPrivateKey key = (RSAPrivateKey) runtime.getPrivate();
        assertThatThrownBy(() -> ReleasedKey.open("not-a-jws", key)).hasMessageContaining("compact JWS");
        String noKeyHsm = "e30." + Json.b64url("{\"response\":{\"key\":{\"key\":{}}}}".getBytes(StandardCharsets.UTF_8))
                + ".c2ln";
        assertThatThrownBy(() -> ReleasedKey.open(noKeyHsm, key)).hasMessageContaining("key_hsm");
        assertThatThrownBy(() -> ReleasedKey.unwrap(new byte[300], "A256KW", key)).hasMessageContaining("Unknown");
        assertThatThrownBy(() -> ReleasedKey.unwrap(new byte[256], "RSA_AES_KEY_WRAP_256", key))
                .hasMessageContaining("too short");
    }
}
