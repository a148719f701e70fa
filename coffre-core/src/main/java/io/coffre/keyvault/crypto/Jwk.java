package io.coffre.keyvault.crypto;

import com.fasterxml.jackson.databind.JsonNode;
import io.coffre.json.Json;
import java.math.BigInteger;
import java.util.Arrays;

/** JSON Web Key number encodings: base64url without padding of unsigned big-endian integers. */
final class Jwk {
    private Jwk() {
    }

    /** Minimal encoding (no leading zero byte), as {@code n} and {@code e} require. */
    static String unsigned(BigInteger value) {
        byte[] bytes = value.toByteArray();
        int start = 0;
        while (start < bytes.length - 1 && bytes[start] == 0) {
            start++;
        }
        return Json.b64url(Arrays.copyOfRange(bytes, start, bytes.length));
    }

    /** Fixed-length encoding, as EC coordinates and {@code d} require. */
    static String fixed(BigInteger value, int length) {
        return Json.b64url(fixedBytes(value, length));
    }

    static byte[] fixedBytes(BigInteger value, int length) {
        byte[] bytes = value.toByteArray();
        if (bytes.length == length) {
            return bytes;
        }
        byte[] out = new byte[length];
        if (bytes.length > length) { // only a sign byte can make it longer
            System.arraycopy(bytes, bytes.length - length, out, 0, length);
        } else {
            System.arraycopy(bytes, 0, out, length - bytes.length, bytes.length);
        }
        return out;
    }

    static String text(JsonNode jwk, String field) {
        JsonNode node = jwk.get(field);
        return node == null || node.isNull() ? null : node.asText();
    }

    /** A required unsigned integer member; {@code what} says which key the caller is importing. */
    static BigInteger integer(JsonNode jwk, String field, String what) {
        return new BigInteger(1, bytes(jwk, field, what));
    }

    static byte[] bytes(JsonNode jwk, String field, String what) {
        String value = text(jwk, field);
        if (value == null || value.isEmpty()) {
            throw CryptoErrors.badParameter("The " + what + " lacks '" + field + "'.");
        }
        return Json.unb64url(value, "key." + field);
    }
}
