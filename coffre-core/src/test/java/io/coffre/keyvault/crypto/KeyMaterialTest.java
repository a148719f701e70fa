package io.coffre.keyvault.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.arm.ArmException;
import io.coffre.json.Json;
import java.security.KeyFactory;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.assertj.core.api.AbstractThrowableAssert;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class KeyMaterialTest {
    static Stream<KeyMaterial> everyKind() {
        return Stream.of(TestKeys.rsa(2048), TestKeys.rsa(3072), TestKeys.rsa(4096), TestKeys.ec("P-256"),
                TestKeys.ec("P-384"), TestKeys.ec("P-521"), TestKeys.ec("P-256K"), TestKeys.oct(128),
                TestKeys.oct(192), TestKeys.oct(256));
    }

    @Test
    void rfc7638KnownAnswerThumbprint() {
        KeyMaterial key = KeyMaterial.fromJwk(TestKeys.json(TestKeys.RFC7517_RSA));
        assertThat(key.type()).isEqualTo(KeyType.RSA);
        assertThat(key.keySize()).isEqualTo(2048);
        assertThat(key.thumbprint()).isEqualTo("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
        assertThat(key.withType(KeyType.RSA_HSM).thumbprint()).as("kty without -HSM")
                .isEqualTo("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    }

    @Test
    void importsTheRfc7517EcKeyWithItsPublicPoint() {
        JsonNode jwk = TestKeys.json(TestKeys.RFC7517_EC);
        KeyMaterial key = KeyMaterial.fromJwk(jwk);
        assertThat(key.curve()).isEqualTo("P-256");
        ObjectNode pub = key.publicJwk(null, null);
        assertThat(pub.get("x").asText()).isEqualTo(jwk.get("x").asText());
        assertThat(pub.get("y").asText()).isEqualTo(jwk.get("y").asText());
    }

    @ParameterizedTest
    @MethodSource("everyKind")
    void importOfTheGeneratedPrivateJwkGivesTheSameKey(KeyMaterial key) {
        KeyMaterial imported = KeyMaterial.fromJwk(key.privateJwk());
        assertThat(imported.type()).isEqualTo(key.type());
        assertThat(imported.keySize()).isEqualTo(key.keySize());
        assertThat(imported.thumbprint()).isEqualTo(key.thumbprint());
        assertThat(imported.exportForRelease()).isEqualTo(key.exportForRelease());
    }

    @ParameterizedTest
    @MethodSource("everyKind")
    void encodeDecodeKeepsTypeAndMaterial(KeyMaterial key) {
        KeyMaterial decoded = KeyMaterial.decode(key.encode());
        assertThat(decoded.type()).isEqualTo(key.type());
        assertThat(decoded.curve()).isEqualTo(key.curve());
        assertThat(decoded.thumbprint()).isEqualTo(key.thumbprint());
        assertThat(decoded.exportForRelease()).isEqualTo(key.exportForRelease());
    }

    @Test
    void decodeRefusesCorruptOrForeignBytesAsAnInternalFault() {
        assertThatThrownBy(() -> KeyMaterial.decode("{\"v\":9,\"kty\":\"oct\"}".getBytes()))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("version 9");
        assertThatThrownBy(() -> KeyMaterial.decode("{\"v\":1,\"kty\":\"oct\",\"k\":\"AAAA\"}".getBytes()))
                .isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> KeyMaterial.decode(new byte[] {1, 2, 3})).isInstanceOf(IllegalStateException.class);
    }

    @ParameterizedTest
    @ValueSource(ints = {2048, 3072, 4096})
    void rsaPublicJwkHasMinimalUnsignedNAndE(int bits) {
        KeyMaterial key = TestKeys.rsa(bits);
        ObjectNode jwk = key.publicJwk("https://kv1.vault.coffre.localhost/keys/k/v1", List.of("sign", "verify"));
        assertThat(fieldNames(jwk)).containsExactly("kid", "kty", "key_ops", "n", "e");
        assertThat(jwk.get("kty").asText()).isEqualTo("RSA-HSM");
        assertThat(jwk.get("key_ops").toString()).isEqualTo("[\"sign\",\"verify\"]");
        byte[] n = Json.unb64url(jwk.get("n").asText(), "n");
        assertThat(n).hasSize(bits / 8);
        assertThat(n[0]).isNotZero();
        assertThat(jwk.get("e").asText()).isEqualTo("AQAB");
        assertThat(jwk.get("n").asText()).doesNotContain("=", "+", "/");
        assertThat(((RSAPublicKey) key.publicKey()).getModulus().bitLength()).isEqualTo(bits);
    }

    @ParameterizedTest
    @ValueSource(strings = {"P-256", "P-384", "P-521", "P-256K"})
    void ecPublicJwkHasFixedLengthCoordinates(String crv) {
        KeyMaterial key = TestKeys.ec(crv);
        ObjectNode jwk = key.publicJwk("kid1", List.of("sign", "verify"));
        assertThat(fieldNames(jwk)).containsExactly("kid", "kty", "key_ops", "crv", "x", "y");
        int length = (key.keySize() + 7) / 8;
        assertThat(Json.unb64url(jwk.get("x").asText(), "x")).hasSize(length);
        assertThat(Json.unb64url(jwk.get("y").asText(), "y")).hasSize(length);
        assertThat(jwk.get("crv").asText()).isEqualTo(crv);
    }

    @Test
    void symmetricPublicJwkNeverShowsTheKey() {
        ObjectNode jwk = TestKeys.oct(256).publicJwk("kid1", KeyOperations.defaultKeyOps(KeyType.OCT_HSM));
        assertThat(fieldNames(jwk)).containsExactly("kid", "kty", "key_ops");
        assertThat(TestKeys.oct(256).publicKey()).isNull();
    }

    @Test
    void exportForReleaseIsPkcs8ForKeyPairsAndRawBytesForAes() throws Exception {
        KeyMaterial rsa = TestKeys.rsa(2048);
        RSAPrivateCrtKey parsed = (RSAPrivateCrtKey) KeyFactory.getInstance("RSA")
                .generatePrivate(new PKCS8EncodedKeySpec(rsa.exportForRelease()));
        assertThat(parsed.getModulus()).isEqualTo(((RSAPublicKey) rsa.publicKey()).getModulus());
        KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(TestKeys.ec("P-384")
                .exportForRelease()));
        KeyMaterial oct = TestKeys.oct(192);
        assertThat(oct.exportForRelease()).hasSize(24)
                .isEqualTo(Json.unb64url(oct.privateJwk().get("k").asText(), "k"));
    }

    @Test
    void generatesWithDefaultsAndTheAllowedOptions() {
        KeyMaterial rsa = KeyMaterial.generate(KeyType.RSA, null, null, 3);
        assertThat(rsa.keySize()).isEqualTo(2048);
        assertThat(rsa.publicJwk(null, null).get("e").asText()).isEqualTo("Aw");
        assertThat(KeyMaterial.generate(KeyType.EC, null, null, null).curve()).isEqualTo("P-256");
        assertThat(KeyMaterial.generate(KeyType.EC_HSM, 384, null, null).curve()).isEqualTo("P-384");
        assertThat(KeyMaterial.generate(KeyType.EC_HSM, 256, "P-256K", null).curve()).isEqualTo("P-256K");
        assertThat(KeyMaterial.generate(KeyType.OCT_HSM, null, null, null).keySize()).isEqualTo(256);
    }

    @Test
    void invalidGenerationParametersSayWhatIsAllowed() {
        badParameter(() -> KeyMaterial.generate(KeyType.RSA_HSM, 1024, null, null)).hasMessageContaining("1024")
                .hasMessageContaining("2048, 3072, 4096");
        badParameter(() -> KeyMaterial.generate(KeyType.RSA, 2048, null, 5)).hasMessageContaining("65537");
        badParameter(() -> KeyMaterial.generate(KeyType.RSA, 2048, "P-256", null)).hasMessageContaining("crv");
        badParameter(() -> KeyMaterial.generate(KeyType.EC, null, "P-192", null))
                .hasMessageContaining("P-256, P-384, P-521, P-256K");
        badParameter(() -> KeyMaterial.generate(KeyType.EC, 384, "P-256", null)).hasMessageContaining("P-256");
        badParameter(() -> KeyMaterial.generate(KeyType.EC, 255, null, null)).hasMessageContaining("521");
        badParameter(() -> KeyMaterial.generate(KeyType.EC, null, null, 65537)).hasMessageContaining("RSA");
        badParameter(() -> KeyMaterial.generate(KeyType.OCT_HSM, 512, null, null))
                .hasMessageContaining("128, 192, 256");
        badParameter(() -> KeyMaterial.generate(KeyType.OCT, 256, "P-256", null)).hasMessageContaining("crv");
    }

    @Test
    void keyTypeParsingListsTheValidValues() {
        assertThat(KeyType.fromWire("RSA-HSM")).isEqualTo(KeyType.RSA_HSM);
        assertThat(KeyType.fromWire("oct-hsm")).isEqualTo(KeyType.OCT_HSM);
        badParameter(() -> KeyType.fromWire("DSA")).hasMessageContaining("DSA")
                .hasMessageContaining("RSA, RSA-HSM, EC, EC-HSM, oct, oct-HSM");
        badParameter(() -> KeyType.fromWire(null)).hasMessageContaining("missing");
        assertThat(KeyType.OCT_HSM.isSymmetric() && KeyType.OCT_HSM.isHsm()).isTrue();
        assertThat(KeyType.EC.isEc() && !KeyType.EC.isHsm()).isTrue();
    }

    @Test
    void rsaImportWithAnotherKeysPrivateHalfIsRefused() {
        ObjectNode mixed = TestKeys.rsa(2048).privateJwk();
        ObjectNode other = KeyMaterial.fromJwk(TestKeys.json(TestKeys.RFC7517_RSA)).privateJwk();
        mixed.put("n", other.get("n").asText());
        badParameter(() -> KeyMaterial.fromJwk(mixed)).hasMessageContaining("inconsistent");
        ObjectNode wrongD = TestKeys.rsa(2048).privateJwk();
        wrongD.put("d", other.get("d").asText());
        badParameter(() -> KeyMaterial.fromJwk(wrongD)).hasMessageContaining("inconsistent");
        ObjectNode wrongE = TestKeys.rsa(2048).privateJwk();
        wrongE.put("e", "Aw");
        badParameter(() -> KeyMaterial.fromJwk(wrongE)).hasMessageContaining("inconsistent");
    }

    @Test
    void ecImportWithAnotherKeysPublicPointIsRefused() {
        ObjectNode mixed = TestKeys.ec("P-256").privateJwk();
        JsonNode other = TestKeys.json(TestKeys.RFC7517_EC);
        mixed.put("x", other.get("x").asText());
        mixed.put("y", other.get("y").asText());
        badParameter(() -> KeyMaterial.fromJwk(mixed)).hasMessageContaining("not the one of the private key");
        ObjectNode offCurve = TestKeys.ec("P-256").privateJwk();
        offCurve.put("y", other.get("y").asText());
        badParameter(() -> KeyMaterial.fromJwk(offCurve)).hasMessageContaining("not a point on P-256");
        ObjectNode secp256k1 = TestKeys.ec("P-256K").privateJwk();
        byte[] d = Json.unb64url(secp256k1.get("d").asText(), "d");
        d[31] ^= 0x01;
        secp256k1.put("d", Json.b64url(d));
        badParameter(() -> KeyMaterial.fromJwk(secp256k1)).hasMessageContaining("not the one of the private key");
    }

    @Test
    void malformedImportsSayWhatIsMissingOrWrong() {
        ObjectNode noDp = TestKeys.rsa(2048).privateJwk();
        noDp.remove("dp");
        badParameter(() -> KeyMaterial.fromJwk(noDp)).hasMessageContaining("'dp'");
        ObjectNode publicOnly = TestKeys.rsa(2048).publicJwk(null, null);
        badParameter(() -> KeyMaterial.fromJwk(publicOnly)).hasMessageContaining("'d'");
        badParameter(() -> KeyMaterial.fromJwk(Json.parse("{\"kty\":\"oct-HSM\",\"k\":\"AAECAwQFBgcICQ\"}")))
                .hasMessageContaining("80 bits");
        badParameter(() -> KeyMaterial.fromJwk(Json.parse("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AA\"}")))
                .hasMessageContaining("'y'");
        ObjectNode longX = TestKeys.ec("P-256").privateJwk();
        longX.put("x", Json.b64url(new byte[33]));
        badParameter(() -> KeyMaterial.fromJwk(longX)).hasMessageContaining("33-byte 'x'");
        badParameter(() -> KeyMaterial.fromJwk(Json.parse("{\"kty\":\"RSA\",\"key_hsm\":\"abc\"}")))
                .hasMessageContaining("key_hsm");
        badParameter(() -> KeyMaterial.fromJwk(Json.parse("[1]"))).hasMessageContaining("object");
        badParameter(() -> KeyMaterial.fromJwk(Json.parse("{\"kty\":\"oct\",\"k\":\"!!\"}")))
                .hasMessageContaining("key.k");
    }

    @Test
    void withTypeStaysInTheFamily() {
        KeyMaterial hsm = KeyMaterial.fromJwk(TestKeys.json(TestKeys.RFC7517_EC)).withType(KeyType.EC_HSM);
        assertThat(hsm.type()).isEqualTo(KeyType.EC_HSM);
        assertThatThrownBy(() -> hsm.withType(KeyType.RSA)).isInstanceOf(IllegalArgumentException.class);
    }

    static AbstractThrowableAssert<?, ? extends Throwable> badParameter(ThrowingCallable call) {
        return assertThatThrownBy(call).isInstanceOfSatisfying(ArmException.class, e -> {
            assertThat(e.status()).isEqualTo(400);
            assertThat(e.code()).isEqualTo("BadParameter");
        });
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
