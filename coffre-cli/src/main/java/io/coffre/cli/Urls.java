package io.coffre.cli;

import java.nio.charset.StandardCharsets;

/** Percent-encoding for the pieces of URLs the CLI builds from user input. */
final class Urls {
    private Urls() {
    }

    /**
     * A path segment or query value: everything but RFC 3986 unreserved characters is encoded, so a {@code /}
     * cannot add a segment and spaces in OData filters become {@code %20}, never {@code +}.
     */
    static String encode(String value) {
        return encode(value, "");
    }

    /** A path that may contain slashes, such as an ARM scope or a Managed HSM role scope. */
    static String path(String value) {
        return encode(value, "/");
    }

    private static String encode(String value, String keep) {
        StringBuilder out = new StringBuilder();
        for (byte b : value.getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xff);
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || "-._~".indexOf(c) >= 0
                    || keep.indexOf(c) >= 0) {
                out.append(c);
            } else {
                out.append('%').append(String.format("%02X", b & 0xff));
            }
        }
        return out.toString();
    }
}
