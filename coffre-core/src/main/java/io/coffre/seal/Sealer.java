package io.coffre.seal;

import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Objects;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;

/**
 * The barrier every stored secret goes through: AES-256-GCM with a random 96-bit nonce. Sealed format:
 * {@code version (1 byte) | nonce (12) | ciphertext | tag (16)}. The AAD is the version byte followed by the caller's
 * context (where the value belongs, e.g. {@code key:{vault}/{name}/{version}}), so a value copied to another row, or
 * relabelled with another version, fails to open.
 */
public final class Sealer {
    static final byte VERSION = 1;
    static final int NONCE_BYTES = 12;
    static final int TAG_BYTES = 16;
    private static final int KEY_BYTES = 32;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final SecretKey key;

    public Sealer(SecretKey key) {
        Objects.requireNonNull(key, "key");
        byte[] encoded = key.getEncoded();
        if (!"AES".equalsIgnoreCase(key.getAlgorithm()) || encoded == null || encoded.length != KEY_BYTES) {
            throw new IllegalArgumentException("a Sealer needs a 256-bit AES key");
        }
        this.key = key;
    }

    /** A fresh random AES-256 key. */
    public static SecretKey newKey() {
        try {
            KeyGenerator generator = KeyGenerator.getInstance("AES");
            generator.init(KEY_BYTES * 8, RANDOM);
            return generator.generateKey();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES key generation is unavailable in this JDK", e);
        }
    }

    public byte[] seal(byte[] plaintext, byte[] context) {
        Objects.requireNonNull(plaintext, "plaintext");
        byte[] nonce = new byte[NONCE_BYTES];
        RANDOM.nextBytes(nonce);
        try {
            Cipher cipher = cipher(Cipher.ENCRYPT_MODE, nonce, context);
            ByteBuffer out = ByteBuffer.allocate(1 + NONCE_BYTES + cipher.getOutputSize(plaintext.length));
            out.put(VERSION).put(nonce);
            cipher.doFinal(ByteBuffer.wrap(plaintext), out);
            return out.array();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM sealing failed", e);
        }
    }

    /** @throws SealException when the value was altered, truncated, or sealed under another key or context */
    public byte[] open(byte[] sealed, byte[] context) {
        Objects.requireNonNull(sealed, "sealed");
        if (sealed.length < 1 + NONCE_BYTES + TAG_BYTES) {
            throw new SealException("sealed value is truncated (" + sealed.length + " bytes)");
        }
        if (sealed[0] != VERSION) {
            throw new SealException("sealed value has unknown format version " + (sealed[0] & 0xff));
        }
        byte[] nonce = Arrays.copyOfRange(sealed, 1, 1 + NONCE_BYTES);
        try {
            return cipher(Cipher.DECRYPT_MODE, nonce, context)
                    .doFinal(sealed, 1 + NONCE_BYTES, sealed.length - 1 - NONCE_BYTES);
        } catch (AEADBadTagException e) {
            throw new SealException(
                    "sealed value failed authentication: altered, or opened with another key or context", e);
        } catch (GeneralSecurityException e) {
            throw new SealException("sealed value cannot be opened: " + e.getMessage(), e);
        }
    }

    private Cipher cipher(int mode, byte[] nonce, byte[] context) throws GeneralSecurityException {
        Objects.requireNonNull(context, "context");
        Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
        cipher.init(mode, key, new GCMParameterSpec(TAG_BYTES * 8, nonce));
        cipher.updateAAD(new byte[] {VERSION});
        cipher.updateAAD(context);
        return cipher;
    }

    @Override
    public String toString() {
        return "Sealer[AES-256-GCM]";
    }
}
