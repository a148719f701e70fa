package io.coffre.keyvault.crypto;

import io.coffre.keyvault.crypto.Algorithm.Operation;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.SignatureException;
import java.util.List;

/**
 * The cryptographic operations of Key Vault / Managed HSM keys, with the algorithms of the REST API. Every refusal
 * is a 400 BadParameter that names the algorithm, the key and what is expected; a value that does not decrypt under
 * this key version is a 400 too, never a 500 and never garbage.
 */
public final class KeyOperations {
    private static final SecureRandom RANDOM = new SecureRandom();

    /** Output of {@link #encrypt}; {@code iv}, {@code tag} and {@code aad} are null where the algorithm has none. */
    public record Result(byte[] value, byte[] iv, byte[] tag, byte[] aad) {
    }

    private KeyOperations() {
    }

    /**
     * RSA1_5, RSA-OAEP, RSA-OAEP-256 (RSA keys); AES-GCM (iv generated when null; returns iv, tag and the aad),
     * AES-CBC and AES-CBC-PAD (iv of 16 bytes required), and the AES key-wrap algorithms (oct keys).
     */
    public static Result encrypt(KeyMaterial key, String alg, byte[] plaintext, byte[] iv, byte[] aad) {
        Algorithm algorithm = Algorithm.resolve(alg, Operation.ENCRYPT, key);
        required(plaintext, "value", algorithm);
        return switch (algorithm.kind()) {
            case RSA_ENCRYPTION -> new Result(RsaCrypto.encrypt(key, algorithm, plaintext), null, null, null);
            case AES_KEY_WRAP, AES_KEY_WRAP_PAD ->
                    new Result(SymmetricCrypto.wrap(key, algorithm, plaintext), null, null, null);
            case AES_GCM -> SymmetricCrypto.gcmEncrypt(key, algorithm, plaintext, iv, aad);
            case AES_CBC, AES_CBC_PAD ->
                    new Result(SymmetricCrypto.cbcEncrypt(key, algorithm, plaintext, iv), iv, null, null);
            default -> throw unreachable(algorithm);
        };
    }

    /** The inverse of {@link #encrypt}; AES-GCM needs the iv and tag encrypt returned (and the same aad). */
    public static byte[] decrypt(KeyMaterial key, String alg, byte[] ciphertext, byte[] iv, byte[] aad, byte[] tag) {
        Algorithm algorithm = Algorithm.resolve(alg, Operation.DECRYPT, key);
        required(ciphertext, "value", algorithm);
        return switch (algorithm.kind()) {
            case RSA_ENCRYPTION -> RsaCrypto.decrypt(key, algorithm, ciphertext);
            case AES_KEY_WRAP, AES_KEY_WRAP_PAD -> SymmetricCrypto.unwrap(key, algorithm, ciphertext);
            case AES_GCM -> SymmetricCrypto.gcmDecrypt(key, algorithm, ciphertext, iv, aad, tag);
            case AES_CBC, AES_CBC_PAD -> SymmetricCrypto.cbcDecrypt(key, algorithm, ciphertext, iv);
            default -> throw unreachable(algorithm);
        };
    }

    /** RSA1_5, RSA-OAEP, RSA-OAEP-256 (RSA keys); A128KW..A256KW, CKM_AES_KEY_WRAP(_PAD) (oct keys). */
    public static byte[] wrapKey(KeyMaterial key, String alg, byte[] keyToWrap) {
        Algorithm algorithm = Algorithm.resolve(alg, Operation.WRAP_KEY, key);
        required(keyToWrap, "value", algorithm);
        return algorithm.kind() == Algorithm.Kind.RSA_ENCRYPTION ? RsaCrypto.encrypt(key, algorithm, keyToWrap)
                : SymmetricCrypto.wrap(key, algorithm, keyToWrap);
    }

    public static byte[] unwrapKey(KeyMaterial key, String alg, byte[] wrapped) {
        Algorithm algorithm = Algorithm.resolve(alg, Operation.UNWRAP_KEY, key);
        required(wrapped, "value", algorithm);
        return algorithm.kind() == Algorithm.Kind.RSA_ENCRYPTION ? RsaCrypto.decrypt(key, algorithm, wrapped)
                : SymmetricCrypto.unwrap(key, algorithm, wrapped);
    }

    /**
     * Signs a digest the caller computed: PS*, RS*, RSNULL (RSA), ES256/ES256K/ES384/ES512 (EC, signature R‖S of
     * fixed length as JWS has it), HS256/384/512 (oct: the HMAC of the given bytes).
     */
    public static byte[] sign(KeyMaterial key, String alg, byte[] digest) {
        Algorithm algorithm = Algorithm.resolve(alg, Operation.SIGN, key);
        checkDigest(algorithm, digest);
        return switch (algorithm.kind()) {
            case RSA_PSS, RSA_PKCS1 -> RsaCrypto.sign(key, algorithm, digest);
            case ECDSA -> ecdsaSign(key, algorithm, digest);
            case HMAC -> SymmetricCrypto.hmac(key, algorithm, digest);
            default -> throw unreachable(algorithm);
        };
    }

    /** False for a signature that does not match (including one of the wrong length); 400 for a bad digest. */
    public static boolean verify(KeyMaterial key, String alg, byte[] digest, byte[] signature) {
        Algorithm algorithm = Algorithm.resolve(alg, Operation.VERIFY, key);
        checkDigest(algorithm, digest);
        required(signature, "signature", algorithm);
        return switch (algorithm.kind()) {
            case RSA_PSS, RSA_PKCS1 -> RsaCrypto.verify(key, algorithm, digest, signature);
            case ECDSA -> ecdsaVerify(key, algorithm, digest, signature);
            case HMAC -> MessageDigest.isEqual(SymmetricCrypto.hmac(key, algorithm, digest), signature);
            default -> throw unreachable(algorithm);
        };
    }

    /** The {@code key_ops} a new key gets when the request names none. */
    public static List<String> defaultKeyOps(KeyType type) {
        if (type.isRsa()) {
            return List.of("encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey");
        }
        return type.isEc() ? List.of("sign", "verify") : List.of("encrypt", "decrypt", "wrapKey", "unwrapKey");
    }

    private static byte[] ecdsaSign(KeyMaterial key, Algorithm algorithm, byte[] digest) {
        try {
            Signature signer = key.ecCurve().rawSignature();
            signer.initSign(key.privateKey(), RANDOM);
            signer.update(digest);
            return signer.sign();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(algorithm.wire() + " signing failed", e);
        }
    }

    private static boolean ecdsaVerify(KeyMaterial key, Algorithm algorithm, byte[] digest, byte[] signature) {
        if (signature.length != 2 * key.ecCurve().fieldBytes()) {
            return false;
        }
        try {
            Signature verifier = key.ecCurve().rawSignature();
            verifier.initVerify(key.publicKey());
            verifier.update(digest);
            return verifier.verify(signature);
        } catch (SignatureException e) {
            return false;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(algorithm.wire() + " verification failed", e);
        }
    }

    private static void checkDigest(Algorithm algorithm, byte[] digest) {
        required(digest, "digest", algorithm);
        if (algorithm.digestBytes() != 0 && digest.length != algorithm.digestBytes()) {
            throw CryptoErrors.badParameter("The digest for " + algorithm.wire() + " must be "
                    + algorithm.digestBytes() + " bytes (a " + algorithm.hash() + " hash); it has " + digest.length
                    + ".");
        }
    }

    private static void required(byte[] value, String field, Algorithm algorithm) {
        if (value == null) {
            throw CryptoErrors.badParameter("The '" + field + "' is required for " + algorithm.wire() + ".");
        }
    }

    private static IllegalStateException unreachable(Algorithm algorithm) {
        return new IllegalStateException("no implementation for " + algorithm.wire());
    }
}
