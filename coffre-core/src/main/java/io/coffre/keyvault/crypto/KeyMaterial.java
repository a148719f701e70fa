package io.coffre.keyvault.crypto;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.arm.ArmException;
import io.coffre.json.Json;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECPoint;
import java.security.spec.ECPrivateKeySpec;
import java.security.spec.ECPublicKeySpec;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.RSAKeyGenParameterSpec;
import java.security.spec.RSAPrivateCrtKeySpec;
import java.security.spec.RSAPublicKeySpec;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.stream.Collectors;
import javax.crypto.spec.SecretKeySpec;

/**
 * One key version's material: an RSA or EC key pair, or an AES key. The private half lives only in this object; it
 * leaves it only through {@link #encode()} (for the caller to seal) and {@link #exportForRelease()} (for secure key
 * release). Immutable and safe to share between threads.
 */
public final class KeyMaterial {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final int ENCODING_VERSION = 1;
    private static final List<Integer> RSA_SIZES = List.of(2048, 3072, 4096);
    private static final List<Integer> AES_SIZES = List.of(128, 192, 256);
    private static final int DEFAULT_RSA_SIZE = 2048;
    private static final int DEFAULT_AES_SIZE = 256;
    private static final int DEFAULT_EXPONENT = 65537;
    private static final List<String> RSA_PRIVATE_FIELDS = List.of("d", "p", "q", "dp", "dq", "qi");

    private final KeyType type;
    private final KeyPair pair;
    private final EcCurve curve;
    private final byte[] secret;

    private KeyMaterial(KeyType type, KeyPair pair, EcCurve curve, byte[] secret) {
        this.type = type;
        this.pair = pair;
        this.curve = curve;
        this.secret = secret;
    }

    /**
     * A new random key. RSA: {@code keySize} 2048 (default), 3072 or 4096, {@code publicExponent} 65537 (default) or
     * 3. EC: {@code crv} P-256 (default), P-384, P-521 or P-256K ({@code keySize}, if given, must agree). oct: 128,
     * 192 or 256 (default) bits. Parameters that do not apply to the key type are refused.
     */
    public static KeyMaterial generate(KeyType kty, Integer keySize, String crv, Integer publicExponent) {
        Objects.requireNonNull(kty, "kty");
        if (kty.isRsa()) {
            return generateRsa(kty, keySize, crv, publicExponent);
        }
        if (publicExponent != null) {
            throw CryptoErrors.badParameter("The public exponent applies only to RSA keys; " + kty.wire()
                    + " keys take " + (kty.isEc() ? "crv (or key_size)." : "key_size."));
        }
        return kty.isEc() ? generateEc(kty, keySize, crv) : generateAes(kty, keySize, crv);
    }

    private static KeyMaterial generateRsa(KeyType kty, Integer keySize, String crv, Integer publicExponent) {
        if (crv != null) {
            throw CryptoErrors.badParameter("The curve (crv) applies only to EC keys; " + kty.wire()
                    + " keys take key_size (2048, 3072, 4096) and public_exponent (65537 or 3).");
        }
        int bits = keySize == null ? DEFAULT_RSA_SIZE : keySize;
        if (!RSA_SIZES.contains(bits)) {
            throw CryptoErrors.badParameter("The key size " + bits + " is not valid for " + kty.wire()
                    + " keys; valid sizes: 2048, 3072, 4096.");
        }
        int exponent = publicExponent == null ? DEFAULT_EXPONENT : publicExponent;
        if (exponent != 65537 && exponent != 3) {
            throw CryptoErrors.badParameter("The public exponent " + exponent + " is not valid for " + kty.wire()
                    + " keys; use 65537 (the default) or 3.");
        }
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
            generator.initialize(new RSAKeyGenParameterSpec(bits, BigInteger.valueOf(exponent)), RANDOM);
            return new KeyMaterial(kty, generator.generateKeyPair(), null, null);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("RSA key generation failed", e);
        }
    }

    private static KeyMaterial generateEc(KeyType kty, Integer keySize, String crv) {
        EcCurve ecCurve = curveFor(kty, keySize, crv);
        try {
            KeyPair generated = ecCurve.keyPairGenerator().generateKeyPair();
            // Rebuilt from d so a generated key exports the same PKCS#8 bytes as its re-import (BouncyCastle would
            // otherwise embed the public point).
            PrivateKey privateKey = ecCurve.keyFactory().generatePrivate(
                    new ECPrivateKeySpec(((ECPrivateKey) generated.getPrivate()).getS(), ecCurve.parameters()));
            return new KeyMaterial(kty, new KeyPair(generated.getPublic(), privateKey), ecCurve, null);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("EC key generation on " + ecCurve.wire() + " failed", e);
        }
    }

    private static KeyMaterial generateAes(KeyType kty, Integer keySize, String crv) {
        if (crv != null) {
            throw CryptoErrors.badParameter("The curve (crv) applies only to EC keys; " + kty.wire()
                    + " keys take key_size (128, 192, 256).");
        }
        int bits = keySize == null ? DEFAULT_AES_SIZE : keySize;
        if (!AES_SIZES.contains(bits)) {
            throw CryptoErrors.badParameter("The key size " + bits + " is not valid for " + kty.wire()
                    + " keys; valid sizes: 128, 192, 256.");
        }
        byte[] key = new byte[bits / 8];
        RANDOM.nextBytes(key);
        return new KeyMaterial(kty, null, null, key);
    }

    private static EcCurve curveFor(KeyType kty, Integer keySize, String crv) {
        if (crv != null) {
            EcCurve named = EcCurve.fromWire(crv);
            if (keySize != null && keySize != named.bits()) {
                throw CryptoErrors.badParameter("The key size " + keySize + " does not match curve " + named.wire()
                        + " (" + named.bits() + " bits); omit key_size or change crv.");
            }
            return named;
        }
        if (keySize == null) {
            return EcCurve.P_256;
        }
        for (EcCurve candidate : List.of(EcCurve.P_256, EcCurve.P_384, EcCurve.P_521)) {
            if (candidate.bits() == keySize) {
                return candidate;
            }
        }
        throw CryptoErrors.badParameter("The key size " + keySize + " is not valid for " + kty.wire()
                + " keys; give crv (" + EcCurve.names() + ") or key_size 256, 384 or 521.");
    }

    /**
     * A key from a JSON Web Key with its private members (import): RSA {@code n,e,d,p,q,dp,dq,qi}, EC
     * {@code crv,x,y,d}, oct {@code k}. The key type is the JWK's {@code kty}. Inconsistent keys (public half not
     * matching the private half, a point off the curve, wrong lengths) are refused with 400 BadParameter.
     */
    public static KeyMaterial fromJwk(JsonNode jwk) {
        return fromJwk(jwk, true);
    }

    /** {@code verify=false} skips the costlier consistency checks, for material Coffre itself sealed. */
    static KeyMaterial fromJwk(JsonNode jwk, boolean verify) {
        if (jwk == null || !jwk.isObject()) {
            throw CryptoErrors.badParameter("The key must be a JSON Web Key object with kty and the private key "
                    + "members.");
        }
        if (Jwk.text(jwk, "key_hsm") != null) {
            throw CryptoErrors.badParameter("Importing a BYOK blob (key_hsm) is not supported; send the private "
                    + "members of the JSON Web Key instead.");
        }
        KeyType kty = KeyType.fromWire(Jwk.text(jwk, "kty"));
        try {
            if (kty.isRsa()) {
                return rsaFromJwk(kty, jwk, verify);
            }
            if (kty.isEc()) {
                return ecFromJwk(kty, jwk, verify);
            }
        } catch (InvalidKeySpecException e) {
            throw CryptoErrors.badParameter("The " + kty.wire() + " key to import is not valid: " + e.getMessage());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("key import failed", e);
        }
        byte[] k = Jwk.bytes(jwk, "k", "symmetric key to import");
        if (!AES_SIZES.contains(k.length * 8)) {
            throw CryptoErrors.badParameter("The symmetric key to import has " + k.length * 8 + " bits; valid "
                    + "sizes: 128, 192, 256.");
        }
        return new KeyMaterial(kty, null, null, k);
    }

    private static KeyMaterial rsaFromJwk(KeyType kty, JsonNode jwk, boolean verify)
            throws GeneralSecurityException {
        String what = "RSA key to import (Key Vault imports RSA keys with n, e, d, p, q, dp, dq and qi)";
        BigInteger n = Jwk.integer(jwk, "n", what);
        BigInteger e = Jwk.integer(jwk, "e", what);
        BigInteger[] priv = new BigInteger[RSA_PRIVATE_FIELDS.size()];
        for (int i = 0; i < priv.length; i++) {
            priv[i] = Jwk.integer(jwk, RSA_PRIVATE_FIELDS.get(i), what);
        }
        BigInteger d = priv[0], p = priv[1], q = priv[2], dp = priv[3], dq = priv[4], qi = priv[5];
        if (!RSA_SIZES.contains(n.bitLength())) {
            throw CryptoErrors.badParameter("The RSA key to import has a " + n.bitLength() + "-bit modulus; valid "
                    + "sizes: 2048, 3072, 4096.");
        }
        if (verify) {
            String problem = rsaInconsistency(n, e, d, p, q, dp, dq, qi);
            if (problem != null) {
                throw CryptoErrors.badParameter("The RSA key to import is inconsistent: " + problem + ".");
            }
        }
        KeyFactory factory = KeyFactory.getInstance("RSA");
        PublicKey publicKey = factory.generatePublic(new RSAPublicKeySpec(n, e));
        PrivateKey privateKey = factory.generatePrivate(new RSAPrivateCrtKeySpec(n, e, d, p, q, dp, dq, qi));
        return new KeyMaterial(kty, new KeyPair(publicKey, privateKey), null, null);
    }

    /** What is wrong with these RSA parameters, or null when they form one valid key. */
    private static String rsaInconsistency(BigInteger n, BigInteger e, BigInteger d, BigInteger p, BigInteger q,
            BigInteger dp, BigInteger dq, BigInteger qi) {
        BigInteger one = BigInteger.ONE;
        if (!e.testBit(0) || e.compareTo(one) <= 0) {
            return "e must be an odd number greater than 1";
        }
        if (!p.multiply(q).equals(n)) {
            return "n is not p * q";
        }
        if (!p.isProbablePrime(64) || !q.isProbablePrime(64)) {
            return "p or q is not prime";
        }
        BigInteger pMinus1 = p.subtract(one);
        BigInteger qMinus1 = q.subtract(one);
        if (!d.mod(pMinus1).equals(dp) || !d.mod(qMinus1).equals(dq)) {
            return "dp or dq does not match d";
        }
        if (!q.multiply(qi).mod(p).equals(one)) {
            return "qi is not the inverse of q modulo p";
        }
        BigInteger lcm = pMinus1.divide(pMinus1.gcd(qMinus1)).multiply(qMinus1);
        if (!e.multiply(d).mod(lcm).equals(one)) {
            return "d is not the private exponent that matches e";
        }
        return null;
    }

    private static KeyMaterial ecFromJwk(KeyType kty, JsonNode jwk, boolean verify)
            throws GeneralSecurityException {
        EcCurve ecCurve = EcCurve.fromWire(Jwk.text(jwk, "crv"));
        String what = "EC key to import (Key Vault imports EC keys with crv, x, y and d)";
        BigInteger[] values = new BigInteger[3];
        List<String> fields = List.of("x", "y", "d");
        for (int i = 0; i < values.length; i++) {
            byte[] bytes = Jwk.bytes(jwk, fields.get(i), what);
            if (bytes.length > ecCurve.fieldBytes()) {
                throw CryptoErrors.badParameter("The EC key to import has a " + bytes.length + "-byte '"
                        + fields.get(i) + "'; on " + ecCurve.wire() + " it has " + ecCurve.fieldBytes() + " bytes.");
            }
            values[i] = new BigInteger(1, bytes);
        }
        ECPoint point = new ECPoint(values[0], values[1]);
        BigInteger d = values[2];
        if (!ecCurve.contains(point)) {
            throw CryptoErrors.badParameter("The EC key to import is inconsistent: (x, y) is not a point on "
                    + ecCurve.wire() + ".");
        }
        if (d.signum() <= 0 || d.compareTo(ecCurve.parameters().getOrder()) >= 0) {
            throw CryptoErrors.badParameter("The EC key to import is inconsistent: d is outside 1 .. n-1 for "
                    + ecCurve.wire() + ".");
        }
        KeyFactory factory = ecCurve.keyFactory();
        KeyPair keyPair = new KeyPair(factory.generatePublic(new ECPublicKeySpec(point, ecCurve.parameters())),
                factory.generatePrivate(new ECPrivateKeySpec(d, ecCurve.parameters())));
        if (verify && !signsForItsPublicKey(ecCurve, keyPair)) {
            throw CryptoErrors.badParameter("The EC key to import is inconsistent: the public point (x, y) is not "
                    + "the one of the private key d.");
        }
        return new KeyMaterial(kty, keyPair, ecCurve, null);
    }

    /** The JCA offers no scalar multiplication, so d·G = (x, y) is checked by signing a probe and verifying it. */
    private static boolean signsForItsPublicKey(EcCurve ecCurve, KeyPair keyPair) throws GeneralSecurityException {
        byte[] probe = new byte[32];
        RANDOM.nextBytes(probe);
        Signature signer = ecCurve.rawSignature();
        signer.initSign(keyPair.getPrivate());
        signer.update(probe);
        byte[] signature = signer.sign();
        Signature verifier = ecCurve.rawSignature();
        verifier.initVerify(keyPair.getPublic());
        verifier.update(probe);
        return verifier.verify(signature);
    }

    /**
     * The same material under another key type of its family, e.g. an {@code RSA} JWK imported with
     * {@code "Hsm": true} becomes {@code RSA-HSM}.
     */
    public KeyMaterial withType(KeyType kty) {
        if (!kty.sameFamilyAs(type)) {
            throw new IllegalArgumentException("cannot turn a " + type.wire() + " key into " + kty.wire());
        }
        return kty == type ? this : new KeyMaterial(kty, pair, curve, secret);
    }

    /** Self-describing serialization of the private material (a versioned private JWK); the caller seals it. */
    public byte[] encode() {
        ObjectNode node = Json.object();
        node.put("v", ENCODING_VERSION);
        node.setAll(privateJwk());
        try {
            return Json.MAPPER.writeValueAsBytes(node);
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode key material", e);
        }
    }

    /** The inverse of {@link #encode()}. */
    public static KeyMaterial decode(byte[] encoded) {
        JsonNode node;
        try {
            node = Json.MAPPER.readTree(encoded);
        } catch (IOException e) {
            throw new IllegalStateException("stored key material is not readable JSON", e);
        }
        if (node == null || node.path("v").asInt() != ENCODING_VERSION) {
            throw new IllegalStateException("stored key material has unknown encoding version "
                    + (node == null ? "(empty)" : node.path("v").asText()));
        }
        try {
            return fromJwk(node, false);
        } catch (ArmException e) {
            throw new IllegalStateException("stored key material is not valid: " + e.getMessage(), e);
        }
    }

    public KeyType type() {
        return type;
    }

    /** Bits: RSA modulus length, EC curve size (256, 384, 521), AES key length. */
    public int keySize() {
        if (type.isRsa()) {
            return rsaPublic().getModulus().bitLength();
        }
        return type.isEc() ? curve.bits() : secret.length * 8;
    }

    /** The curve's wire name ({@code P-256} ...), null unless EC. */
    public String curve() {
        return curve == null ? null : curve.wire();
    }

    /**
     * The public JSON Web Key as Key Vault returns it: {@code kid, kty, key_ops} then {@code n, e} (RSA) or
     * {@code crv, x, y} (EC); a symmetric key shows no material at all. {@code kid} and {@code keyOps} are left out
     * when null.
     */
    public ObjectNode publicJwk(String kid, List<String> keyOps) {
        ObjectNode jwk = Json.object();
        if (kid != null) {
            jwk.put("kid", kid);
        }
        jwk.put("kty", type.wire());
        if (keyOps != null) {
            ArrayNode ops = jwk.putArray("key_ops");
            keyOps.forEach(ops::add);
        }
        publicMembers().forEach(jwk::put);
        return jwk;
    }

    /** RFC 7638 JWK SHA-256 thumbprint (base64url): the required members, sorted, under the family's kty. */
    public String thumbprint() {
        Map<String, String> members = new TreeMap<>(publicMembers());
        if (type.isSymmetric()) {
            members.put("k", Json.b64url(secret));
        }
        members.put("kty", type.family());
        String canonical = members.entrySet().stream()
                .map(member -> "\"" + member.getKey() + "\":\"" + member.getValue() + "\"")
                .collect(Collectors.joining(",", "{", "}"));
        try {
            return Json.b64url(MessageDigest.getInstance("SHA-256")
                    .digest(canonical.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 is unavailable", e);
        }
    }

    /** What secure key release wraps: PKCS#8 DER of the private key (RSA, EC), the raw key bytes (oct). */
    public byte[] exportForRelease() {
        return type.isSymmetric() ? secret.clone() : pair.getPrivate().getEncoded();
    }

    /** Null for symmetric keys. */
    public PublicKey publicKey() {
        return pair == null ? null : pair.getPublic();
    }

    @Override
    public String toString() {
        return "KeyMaterial[" + type.wire() + " " + (curve != null ? curve.wire() : keySize() + "-bit") + "]";
    }

    PrivateKey privateKey() {
        return pair.getPrivate();
    }

    RSAPublicKey rsaPublic() {
        return (RSAPublicKey) pair.getPublic();
    }

    EcCurve ecCurve() {
        return curve;
    }

    SecretKeySpec secretKey(String algorithm) {
        return new SecretKeySpec(secret, algorithm);
    }

    /** The public members in wire order (base64url values). */
    private Map<String, String> publicMembers() {
        Map<String, String> members = new LinkedHashMap<>();
        if (type.isRsa()) {
            members.put("n", Jwk.unsigned(rsaPublic().getModulus()));
            members.put("e", Jwk.unsigned(rsaPublic().getPublicExponent()));
        } else if (type.isEc()) {
            ECPoint w = ((ECPublicKey) pair.getPublic()).getW();
            members.put("crv", curve.wire());
            members.put("x", Jwk.fixed(w.getAffineX(), curve.fieldBytes()));
            members.put("y", Jwk.fixed(w.getAffineY(), curve.fieldBytes()));
        }
        return members;
    }

    /** The full JWK with private members, the form {@link #fromJwk} imports. */
    ObjectNode privateJwk() {
        ObjectNode jwk = publicJwk(null, null);
        if (type.isRsa()) {
            RSAPrivateCrtKey rsa = (RSAPrivateCrtKey) pair.getPrivate();
            List<BigInteger> values = List.of(rsa.getPrivateExponent(), rsa.getPrimeP(), rsa.getPrimeQ(),
                    rsa.getPrimeExponentP(), rsa.getPrimeExponentQ(), rsa.getCrtCoefficient());
            for (int i = 0; i < values.size(); i++) {
                jwk.put(RSA_PRIVATE_FIELDS.get(i), Jwk.unsigned(values.get(i)));
            }
        } else if (type.isEc()) {
            jwk.put("d", Jwk.fixed(((ECPrivateKey) pair.getPrivate()).getS(), curve.fieldBytes()));
        } else {
            jwk.put("k", Json.b64url(secret));
        }
        return jwk;
    }
}
