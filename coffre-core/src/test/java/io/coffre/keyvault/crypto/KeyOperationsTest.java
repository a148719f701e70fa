package io.coffre.keyvault.crypto;

import static io.coffre.keyvault.crypto.KeyMaterialTest.badParameter;
import static org.assertj.core.api.Assertions.assertThat;

import io.coffre.json.Json;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.Signature;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.OAEPParameterSpec;
import javax.crypto.spec.PSource;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class KeyOperationsTest {
    private static final byte[] MESSAGE = "the quick brown fox".getBytes(StandardCharsets.UTF_8);
    private static final HexFormat HEX = HexFormat.of();

    // ---- round trips ------------------------------------------------------------------------------------------

    static Stream<Arguments> rsaEncryption() {
        return Stream.of(2048, 3072, 4096).flatMap(bits -> Stream.of("RSA1_5", "RSA-OAEP", "RSA-OAEP-256")
                .map(alg -> Arguments.of(bits, alg)));
    }

    @ParameterizedTest
    @MethodSource("rsaEncryption")
    void rsaEncryptDecryptAndWrapUnwrapRoundTrip(int bits, String alg) {
        KeyMaterial key = TestKeys.rsa(bits);
        KeyOperations.Result result = KeyOperations.encrypt(key, alg, MESSAGE, null, null);
        assertThat(result.value()).hasSize(bits / 8);
        assertThat(result.iv()).isNull();
        assertThat(KeyOperations.decrypt(key, alg, result.value(), null, null, null)).isEqualTo(MESSAGE);
        byte[] dek = new byte[32];
        assertThat(KeyOperations.unwrapKey(key, alg, KeyOperations.wrapKey(key, alg, dek))).isEqualTo(dek);
    }

    static Stream<Arguments> aesAlgorithms() {
        return Stream.of(128, 192, 256).flatMap(bits -> Stream.of("A" + bits + "GCM", "A" + bits + "CBC",
                "A" + bits + "CBCPAD", "A" + bits + "KW", "CKM_AES_KEY_WRAP", "CKM_AES_KEY_WRAP_PAD")
                .map(alg -> Arguments.of(bits, alg)));
    }

    @ParameterizedTest
    @MethodSource("aesAlgorithms")
    void aesEncryptDecryptRoundTrip(int bits, String alg) {
        KeyMaterial key = TestKeys.oct(bits);
        byte[] plaintext = new byte[48];
        Arrays.fill(plaintext, (byte) 0x5a);
        byte[] iv = alg.contains("CBC") ? new byte[16] : null;
        byte[] aad = alg.contains("GCM") ? "header".getBytes(StandardCharsets.UTF_8) : null;
        KeyOperations.Result result = KeyOperations.encrypt(key, alg, plaintext, iv, aad);
        assertThat(result.value()).isNotEqualTo(plaintext);
        assertThat(KeyOperations.decrypt(key, alg, result.value(), result.iv(), result.aad(), result.tag()))
                .isEqualTo(plaintext);
    }

    @ParameterizedTest
    @ValueSource(strings = {"A256KW", "CKM_AES_KEY_WRAP", "CKM_AES_KEY_WRAP_PAD"})
    void aesWrapUnwrapRoundTrip(String alg) {
        KeyMaterial key = TestKeys.oct(256);
        byte[] dek = HEX.parseHex("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
        byte[] wrapped = KeyOperations.wrapKey(key, alg, dek);
        assertThat(wrapped).hasSize(40);
        assertThat(KeyOperations.unwrapKey(key, alg, wrapped)).isEqualTo(dek);
    }

    @Test
    void gcmGeneratesA12ByteIvAndReturnsTagAndAad() {
        KeyMaterial key = TestKeys.oct(256);
        byte[] aad = {1, 2, 3};
        KeyOperations.Result first = KeyOperations.encrypt(key, "A256GCM", MESSAGE, null, aad);
        KeyOperations.Result second = KeyOperations.encrypt(key, "A256GCM", MESSAGE, null, aad);
        assertThat(first.iv()).hasSize(12).isNotEqualTo(second.iv());
        assertThat(first.tag()).hasSize(16);
        assertThat(first.aad()).isEqualTo(aad);
        assertThat(first.value()).hasSize(MESSAGE.length);
        KeyOperations.Result noAad = KeyOperations.encrypt(key, "A256GCM", MESSAGE, new byte[12], null);
        assertThat(noAad.iv()).isEqualTo(new byte[12]);
        assertThat(noAad.aad()).isNull();
        assertThat(KeyOperations.decrypt(key, "A256GCM", noAad.value(), noAad.iv(), null, noAad.tag()))
                .isEqualTo(MESSAGE);
    }

    @Property(tries = 60)
    void symmetricRoundTripsOverRandomData(@ForAll @Size(max = 2000) byte[] data,
            @ForAll @IntRange(min = 0, max = 2) int size) {
        KeyMaterial key = TestKeys.oct(128 + 64 * size);
        String bits = String.valueOf(key.keySize());
        KeyOperations.Result gcm = KeyOperations.encrypt(key, "A" + bits + "GCM", data, null, data);
        assertThat(KeyOperations.decrypt(key, "A" + bits + "GCM", gcm.value(), gcm.iv(), data, gcm.tag()))
                .isEqualTo(data);
        byte[] iv = Arrays.copyOf(data, 16);
        KeyOperations.Result cbc = KeyOperations.encrypt(key, "A" + bits + "CBCPAD", data, iv, null);
        assertThat(cbc.value().length % 16).isZero();
        assertThat(KeyOperations.decrypt(key, "A" + bits + "CBCPAD", cbc.value(), iv, null, null)).isEqualTo(data);
        if (data.length > 0) {
            byte[] wrapped = KeyOperations.wrapKey(key, "CKM_AES_KEY_WRAP_PAD", data);
            assertThat(KeyOperations.unwrapKey(key, "CKM_AES_KEY_WRAP_PAD", wrapped)).isEqualTo(data);
        }
    }

    @Property(tries = 30)
    void rsaOaep256RoundTripsOverRandomData(@ForAll @Size(max = 190) byte[] data) {
        KeyMaterial key = TestKeys.rsa(2048);
        byte[] wrapped = KeyOperations.wrapKey(key, "RSA-OAEP-256", data);
        assertThat(KeyOperations.unwrapKey(key, "RSA-OAEP-256", wrapped)).isEqualTo(data);
    }

    static Stream<Arguments> signatures() {
        return Stream.of(
                Arguments.of(TestKeys.rsa(2048), "RS256", "SHA-256"), Arguments.of(TestKeys.rsa(3072), "RS384",
                        "SHA-384"), Arguments.of(TestKeys.rsa(4096), "RS512", "SHA-512"),
                Arguments.of(TestKeys.rsa(2048), "PS256", "SHA-256"), Arguments.of(TestKeys.rsa(2048), "PS384",
                        "SHA-384"), Arguments.of(TestKeys.rsa(2048), "PS512", "SHA-512"),
                Arguments.of(TestKeys.rsa(3072), "PS512", "SHA-512"), Arguments.of(TestKeys.rsa(4096), "PS256",
                        "SHA-256"),
                Arguments.of(TestKeys.rsa(2048), "RSNULL", "SHA-1"),
                Arguments.of(TestKeys.ec("P-256"), "ES256", "SHA-256"), Arguments.of(TestKeys.ec("P-256K"), "ES256K",
                        "SHA-256"), Arguments.of(TestKeys.ec("P-384"), "ES384", "SHA-384"),
                Arguments.of(TestKeys.ec("P-521"), "ES512", "SHA-512"),
                Arguments.of(TestKeys.oct(256), "HS256", "SHA-256"), Arguments.of(TestKeys.oct(128), "HS384",
                        "SHA-384"), Arguments.of(TestKeys.oct(192), "HS512", "SHA-512"));
    }

    @ParameterizedTest
    @MethodSource("signatures")
    void signVerifyRoundTripAndTamperedInputsFail(KeyMaterial key, String alg, String hash) throws Exception {
        byte[] digest = MessageDigest.getInstance(hash).digest(MESSAGE);
        byte[] signature = KeyOperations.sign(key, alg, digest);
        assertThat(KeyOperations.verify(key, alg, digest, signature)).isTrue();
        byte[] otherDigest = digest.clone();
        otherDigest[0] ^= 1;
        assertThat(KeyOperations.verify(key, alg, otherDigest, signature)).isFalse();
        byte[] otherSignature = signature.clone();
        otherSignature[otherSignature.length / 2] ^= 1;
        assertThat(KeyOperations.verify(key, alg, digest, otherSignature)).isFalse();
        assertThat(KeyOperations.verify(key, alg, digest, Arrays.copyOf(signature, signature.length - 1)))
                .isFalse();
        if (key.type().isEc()) {
            assertThat(signature).as("R||S, not DER").hasSize(2 * ((key.keySize() + 7) / 8));
        }
    }

    // ---- interoperability with independent implementations -----------------------------------------------------

    @Test
    void rsaOaep256WrappedByTheJdkWithExplicitParametersUnwraps() throws Exception {
        KeyMaterial key = TestKeys.rsa(3072);
        byte[] dek = HEX.parseHex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
        Cipher jdk = Cipher.getInstance("RSA/ECB/OAEPPadding");
        OAEPParameterSpec sha256 = new OAEPParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256,
                PSource.PSpecified.DEFAULT);
        jdk.init(Cipher.ENCRYPT_MODE, key.publicKey(), sha256);
        assertThat(KeyOperations.unwrapKey(key, "RSA-OAEP-256", jdk.doFinal(dek))).isEqualTo(dek);

        jdk.init(Cipher.DECRYPT_MODE, key.privateKey(), sha256);
        assertThat(jdk.doFinal(KeyOperations.wrapKey(key, "RSA-OAEP-256", dek))).isEqualTo(dek);
    }

    @Test
    void rsaOaepAndRsa15InteroperateWithTheJdkNames() throws Exception {
        KeyMaterial key = TestKeys.rsa(2048);
        Cipher oaepSha1 = Cipher.getInstance("RSA/ECB/OAEPWithSHA-1AndMGF1Padding");
        oaepSha1.init(Cipher.ENCRYPT_MODE, key.publicKey());
        assertThat(KeyOperations.decrypt(key, "RSA-OAEP", oaepSha1.doFinal(MESSAGE), null, null, null))
                .isEqualTo(MESSAGE);
        Cipher pkcs1 = Cipher.getInstance("RSA/ECB/PKCS1Padding");
        pkcs1.init(Cipher.DECRYPT_MODE, key.privateKey());
        assertThat(pkcs1.doFinal(KeyOperations.encrypt(key, "RSA1_5", MESSAGE, null, null).value()))
                .isEqualTo(MESSAGE);
    }

    @ParameterizedTest
    @ValueSource(strings = {"256", "384", "512"})
    void rsaSignaturesMatchTheJdksHashingSignatures(String bits) throws Exception {
        KeyMaterial key = TestKeys.rsa(2048);
        String hash = "SHA-" + bits;
        byte[] digest = MessageDigest.getInstance(hash).digest(MESSAGE);

        Signature pkcs1 = Signature.getInstance("SHA" + bits + "withRSA");
        pkcs1.initVerify(key.publicKey());
        pkcs1.update(MESSAGE);
        assertThat(pkcs1.verify(KeyOperations.sign(key, "RS" + bits, digest))).isTrue();
        pkcs1.initSign(key.privateKey());
        pkcs1.update(MESSAGE);
        assertThat(KeyOperations.verify(key, "RS" + bits, digest, pkcs1.sign())).isTrue();

        Signature pss = Signature.getInstance("RSASSA-PSS");
        pss.setParameter(new PSSParameterSpec(hash, "MGF1", new MGF1ParameterSpec(hash), Integer.parseInt(bits) / 8,
                PSSParameterSpec.TRAILER_FIELD_BC));
        pss.initVerify(key.publicKey());
        pss.update(MESSAGE);
        assertThat(pss.verify(KeyOperations.sign(key, "PS" + bits, digest))).isTrue();
        pss.initSign(key.privateKey());
        pss.update(MESSAGE);
        assertThat(KeyOperations.verify(key, "PS" + bits, digest, pss.sign())).isTrue();
    }

    @Test
    void rsnullIsPkcs1OverTheBytesWithoutDigestInfo() throws Exception {
        KeyMaterial key = TestKeys.rsa(2048);
        byte[] raw = Arrays.copyOf(MESSAGE, 36); // e.g. the MD5 ‖ SHA-1 of TLS 1.0
        Cipher publicDecrypt = Cipher.getInstance("RSA/ECB/PKCS1Padding");
        publicDecrypt.init(Cipher.DECRYPT_MODE, key.publicKey());
        assertThat(publicDecrypt.doFinal(KeyOperations.sign(key, "RSNULL", raw))).isEqualTo(raw);
    }

    @ParameterizedTest
    @MethodSource("ecdsa")
    void ecSignaturesVerifyAfterConversionBetweenRsAndDer(String crv, String alg, String jdkAlg, String hash)
            throws Exception {
        KeyMaterial key = TestKeys.ec(crv);
        byte[] digest = MessageDigest.getInstance(hash).digest(MESSAGE);
        Signature jdk = "P-256K".equals(crv) ? Signature.getInstance(jdkAlg,
                new org.bouncycastle.jce.provider.BouncyCastleProvider()) : Signature.getInstance(jdkAlg);
        int field = (key.keySize() + 7) / 8;
        for (int i = 0; i < 10; i++) { // short R or S (leading zeros) must survive both conversions
            byte[] ours = KeyOperations.sign(key, alg, digest);
            jdk.initVerify(key.publicKey());
            jdk.update(MESSAGE);
            assertThat(jdk.verify(TestKeys.toDer(ours))).isTrue();

            jdk.initSign(key.privateKey());
            jdk.update(MESSAGE);
            assertThat(KeyOperations.verify(key, alg, digest, TestKeys.fromDer(jdk.sign(), field))).isTrue();
        }
    }

    static Stream<Arguments> ecdsa() {
        return Stream.of(Arguments.of("P-256", "ES256", "SHA256withECDSA", "SHA-256"),
                Arguments.of("P-256K", "ES256K", "SHA256withECDSA", "SHA-256"),
                Arguments.of("P-384", "ES384", "SHA384withECDSA", "SHA-384"),
                Arguments.of("P-521", "ES512", "SHA512withECDSA", "SHA-512"));
    }

    @Test
    void hmacMatchesTheJdkMac() throws Exception {
        KeyMaterial key = TestKeys.oct(256);
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(key.secretKey("HmacSHA256"));
        assertThat(KeyOperations.sign(key, "HS256", MESSAGE)).isEqualTo(mac.doFinal(MESSAGE));
    }

    /** RFC 3394 §4.6 (256-bit KEK, 256-bit key) and RFC 5649 §6 (192-bit KEK, 20-byte key). */
    @Test
    void aesKeyWrapKnownAnswers() {
        KeyMaterial kek256 = octKey("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
        byte[] wrapped = KeyOperations.wrapKey(kek256, "A256KW",
                HEX.parseHex("00112233445566778899aabbccddeeff000102030405060708090a0b0c0d0e0f"));
        assertThat(HEX.formatHex(wrapped))
                .isEqualTo("28c9f404c4b810f4cbccb35cfb87f8263f5786e2d80ed326cbc7f0e71a99f43bfb988b9b7a02dd21");
        KeyMaterial kek192 = octKey("5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8");
        byte[] padded = KeyOperations.wrapKey(kek192, "CKM_AES_KEY_WRAP_PAD",
                HEX.parseHex("c37b7e6492584340bed12207808941155068f738"));
        assertThat(HEX.formatHex(padded))
                .isEqualTo("138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a");
    }

    // ---- refusals ----------------------------------------------------------------------------------------------

    @Test
    void algorithmForAnotherKeyTypeIsABadParameterNamingWhatWorks() {
        badParameter(() -> KeyOperations.sign(TestKeys.rsa(2048), "ES256", new byte[32]))
                .hasMessageContaining("'ES256'").hasMessageContaining("RSA-HSM 2048-bit")
                .hasMessageContaining("PS256, PS384, PS512, RS256, RS384, RS512, RSNULL");
        badParameter(() -> KeyOperations.encrypt(TestKeys.ec("P-256"), "RSA-OAEP", MESSAGE, null, null))
                .hasMessageContaining("'RSA-OAEP'").hasMessageContaining("EC-HSM P-256")
                .hasMessageContaining("EC-HSM keys cannot encrypt.");
        badParameter(() -> KeyOperations.wrapKey(TestKeys.oct(256), "A256GCM", new byte[32]))
                .hasMessageContaining("'A256GCM'").hasMessageContaining("A256KW, CKM_AES_KEY_WRAP");
        badParameter(() -> KeyOperations.encrypt(TestKeys.rsa(2048), "PS256", MESSAGE, null, null))
                .hasMessageContaining("RSA1_5, RSA-OAEP, RSA-OAEP-256");
        badParameter(() -> KeyOperations.sign(TestKeys.oct(256), "RSA-OAEP", MESSAGE))
                .hasMessageContaining("HS256, HS384, HS512");
        badParameter(() -> KeyOperations.sign(TestKeys.rsa(2048), "XS999", new byte[32]))
                .hasMessageContaining("'XS999' is not supported");
        badParameter(() -> KeyOperations.encrypt(TestKeys.rsa(2048), null, MESSAGE, null, null))
                .hasMessageContaining("required");
    }

    @Test
    void keyOfTheWrongSizeOrCurveIsABadParameter() {
        badParameter(() -> KeyOperations.wrapKey(TestKeys.oct(128), "A256KW", new byte[32]))
                .hasMessageContaining("'A256KW' needs a 256-bit key").hasMessageContaining("oct-HSM key has 128 bits")
                .hasMessageContaining("A128KW");
        badParameter(() -> KeyOperations.encrypt(TestKeys.oct(256), "A128GCM", MESSAGE, null, null))
                .hasMessageContaining("needs a 128-bit key");
        badParameter(() -> KeyOperations.sign(TestKeys.ec("P-256"), "ES384", new byte[48]))
                .hasMessageContaining("curve P-384").hasMessageContaining("is on P-256")
                .hasMessageContaining("use one of: ES256.");
        badParameter(() -> KeyOperations.sign(TestKeys.ec("P-256"), "ES256K", new byte[32]))
                .hasMessageContaining("P-256K");
    }

    @Test
    void wrongDigestLengthIsABadParameter() {
        badParameter(() -> KeyOperations.sign(TestKeys.rsa(2048), "RS256", new byte[20]))
                .hasMessageContaining("RS256").hasMessageContaining("32 bytes").hasMessageContaining("has 20");
        badParameter(() -> KeyOperations.sign(TestKeys.ec("P-256"), "ES256", new byte[48]))
                .hasMessageContaining("32 bytes");
        badParameter(() -> KeyOperations.verify(TestKeys.ec("P-521"), "ES512", new byte[66], new byte[132]))
                .hasMessageContaining("64 bytes");
        badParameter(() -> KeyOperations.sign(TestKeys.rsa(2048), "RSNULL", new byte[250]))
                .hasMessageContaining("at most 245 bytes");
        badParameter(() -> KeyOperations.sign(TestKeys.rsa(2048), "PS256", null)).hasMessageContaining("digest");
    }

    @Test
    void missingOrWrongIvAndTagAreBadParameters() {
        KeyMaterial key = TestKeys.oct(256);
        badParameter(() -> KeyOperations.encrypt(key, "A256CBC", new byte[16], null, null))
                .hasMessageContaining("A256CBC needs 'iv' (16 bytes)");
        badParameter(() -> KeyOperations.decrypt(key, "A256CBCPAD", new byte[16], new byte[12], null, null))
                .hasMessageContaining("takes 'iv' of 16 bytes").hasMessageContaining("has 12");
        badParameter(() -> KeyOperations.encrypt(key, "A256GCM", MESSAGE, new byte[16], null))
                .hasMessageContaining("12 bytes");
        KeyOperations.Result sealed = KeyOperations.encrypt(key, "A256GCM", MESSAGE, null, null);
        badParameter(() -> KeyOperations.decrypt(key, "A256GCM", sealed.value(), null, null, sealed.tag()))
                .hasMessageContaining("A256GCM needs 'iv' (12 bytes, as encrypt returned it)");
        badParameter(() -> KeyOperations.decrypt(key, "A256GCM", sealed.value(), sealed.iv(), null, null))
                .hasMessageContaining("needs 'tag'");
        badParameter(() -> KeyOperations.decrypt(key, "A256GCM", sealed.value(), sealed.iv(), null,
                Arrays.copyOf(sealed.tag(), 12))).hasMessageContaining("takes 'tag' of 16 bytes");
    }

    @Test
    void lengthsTheAlgorithmCannotTakeAreBadParameters() {
        badParameter(() -> KeyOperations.encrypt(TestKeys.oct(128), "A128CBC", new byte[17], new byte[16], null))
                .hasMessageContaining("multiple of 16").hasMessageContaining("A128CBCPAD");
        badParameter(() -> KeyOperations.wrapKey(TestKeys.oct(128), "A128KW", new byte[15]))
                .hasMessageContaining("multiples of 8").hasMessageContaining("CKM_AES_KEY_WRAP_PAD");
        badParameter(() -> KeyOperations.wrapKey(TestKeys.oct(128), "CKM_AES_KEY_WRAP_PAD", new byte[0]))
                .hasMessageContaining("empty");
        badParameter(() -> KeyOperations.encrypt(TestKeys.rsa(2048), "RSA-OAEP-256", new byte[191], null, null))
                .hasMessageContaining("at most 190 bytes");
        badParameter(() -> KeyOperations.encrypt(TestKeys.rsa(2048), "RSA1_5", new byte[246], null, null))
                .hasMessageContaining("at most 245 bytes");
        badParameter(() -> KeyOperations.decrypt(TestKeys.rsa(2048), "RSA-OAEP", new byte[255], null, null, null))
                .hasMessageContaining("must be 256 bytes");
    }

    // ---- values that do not decrypt: 400, never garbage ---------------------------------------------------------

    @Test
    void tamperedGcmValueTagOrAadIsRefusedNotDecryptedToGarbage() {
        KeyMaterial key = TestKeys.oct(256);
        byte[] aad = {7};
        KeyOperations.Result sealed = KeyOperations.encrypt(key, "A256GCM", MESSAGE, null, aad);
        byte[] value = sealed.value().clone();
        value[0] ^= 1;
        undecryptable(() -> KeyOperations.decrypt(key, "A256GCM", value, sealed.iv(), aad, sealed.tag()));
        byte[] tag = sealed.tag().clone();
        tag[15] ^= 1;
        undecryptable(() -> KeyOperations.decrypt(key, "A256GCM", sealed.value(), sealed.iv(), aad, tag));
        undecryptable(() -> KeyOperations.decrypt(key, "A256GCM", sealed.value(), sealed.iv(), null, sealed.tag()));
        KeyMaterial otherVersion = KeyMaterial.generate(KeyType.OCT_HSM, 256, null, null);
        undecryptable(() -> KeyOperations.decrypt(otherVersion, "A256GCM", sealed.value(), sealed.iv(), aad,
                sealed.tag()));
    }

    @Test
    void valuesForAnotherKeyOrAlteredAreRefusedForEveryPaddedAlgorithm() {
        KeyMaterial rsa = TestKeys.rsa(2048);
        KeyMaterial otherRsa = TestKeys.rsa(3072);
        for (String alg : List.of("RSA-OAEP", "RSA-OAEP-256")) {
            byte[] wrapped = KeyOperations.wrapKey(rsa, alg, new byte[32]);
            wrapped[100] ^= 1;
            undecryptable(() -> KeyOperations.unwrapKey(rsa, alg, wrapped));
        }
        byte[] forOther = KeyOperations.wrapKey(otherRsa, "RSA-OAEP-256", new byte[32]);
        undecryptable(() -> KeyOperations.unwrapKey(otherRsa, "RSA-OAEP", forOther)); // wrong OAEP hash
        KeyMaterial aes = TestKeys.oct(256);
        for (String alg : List.of("A256KW", "CKM_AES_KEY_WRAP_PAD")) {
            byte[] wrapped = KeyOperations.wrapKey(aes, alg, new byte[32]);
            wrapped[3] ^= 1;
            undecryptable(() -> KeyOperations.unwrapKey(aes, alg, wrapped));
        }
        undecryptable(() -> KeyOperations.decrypt(aes, "A256CBCPAD", new byte[20], new byte[16], null, null));
    }

    @Test
    void defaultKeyOpsFollowTheKeyFamily() {
        assertThat(KeyOperations.defaultKeyOps(KeyType.RSA_HSM))
                .containsExactly("encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey");
        assertThat(KeyOperations.defaultKeyOps(KeyType.EC)).containsExactly("sign", "verify");
        assertThat(KeyOperations.defaultKeyOps(KeyType.OCT_HSM))
                .containsExactly("encrypt", "decrypt", "wrapKey", "unwrapKey");
    }

    private static void undecryptable(org.assertj.core.api.ThrowableAssert.ThrowingCallable call) {
        badParameter(call).hasMessageContaining("could not be decrypted with this key version");
    }

    private static KeyMaterial octKey(String hex) {
        return KeyMaterial.fromJwk(Json.parse("{\"kty\":\"oct-HSM\",\"k\":\"" + Json.b64url(HEX.parseHex(hex))
                + "\"}"));
    }
}
