package io.coffre.store;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Blob contents that prove their own integrity: a header (generation, body length) and a body generated from
 * SHA-256(key, generation). Any truncation, zero-fill, mix of two generations or blob under the wrong key fails
 * {@link #check}. Used where a reader cannot know what was written (a writer killed mid-put).
 */
public final class SelfCheckingBlob {
    private static final int HEADER = Long.BYTES + Integer.BYTES;

    private SelfCheckingBlob() {
    }

    public static byte[] content(String key, long generation, int bodyLength) {
        ByteBuffer out = ByteBuffer.allocate(HEADER + bodyLength);
        out.putLong(generation).putInt(bodyLength);
        out.put(body(key, generation, bodyLength));
        return out.array();
    }

    /** @return the generation stored, or -1 if {@code data} is not a complete, correct blob for {@code key} */
    public static long check(String key, byte[] data) {
        if (data.length < HEADER) {
            return -1;
        }
        ByteBuffer in = ByteBuffer.wrap(data);
        long generation = in.getLong();
        int bodyLength = in.getInt();
        if (generation < 1 || bodyLength < 0 || bodyLength != data.length - HEADER) {
            return -1;
        }
        byte[] expected = body(key, generation, bodyLength);
        return Arrays.equals(data, HEADER, data.length, expected, 0, bodyLength) ? generation : -1;
    }

    private static byte[] body(String key, long generation, int length) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            byte[] seed = sha.digest((key + "\n" + generation).getBytes(StandardCharsets.UTF_8));
            // a fast generator seeded by the hash: several MiB per put must cost less than writing them
            SplittableRandom random = new SplittableRandom(ByteBuffer.wrap(seed).getLong());
            byte[] body = new byte[length];
            for (int i = 0; i < length; i += Long.BYTES) {
                long word = random.nextLong();
                for (int j = 0; j < Long.BYTES && i + j < length; j++) {
                    body[i + j] = (byte) (word >>> (8 * j));
                }
            }
            return body;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
