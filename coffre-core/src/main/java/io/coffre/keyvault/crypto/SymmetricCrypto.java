package io.coffre.keyvault.crypto;

import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import javax.crypto.AEADBadTagException;
import javax.crypto.BadPaddingException;
import javax.crypto.Cipher;
import javax.crypto.IllegalBlockSizeException;
import javax.crypto.Mac;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.IvParameterSpec;

/** AES key wrap (RFC 3394, RFC 5649), AES-GCM, AES-CBC with and without PKCS#7 padding, and HMAC. */
final class SymmetricCrypto {
    private static final int GCM_IV_BYTES = 12;
    private static final int GCM_TAG_BYTES = 16;
    private static final int AES_BLOCK_BYTES = 16;
    /** RFC 3394 wraps at least two 64-bit blocks. */
    private static final int KW_MIN_BYTES = 16;
    private static final int KW_BLOCK_BYTES = 8;
    private static final SecureRandom RANDOM = new SecureRandom();

    private SymmetricCrypto() {
    }

    static byte[] wrap(KeyMaterial key, Algorithm alg, byte[] keyToWrap) {
        if (alg.kind() == Algorithm.Kind.AES_KEY_WRAP
                && (keyToWrap.length < KW_MIN_BYTES || keyToWrap.length % KW_BLOCK_BYTES != 0)) {
            throw CryptoErrors.badParameter(alg.wire() + " (RFC 3394) wraps values of 16 bytes or more in multiples "
                    + "of 8 bytes; this one has " + keyToWrap.length + ". CKM_AES_KEY_WRAP_PAD wraps any length.");
        }
        if (keyToWrap.length == 0) {
            throw CryptoErrors.badParameter(alg.wire() + " cannot wrap an empty value.");
        }
        try {
            return keyWrap(alg.kind() == Algorithm.Kind.AES_KEY_WRAP ? "AES/KW/NoPadding" : "AES/KWP/NoPadding",
                    Cipher.ENCRYPT_MODE, key.secretKey("AES"), keyToWrap);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(alg.wire() + " wrapping failed", e);
        }
    }

    static byte[] unwrap(KeyMaterial key, Algorithm alg, byte[] wrapped) {
        try {
            return keyWrap(alg.kind() == Algorithm.Kind.AES_KEY_WRAP ? "AES/KW/NoPadding" : "AES/KWP/NoPadding",
                    Cipher.DECRYPT_MODE, key.secretKey("AES"), wrapped);
        } catch (BadPaddingException | IllegalBlockSizeException e) {
            throw CryptoErrors.undecryptable(alg, key);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(alg.wire() + " unwrapping failed", e);
        }
    }

    /** RFC 3394 ({@code AES/KW/NoPadding}) or RFC 5649 ({@code AES/KWP/NoPadding}), both with their default IV. */
    static byte[] keyWrap(String transformation, int mode, SecretKey kek, byte[] input)
            throws GeneralSecurityException {
        Cipher cipher = Cipher.getInstance(transformation);
        cipher.init(mode, kek);
        return cipher.doFinal(input);
    }

    /** Generates a 12-byte iv when none is given; returns the iv, the 16-byte tag and the aad echoed. */
    static KeyOperations.Result gcmEncrypt(KeyMaterial key, Algorithm alg, byte[] plaintext, byte[] iv,
            byte[] aad) {
        byte[] nonce = iv;
        if (nonce == null) {
            nonce = new byte[GCM_IV_BYTES];
            RANDOM.nextBytes(nonce);
        }
        requireLength(alg, "iv", nonce, GCM_IV_BYTES, " (or none, and one is generated)");
        try {
            byte[] sealed = gcm(Cipher.ENCRYPT_MODE, key, nonce, aad).doFinal(plaintext);
            int split = sealed.length - GCM_TAG_BYTES;
            return new KeyOperations.Result(Arrays.copyOf(sealed, split), nonce,
                    Arrays.copyOfRange(sealed, split, sealed.length), aad);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(alg.wire() + " encryption failed", e);
        }
    }

    static byte[] gcmDecrypt(KeyMaterial key, Algorithm alg, byte[] ciphertext, byte[] iv, byte[] aad,
            byte[] tag) {
        requireLength(alg, "iv", iv, GCM_IV_BYTES, ", as encrypt returned it");
        requireLength(alg, "tag", tag, GCM_TAG_BYTES, ", as encrypt returned it");
        byte[] sealed = Arrays.copyOf(ciphertext, ciphertext.length + tag.length);
        System.arraycopy(tag, 0, sealed, ciphertext.length, tag.length);
        try {
            return gcm(Cipher.DECRYPT_MODE, key, iv, aad).doFinal(sealed);
        } catch (AEADBadTagException e) {
            throw CryptoErrors.undecryptable(alg, key);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(alg.wire() + " decryption failed", e);
        }
    }

    private static Cipher gcm(int mode, KeyMaterial key, byte[] iv, byte[] aad) throws GeneralSecurityException {
        Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
        cipher.init(mode, key.secretKey("AES"), new GCMParameterSpec(GCM_TAG_BYTES * 8, iv));
        if (aad != null) {
            cipher.updateAAD(aad);
        }
        return cipher;
    }

    static byte[] cbcEncrypt(KeyMaterial key, Algorithm alg, byte[] plaintext, byte[] iv) {
        requireLength(alg, "iv", iv, AES_BLOCK_BYTES, "");
        if (alg.kind() == Algorithm.Kind.AES_CBC && plaintext.length % AES_BLOCK_BYTES != 0) {
            throw CryptoErrors.badParameter(alg.wire() + " does not pad: the value must be a multiple of 16 bytes; "
                    + "it has " + plaintext.length + ". Use " + alg.wire() + "PAD to encrypt any length.");
        }
        try {
            return cbc(Cipher.ENCRYPT_MODE, key, alg, iv).doFinal(plaintext);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(alg.wire() + " encryption failed", e);
        }
    }

    static byte[] cbcDecrypt(KeyMaterial key, Algorithm alg, byte[] ciphertext, byte[] iv) {
        requireLength(alg, "iv", iv, AES_BLOCK_BYTES, "");
        try {
            return cbc(Cipher.DECRYPT_MODE, key, alg, iv).doFinal(ciphertext);
        } catch (BadPaddingException | IllegalBlockSizeException e) {
            throw CryptoErrors.undecryptable(alg, key);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(alg.wire() + " decryption failed", e);
        }
    }

    private static Cipher cbc(int mode, KeyMaterial key, Algorithm alg, byte[] iv) throws GeneralSecurityException {
        Cipher cipher = Cipher.getInstance(alg.kind() == Algorithm.Kind.AES_CBC ? "AES/CBC/NoPadding"
                : "AES/CBC/PKCS5Padding"); // the JCA's "PKCS5" on 16-byte blocks is PKCS#7
        cipher.init(mode, key.secretKey("AES"), new IvParameterSpec(iv));
        return cipher;
    }

    static byte[] hmac(KeyMaterial key, Algorithm alg, byte[] data) {
        String name = "Hmac" + alg.hash().replace("-", "");
        try {
            Mac mac = Mac.getInstance(name);
            mac.init(key.secretKey(name));
            return mac.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(alg.wire() + " failed", e);
        }
    }

    private static void requireLength(Algorithm alg, String field, byte[] value, int length, String hint) {
        if (value == null) {
            throw CryptoErrors.badParameter(alg.wire() + " needs '" + field + "' (" + length + " bytes" + hint + ").");
        }
        if (value.length != length) {
            throw CryptoErrors.badParameter(alg.wire() + " takes '" + field + "' of " + length + " bytes" + hint
                    + "; this one has " + value.length + ".");
        }
    }
}
