package io.coffre.seal;

import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import javax.crypto.Cipher;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;

/** AES-256-GCM sealing bound to a context (AAD): version byte 1 | 12-byte nonce | ciphertext+tag. */
public final class Sealer {
    private static final byte VERSION = 1;
    private static final SecureRandom RANDOM = new SecureRandom();
    private final SecretKey key;

    public Sealer(SecretKey key) {
        this.key = key;
    }

    public byte[] seal(byte[] plaintext, byte[] context) {
        try {
            byte[] nonce = new byte[12];
            RANDOM.nextBytes(nonce);
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(128, nonce));
            c.updateAAD(context);
            byte[] ct = c.doFinal(plaintext);
            return ByteBuffer.allocate(1 + 12 + ct.length).put(VERSION).put(nonce).put(ct).array();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    public byte[] open(byte[] sealed, byte[] context) {
        if (sealed.length < 1 + 12 + 16 || sealed[0] != VERSION) {
            throw new SealException("sealed value has an unknown format");
        }
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(128, sealed, 1, 12));
            c.updateAAD(context);
            return c.doFinal(sealed, 13, sealed.length - 13);
        } catch (javax.crypto.AEADBadTagException e) {
            throw new SealException("sealed value was altered or belongs elsewhere");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    public static SecretKey newKey() {
        try {
            KeyGenerator g = KeyGenerator.getInstance("AES");
            g.init(256);
            return g.generateKey();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
