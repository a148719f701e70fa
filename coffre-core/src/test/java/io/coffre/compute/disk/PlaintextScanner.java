package io.coffre.compute.disk;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * Finds any {@value #WINDOW}-byte window of a known plaintext in stored bytes, raw or as lowercase hex or base64
 * (any alignment). Every window of a needle contains one of its chunks of half the window's length at a chunk-aligned
 * position, so the scanner looks those chunks up at every offset and extends each hit both ways.
 */
final class PlaintextScanner {
    static final int WINDOW = 64;

    private record Needle(String encoding, byte[] text, int window) {
    }

    private record Chunk(Needle needle, int at) {
    }

    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);
    private static final int FILTER_BITS = 26;

    private final int chunk;
    private final Map<String, List<Chunk>> chunks = new HashMap<>();
    /** Bloom-style filter on each chunk's first 8 bytes, so most offsets cost one multiply and one bit test. */
    private final long[] filter = new long[1 << (FILTER_BITS - 6)];

    PlaintextScanner(byte[] plaintext) {
        List<Needle> needles = new ArrayList<>();
        needles.add(new Needle("raw", plaintext, WINDOW));
        needles.add(new Needle("hex", ascii(HexFormat.of().formatHex(plaintext)), 2 * WINDOW));
        for (int phase = 0; phase < 3; phase++) {
            byte[] shifted = Arrays.copyOfRange(plaintext, phase, plaintext.length);
            // 64 bytes encode to at least 85 whole characters, whatever the phase
            needles.add(new Needle("base64", ascii(Base64.getEncoder().encodeToString(shifted)), 85));
            needles.add(new Needle("base64url", ascii(Base64.getUrlEncoder().encodeToString(shifted)), 85));
        }
        this.chunk = WINDOW / 2;
        for (Needle needle : needles) {
            // chunks of WINDOW/2 fit twice in every needle's window, so each window holds an aligned one
            for (int at = 0; at + chunk <= needle.text().length; at += chunk) {
                chunks.computeIfAbsent(key(needle.text(), at), k -> new ArrayList<>()).add(new Chunk(needle, at));
                int slot = slot(needle.text(), at);
                filter[slot >>> 6] |= 1L << slot;
            }
        }
    }

    /** Where a window of the plaintext occurs in {@code data}, described for an assertion message; null if nowhere. */
    String find(byte[] data) {
        for (int i = 0; i + chunk <= data.length; i++) {
            int slot = slot(data, i);
            if ((filter[slot >>> 6] & (1L << slot)) == 0) {
                continue;
            }
            List<Chunk> hits = chunks.get(key(data, i));
            if (hits == null) {
                continue;
            }
            for (Chunk hit : hits) {
                byte[] text = hit.needle().text();
                int left = 0;
                while (i - left > 0 && hit.at() - left > 0 && data[i - left - 1] == text[hit.at() - left - 1]) {
                    left++;
                }
                int right = chunk;
                while (i + right < data.length && hit.at() + right < text.length
                        && data[i + right] == text[hit.at() + right]) {
                    right++;
                }
                if (left + right >= hit.needle().window()) {
                    return left + right + " bytes of the plaintext (" + hit.needle().encoding() + ") at offset "
                            + (i - left);
                }
            }
        }
        return null;
    }

    private static int slot(byte[] bytes, int at) {
        return (int) (((long) LONGS.get(bytes, at) * 0x9E3779B97F4A7C15L) >>> (64 - FILTER_BITS));
    }

    private String key(byte[] bytes, int at) {
        return new String(bytes, at, chunk, StandardCharsets.ISO_8859_1);
    }

    private static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }
}
