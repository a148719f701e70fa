package io.coffre.keyvault.crypto;

import io.coffre.json.Json;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.interfaces.RSAKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.RSAPublicKeySpec;
import java.util.Arrays;
import java.util.Map;
import java.util.stream.StreamSupport;
import javax.crypto.Cipher;
import javax.crypto.spec.SecretKeySpec;

/**
 * Secure key release: wrapping a key to the runtime key of an attested environment, the way the CVM release client
 * and the confidential sidecar unwrap it: {@code RSA-OAEP(runtime key, H, MGF1(H), empty label) of a fresh 32-byte
 * AES key} followed by {@code AES-KWP (RFC 5649) of the key's release form under that AES key}.
 */
public final class SecureKeyRelease {
    public static final String DEFAULT_ENC = "CKM_RSA_AES_KEY_WRAP";
    private static final Map<String, String> ENC_HASHES = Map.of(DEFAULT_ENC, "SHA-1",
            "RSA_AES_KEY_WRAP_256", "SHA-256", "RSA_AES_KEY_WRAP_384", "SHA-384");
    private static final int KEK_BYTES = 32;
    private static final int MIN_RUNTIME_KEY_BITS = 2048;
    private static final String KWP = "AES/KWP/NoPadding";
    private static final SecureRandom RANDOM = new SecureRandom();

    private SecureKeyRelease() {
    }

    /**
     * The key to release to: the first RSA JWK in the token's top-level {@code x-ms-runtime.keys} whose
     * {@code key_ops} contains "encrypt" or whose {@code use} is "enc".
     */
    public static RSAPublicKey runtimeKey(Map<String, Object> claims) {
        Object runtime = claims == null ? null : claims.get("x-ms-runtime");
        Object keys = runtime instanceof Map<?, ?> map ? map.get("keys") : null;
        if (keys instanceof Iterable<?> entries) {
            for (Object entry : entries) {
                if (entry instanceof Map<?, ?> jwk && isRsaEncryptionKey(jwk)) {
                    return rsaPublicKey(jwk);
                }
            }
        }
        throw CryptoErrors.badParameter("The attestation token has no RSA encryption key in x-ms-runtime.keys (a "
                + "JWK with kty \"RSA\" and key_ops containing \"encrypt\" or use \"enc\"), so no key can be "
                + "released to it.");
    }

    /** The {@code enc} a release uses and reports: the one given, or CKM_RSA_AES_KEY_WRAP when none is. */
    public static String effectiveEnc(String enc) {
        String effective = enc == null ? DEFAULT_ENC : enc;
        if (!ENC_HASHES.containsKey(effective)) {
            throw CryptoErrors.badParameter("The enc '" + enc + "' is not supported; use CKM_RSA_AES_KEY_WRAP "
                    + "(the default), RSA_AES_KEY_WRAP_256 or RSA_AES_KEY_WRAP_384.");
        }
        return effective;
    }

    /** {@code enc} null means CKM_RSA_AES_KEY_WRAP (SHA-1); RSA_AES_KEY_WRAP_256 / _384 use SHA-256 / SHA-384. */
    public static byte[] wrap(KeyMaterial target, RSAPublicKey runtimeKey, String enc) {
        String hash = ENC_HASHES.get(effectiveEnc(enc));
        byte[] kek = new byte[KEK_BYTES];
        RANDOM.nextBytes(kek);
        byte[] released = target.exportForRelease();
        try {
            byte[] wrappedKek = RsaCrypto.oaep(hash, Cipher.ENCRYPT_MODE, runtimeKey).doFinal(kek);
            byte[] wrappedKey = SymmetricCrypto.keyWrap(KWP, Cipher.ENCRYPT_MODE, new SecretKeySpec(kek, "AES"),
                    released);
            return ByteBuffer.allocate(wrappedKek.length + wrappedKey.length).put(wrappedKek).put(wrappedKey)
                    .array();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("wrapping for release failed", e);
        } finally {
            Arrays.fill(kek, (byte) 0);
            Arrays.fill(released, (byte) 0);
        }
    }

    /** The inverse of {@link #wrap}: the released key's PKCS#8 DER (RSA, EC) or raw bytes (oct). */
    public static byte[] unwrap(byte[] blob, PrivateKey runtimePrivateKey, String enc) {
        String effective = effectiveEnc(enc);
        int k = (((RSAKey) runtimePrivateKey).getModulus().bitLength() + 7) / 8;
        if (blob == null || blob.length <= k) {
            throw CryptoErrors.badParameter("The released key is too short for a " + k * 8 + "-bit runtime key.");
        }
        byte[] kek = null;
        try {
            kek = RsaCrypto.oaep(ENC_HASHES.get(effective), Cipher.DECRYPT_MODE, runtimePrivateKey)
                    .doFinal(blob, 0, k);
            return SymmetricCrypto.keyWrap(KWP, Cipher.DECRYPT_MODE, new SecretKeySpec(kek, "AES"),
                    Arrays.copyOfRange(blob, k, blob.length));
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw CryptoErrors.badParameter("The released key could not be decrypted with this runtime key (enc "
                    + effective + ").");
        } finally {
            if (kek != null) {
                Arrays.fill(kek, (byte) 0);
            }
        }
    }

    private static boolean isRsaEncryptionKey(Map<?, ?> jwk) {
        boolean encrypts = jwk.get("key_ops") instanceof Iterable<?> ops
                && StreamSupport.stream(ops.spliterator(), false).anyMatch("encrypt"::equals);
        return "RSA".equals(jwk.get("kty")) && (encrypts || "enc".equals(jwk.get("use")));
    }

    private static RSAPublicKey rsaPublicKey(Map<?, ?> jwk) {
        BigInteger n = new BigInteger(1, Json.unb64url(string(jwk.get("n")), "x-ms-runtime.keys[].n"));
        BigInteger e = new BigInteger(1, Json.unb64url(string(jwk.get("e")), "x-ms-runtime.keys[].e"));
        if (n.bitLength() < MIN_RUNTIME_KEY_BITS) {
            throw CryptoErrors.badParameter("The runtime key in x-ms-runtime.keys has " + n.bitLength() + " bits; "
                    + "release needs an RSA key of at least 2048 bits.");
        }
        try {
            return (RSAPublicKey) KeyFactory.getInstance("RSA").generatePublic(new RSAPublicKeySpec(n, e));
        } catch (InvalidKeySpecException ex) {
            throw CryptoErrors.badParameter("The runtime key in x-ms-runtime.keys is not a valid RSA key.");
        } catch (GeneralSecurityException ex) {
            throw new IllegalStateException("RSA is unavailable", ex);
        }
    }

    private static String string(Object value) {
        return value instanceof String text ? text : null;
    }
}
