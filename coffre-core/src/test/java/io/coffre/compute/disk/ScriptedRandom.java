package io.coffre.compute.disk;

import java.security.SecureRandom;

/** Hands out a fixed byte sequence as "random" bytes, so nonces and write ids are reproducible in tests. */
final class ScriptedRandom extends SecureRandom {
    private final byte[] script;
    private int position;

    ScriptedRandom(byte[]... parts) {
        int total = 0;
        for (byte[] part : parts) {
            total += part.length;
        }
        script = new byte[total];
        int at = 0;
        for (byte[] part : parts) {
            System.arraycopy(part, 0, script, at, part.length);
            at += part.length;
        }
    }

    @Override
    public synchronized void nextBytes(byte[] bytes) {
        if (position + bytes.length > script.length) {
            throw new IllegalStateException("the script ran out of bytes");
        }
        System.arraycopy(script, position, bytes, 0, bytes.length);
        position += bytes.length;
    }
}
