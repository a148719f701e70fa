package io.coffre.keyvault.crypto;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;

/**
 * EMSA-PSS encoding and verification (RFC 8017 §9.1) with MGF1 over the same hash and a salt as long as the hash,
 * as JWS PS256/384/512 specify. It exists because the JDK's RSASSA-PSS always hashes its input itself, while Key
 * Vault signs a digest the client already computed; tests check it against the JDK's RSASSA-PSS both ways.
 */
final class Pss {
    private static final byte TRAILER = (byte) 0xbc;

    private Pss() {
    }

    /** The encoded message EM of {@code ceil(emBits / 8)} bytes, for the raw RSA private operation. */
    static byte[] encode(byte[] digest, String hash, int emBits, SecureRandom random)
            throws GeneralSecurityException {
        MessageDigest md = MessageDigest.getInstance(hash);
        int hLen = md.getDigestLength();
        int emLen = (emBits + 7) / 8;
        if (emLen < 2 * hLen + 2) {
            throw new IllegalArgumentException("RSA key too short for PSS with " + hash);
        }
        byte[] salt = new byte[hLen];
        random.nextBytes(salt);
        byte[] h = saltedHash(md, digest, salt);
        byte[] db = new byte[emLen - hLen - 1];
        db[db.length - hLen - 1] = 0x01;
        System.arraycopy(salt, 0, db, db.length - hLen, hLen);
        xor(db, mgf1(md, h, db.length));
        db[0] &= (byte) (0xff >>> (8 * emLen - emBits));
        byte[] em = Arrays.copyOf(db, emLen);
        System.arraycopy(h, 0, em, db.length, hLen);
        em[emLen - 1] = TRAILER;
        return em;
    }

    /** Whether {@code em} (exactly {@code ceil(emBits / 8)} bytes) is a valid encoding of {@code digest}. */
    static boolean verify(byte[] digest, byte[] em, String hash, int emBits) throws GeneralSecurityException {
        MessageDigest md = MessageDigest.getInstance(hash);
        int hLen = md.getDigestLength();
        int emLen = (emBits + 7) / 8;
        int unusedBits = 8 * emLen - emBits;
        if (em.length != emLen || emLen < 2 * hLen + 2 || em[emLen - 1] != TRAILER
                || ((em[0] & 0xff) >>> (8 - unusedBits)) != 0) {
            return false;
        }
        byte[] db = Arrays.copyOfRange(em, 0, emLen - hLen - 1);
        byte[] h = Arrays.copyOfRange(em, emLen - hLen - 1, emLen - 1);
        xor(db, mgf1(md, h, db.length));
        db[0] &= (byte) (0xff >>> unusedBits);
        int separator = db.length - hLen - 1;
        for (int i = 0; i < separator; i++) {
            if (db[i] != 0) {
                return false;
            }
        }
        if (db[separator] != 0x01) {
            return false;
        }
        byte[] salt = Arrays.copyOfRange(db, db.length - hLen, db.length);
        return MessageDigest.isEqual(h, saltedHash(md, digest, salt));
    }

    /** H = Hash(0x00 * 8 ‖ mHash ‖ salt). */
    private static byte[] saltedHash(MessageDigest md, byte[] digest, byte[] salt) {
        md.reset();
        md.update(new byte[8]);
        md.update(digest);
        md.update(salt);
        return md.digest();
    }

    private static byte[] mgf1(MessageDigest md, byte[] seed, int length) {
        byte[] mask = new byte[length];
        int hLen = md.getDigestLength();
        for (int counter = 0, offset = 0; offset < length; counter++, offset += hLen) {
            md.reset();
            md.update(seed);
            md.update(new byte[] {(byte) (counter >>> 24), (byte) (counter >>> 16), (byte) (counter >>> 8),
                    (byte) counter});
            byte[] block = md.digest();
            System.arraycopy(block, 0, mask, offset, Math.min(hLen, length - offset));
        }
        return mask;
    }

    private static void xor(byte[] target, byte[] mask) {
        for (int i = 0; i < target.length; i++) {
            target[i] ^= mask[i];
        }
    }
}
