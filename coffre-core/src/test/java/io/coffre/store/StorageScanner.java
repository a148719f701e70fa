package io.coffre.store;

import java.nio.charset.StandardCharsets;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Looks for a secret everywhere Coffre persists anything: every column of every row of every table, and every
 * blob. Tests use it to prove that key material, data keys or plaintext never reach storage, raw or encoded.
 *
 * <p>Each stored value is searched as raw bytes (text columns as UTF-8) and through the encodings a careless
 * writer would use: every run of base64 / base64url characters (line breaks allowed, as in PEM) is decoded at each
 * of its four alignments, every run of hex digits at both of its alignments, and what those decode to is searched
 * again, so base64 inside a JSON column inside a base64 blob is still found. A hit is any {@code window}-byte
 * substring of the secret; {@code window == secret.length} asks for the exact secret.
 */
public final class StorageScanner {
    /** Encodings inside encodings deeper than this are not something code writes by accident. */
    private static final int MAX_DECODE_DEPTH = 3;

    private StorageScanner() {
    }

    /** @return one human-readable line per place the secret shows up, e.g. {@code table keys row 3 column material} */
    public static List<String> findBytes(MetadataStore md, BlobStore blobs, byte[] secret, int window) {
        Windows windows = new Windows(secret, window);
        List<String> hits = new ArrayList<>();
        for (String table : md.tables()) {
            scanTable(md, table, windows, hits);
        }
        List<String> keys = new ArrayList<>();
        blobs.list("", keys::add);
        for (String key : keys) {
            blobs.get(key).ifPresent(data -> scan(data, "blob " + key, windows, hits));
        }
        return hits;
    }

    /** Searches one value (for tests of other storage, or of a single response body). */
    public static List<String> findBytes(byte[] data, String where, byte[] secret, int window) {
        List<String> hits = new ArrayList<>();
        scan(data, where, new Windows(secret, window), hits);
        return hits;
    }

    private static void scanTable(MetadataStore md, String table, Windows windows, List<String> hits) {
        String quoted = '"' + table.replace("\"", "\"\"") + '"';
        md.withHandle(h -> h.createQuery("SELECT * FROM " + quoted).scanResultSet((results, ctx) -> {
            ResultSet rs = results.get();
            ResultSetMetaData meta = rs.getMetaData();
            for (int row = 1; rs.next(); row++) {
                String where = "table " + table + " row " + row + rowHint(rs, meta);
                for (int c = 1; c <= meta.getColumnCount(); c++) {
                    byte[] value = columnBytes(rs, meta, c);
                    if (value != null) {
                        scan(value, where + " column " + meta.getColumnName(c).toLowerCase(Locale.ROOT), windows,
                                hits);
                    }
                }
            }
            return null;
        }));
    }

    /** The first column (usually the key) when it is short text, so a hit names its row, not just its position. */
    private static String rowHint(ResultSet rs, ResultSetMetaData meta) throws SQLException {
        if (isBinary(meta.getColumnType(1))) {
            return "";
        }
        String first = rs.getString(1);
        return first == null || first.length() > 80 ? ""
                : " [" + meta.getColumnName(1).toLowerCase(Locale.ROOT) + "=" + first + "]";
    }

    private static byte[] columnBytes(ResultSet rs, ResultSetMetaData meta, int column) throws SQLException {
        if (isBinary(meta.getColumnType(column))) {
            return rs.getBytes(column);
        }
        String text = rs.getString(column);
        return text == null ? null : text.getBytes(StandardCharsets.UTF_8);
    }

    private static boolean isBinary(int sqlType) {
        return sqlType == Types.BINARY || sqlType == Types.VARBINARY || sqlType == Types.LONGVARBINARY
                || sqlType == Types.BLOB;
    }

    private static void scan(byte[] data, String where, Windows windows, List<String> hits) {
        scan(data, where, "", 0, windows, hits);
    }

    private static void scan(byte[] data, String where, String encoding, int depth, Windows windows,
                             List<String> hits) {
        int at = windows.firstIn(data);
        if (at >= 0) {
            hits.add(encoding.isEmpty() ? where + " offset " + at : where + " " + encoding);
        }
        if (depth == MAX_DECODE_DEPTH) {
            return;
        }
        String prefix = encoding.isEmpty() ? "" : encoding + " > ";
        int before = hits.size();
        for (Run run : runs(data, Base64Run.ALPHABET, windows.minBase64Chars())) {
            for (int align = 0; align < 4 && hits.size() == before; align++) {
                scan(Base64Run.decode(run.chars, align), where, prefix + "base64 at offset " + run.start, depth + 1,
                        windows, hits);
            }
        }
        for (Run run : runs(data, HEX_DIGITS, windows.minHexChars())) {
            for (int align = 0; align < 2 && hits.size() == before; align++) {
                scan(decodeHex(run.chars, align), where, prefix + "hex at offset " + run.start, depth + 1, windows,
                        hits);
            }
        }
    }

    // ---- finding windows of the secret: Rabin-Karp over a set of window hashes ----

    private static final class Windows {
        private static final long BASE = 0x100000001B3L;
        private final byte[] secret;
        private final int window;
        private final long outFactor;
        private final Map<Long, List<Integer>> starts = new HashMap<>();
        /** A bit per hash bucket, so the usual miss costs no boxing and no map lookup. */
        private final long[] seen = new long[1 << 16];

        Windows(byte[] secret, int window) {
            if (secret == null || window < 1 || window > secret.length) {
                throw new IllegalArgumentException("window must be between 1 and the secret's length ("
                        + (secret == null ? "no secret" : secret.length) + "); got " + window);
            }
            this.secret = secret.clone();
            this.window = window;
            long factor = 1;
            for (int i = 1; i < window; i++) {
                factor *= BASE;
            }
            this.outFactor = factor;
            for (int s = 0; s + window <= secret.length; s++) {
                long h = 0;
                for (int i = s; i < s + window; i++) {
                    h = h * BASE + (secret[i] & 0xff);
                }
                starts.computeIfAbsent(h, k -> new ArrayList<>()).add(s);
                int bucket = bucket(h);
                seen[bucket >>> 6] |= 1L << bucket;
            }
        }

        private static int bucket(long hash) {
            return (int) (hash ^ hash >>> 32) & ((1 << 22) - 1);
        }

        /** @return the first offset in {@code data} where some window of the secret starts, or -1 */
        int firstIn(byte[] data) {
            // the same polynomial as the constructor's, rolled: drop the leaving byte, shift, add the entering one
            long h = 0;
            for (int i = 0; i < data.length; i++) {
                h = i >= window ? (h - (data[i - window] & 0xff) * outFactor) * BASE + (data[i] & 0xff)
                        : h * BASE + (data[i] & 0xff);
                int bucket = bucket(h);
                if (i >= window - 1 && (seen[bucket >>> 6] & 1L << bucket) != 0) {
                    List<Integer> candidates = starts.get(h);
                    if (candidates != null) {
                        int start = i - window + 1;
                        for (int s : candidates) {
                            if (Arrays.equals(data, start, start + window, secret, s, s + window)) {
                                return start;
                            }
                        }
                    }
                }
            }
            return -1;
        }

        /** Fewer characters than this cannot encode a whole window. */
        int minBase64Chars() {
            return window * 4 / 3;
        }

        int minHexChars() {
            return window * 2;
        }
    }

    // ---- encoded runs ----

    private record Run(int start, byte[] chars) {
    }

    private static final boolean[] HEX_DIGITS = new boolean[256];

    static {
        for (char c : "0123456789abcdefABCDEF".toCharArray()) {
            HEX_DIGITS[c] = true;
        }
    }

    /** Maximal runs of {@code alphabet} bytes, skipping CR/LF inside a run (wrapped PEM / MIME lines). */
    private static List<Run> runs(byte[] data, boolean[] alphabet, int minLength) {
        List<Run> runs = new ArrayList<>();
        int i = 0;
        while (i < data.length) {
            if (!alphabet[data[i] & 0xff]) {
                i++;
                continue;
            }
            int start = i;
            int count = 0;
            for (; i < data.length; i++) {
                int b = data[i] & 0xff;
                if (alphabet[b]) {
                    count++;
                } else if (b != '\r' && b != '\n') {
                    break;
                }
            }
            if (count >= minLength) {
                byte[] chars = new byte[count];
                int n = 0;
                for (int j = start; n < count; j++) {
                    if (alphabet[data[j] & 0xff]) {
                        chars[n++] = data[j];
                    }
                }
                runs.add(new Run(start, chars));
            }
        }
        return runs;
    }

    private static byte[] decodeHex(byte[] chars, int align) {
        byte[] out = new byte[(chars.length - align) / 2];
        for (int i = 0; i < out.length; i++) {
            out[i] = (byte) (Character.digit(chars[align + 2 * i], 16) << 4 | Character.digit(chars[align + 2 * i + 1],
                    16));
        }
        return out;
    }

    /** Both alphabets at once: a run may be standard base64, base64url, or unpadded either. */
    private static final class Base64Run {
        static final boolean[] ALPHABET = new boolean[256];
        private static final int[] VALUE = new int[256];

        static {
            String standard = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
            for (int i = 0; i < standard.length(); i++) {
                ALPHABET[standard.charAt(i)] = true;
                VALUE[standard.charAt(i)] = i;
            }
            ALPHABET['-'] = true;
            VALUE['-'] = 62;
            ALPHABET['_'] = true;
            VALUE['_'] = 63;
        }

        /** Decodes the groups of four starting at {@code align}; a trailing partial group yields its whole bytes. */
        static byte[] decode(byte[] chars, int align) {
            int usable = Math.max(0, chars.length - align);
            byte[] out = new byte[usable / 4 * 3 + Math.max(0, usable % 4 - 1)];
            int o = 0;
            int bits = 0;
            int buffer = 0;
            for (int i = align; i < chars.length && o < out.length; i++) {
                buffer = buffer << 6 | VALUE[chars[i] & 0xff];
                bits += 6;
                if (bits >= 8) {
                    bits -= 8;
                    out[o++] = (byte) (buffer >> bits);
                }
            }
            return out;
        }
    }
}
