package io.coffre.keyvault.crypto;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.SignatureException;
import java.security.spec.MGF1ParameterSpec;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Map;
import javax.crypto.BadPaddingException;
import javax.crypto.Cipher;
import javax.crypto.IllegalBlockSizeException;
import javax.crypto.spec.OAEPParameterSpec;
import javax.crypto.spec.PSource;

/** RSA encryption (RSA1_5, RSA-OAEP, RSA-OAEP-256) and signatures over a given digest (RS*, PS*, RSNULL). */
final class RsaCrypto {
    private static final SecureRandom RANDOM = new SecureRandom();
    /** PKCS#1 v1.5 padding takes 11 bytes of the modulus. */
    private static final int PKCS1_OVERHEAD = 11;
    /** DER DigestInfo headers (RFC 8017 §9.2 note 1) that RS256/384/512 put before the digest. */
    private static final Map<String, byte[]> DIGEST_INFO = Map.of(
            "SHA-256", HexFormat.of().parseHex("3031300d060960864801650304020105000420"),
            "SHA-384", HexFormat.of().parseHex("3041300d060960864801650304020205000430"),
            "SHA-512", HexFormat.of().parseHex("3051300d060960864801650304020305000440"));

    private RsaCrypto() {
    }

    static byte[] encrypt(KeyMaterial key, Algorithm alg, byte[] plaintext) {
        int limit = modulusBytes(key) - (alg == Algorithm.RSA1_5 ? PKCS1_OVERHEAD : 2 * alg.hashBytes() + 2);
        if (plaintext.length > limit) {
            throw CryptoErrors.badParameter(alg.wire() + " with a " + key.keySize() + "-bit " + key.type().wire()
                    + " key encrypts at most " + limit + " bytes; the value has " + plaintext.length + ".");
        }
        try {
            return cipher(alg, Cipher.ENCRYPT_MODE, key.publicKey()).doFinal(plaintext);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(alg.wire() + " encryption failed", e);
        }
    }

    static byte[] decrypt(KeyMaterial key, Algorithm alg, byte[] ciphertext) {
        if (ciphertext.length != modulusBytes(key)) {
            throw CryptoErrors.badParameter("The ciphertext for " + alg.wire() + " with a " + key.keySize()
                    + "-bit " + key.type().wire() + " key must be " + modulusBytes(key) + " bytes; it has "
                    + ciphertext.length + ".");
        }
        try {
            return cipher(alg, Cipher.DECRYPT_MODE, key.privateKey()).doFinal(ciphertext);
        } catch (BadPaddingException | IllegalBlockSizeException e) {
            throw CryptoErrors.undecryptable(alg, key);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(alg.wire() + " decryption failed", e);
        }
    }

    /** RSA-OAEP with {@code hash} for both the label hash and MGF1, and the empty label: never provider defaults. */
    static Cipher oaep(String hash, int mode, Key key) throws GeneralSecurityException {
        Cipher cipher = Cipher.getInstance("RSA/ECB/OAEPPadding");
        cipher.init(mode, key, new OAEPParameterSpec(hash, "MGF1", new MGF1ParameterSpec(hash),
                PSource.PSpecified.DEFAULT), RANDOM);
        return cipher;
    }

    private static Cipher cipher(Algorithm alg, int mode, Key key) throws GeneralSecurityException {
        if (alg == Algorithm.RSA1_5) {
            Cipher cipher = Cipher.getInstance("RSA/ECB/PKCS1Padding");
            cipher.init(mode, key, RANDOM);
            return cipher;
        }
        return oaep(alg.hash(), mode, key);
    }

    static byte[] sign(KeyMaterial key, Algorithm alg, byte[] digest) {
        try {
            if (alg.kind() == Algorithm.Kind.RSA_PSS) {
                byte[] em = Pss.encode(digest, alg.hash(), key.keySize() - 1, RANDOM);
                Cipher raw = Cipher.getInstance("RSA/ECB/NoPadding");
                raw.init(Cipher.DECRYPT_MODE, key.privateKey());
                return Jwk.fixedBytes(new BigInteger(1, raw.doFinal(em)), modulusBytes(key));
            }
            Signature signer = Signature.getInstance("NONEwithRSA");
            signer.initSign(key.privateKey(), RANDOM);
            signer.update(pkcs1Payload(key, alg, digest));
            return signer.sign();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(alg.wire() + " signing failed", e);
        }
    }

    static boolean verify(KeyMaterial key, Algorithm alg, byte[] digest, byte[] signature) {
        byte[] payload = alg.kind() == Algorithm.Kind.RSA_PSS ? null : pkcs1Payload(key, alg, digest);
        if (signature.length != modulusBytes(key)) {
            return false;
        }
        try {
            if (payload == null) {
                Cipher raw = Cipher.getInstance("RSA/ECB/NoPadding");
                raw.init(Cipher.ENCRYPT_MODE, key.publicKey());
                int emBits = key.keySize() - 1;
                byte[] em = Jwk.fixedBytes(new BigInteger(1, raw.doFinal(signature)), (emBits + 7) / 8);
                return Pss.verify(digest, em, alg.hash(), emBits);
            }
            Signature verifier = Signature.getInstance("NONEwithRSA");
            verifier.initVerify(key.publicKey());
            verifier.update(payload);
            return verifier.verify(signature);
        } catch (BadPaddingException | SignatureException e) {
            return false; // e.g. a "signature" numerically larger than the modulus
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(alg.wire() + " verification failed", e);
        }
    }

    /** What PKCS#1 v1.5 signs: DigestInfo ‖ digest for RS*, the bytes as given for RSNULL. */
    private static byte[] pkcs1Payload(KeyMaterial key, Algorithm alg, byte[] digest) {
        if (alg.hash() != null) {
            byte[] prefix = DIGEST_INFO.get(alg.hash());
            byte[] payload = Arrays.copyOf(prefix, prefix.length + digest.length);
            System.arraycopy(digest, 0, payload, prefix.length, digest.length);
            return payload;
        }
        int limit = modulusBytes(key) - PKCS1_OVERHEAD;
        if (digest.length > limit) {
            throw CryptoErrors.badParameter("RSNULL with a " + key.keySize() + "-bit " + key.type().wire()
                    + " key signs at most " + limit + " bytes; the digest has " + digest.length + ".");
        }
        return digest;
    }

    private static int modulusBytes(KeyMaterial key) {
        return (key.keySize() + 7) / 8;
    }
}
