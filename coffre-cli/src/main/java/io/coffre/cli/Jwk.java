package io.coffre.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.json.Json;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.interfaces.RSAPublicKey;
import java.util.Arrays;

/** The few JSON Web Key operations the CLI needs (RFC 7517 / 7638). */
final class Jwk {
    private Jwk() {
    }

    static ObjectNode rsaPublic(RSAPublicKey key) {
        ObjectNode jwk = Json.object();
        jwk.put("kty", "RSA");
        jwk.put("n", Json.b64url(unsigned(key.getModulus())));
        jwk.put("e", Json.b64url(unsigned(key.getPublicExponent())));
        return jwk;
    }

    /** RFC 7638 SHA-256 thumbprint of an RSA or EC key (HSM key types hash like their software twins). */
    static String thumbprint(JsonNode jwk) {
        String kty = jwk.path("kty").asText().replace("-HSM", "");
        String canonical = switch (kty) {
            case "RSA" -> "{\"e\":\"" + jwk.path("e").asText() + "\",\"kty\":\"RSA\",\"n\":\""
                    + jwk.path("n").asText() + "\"}";
            case "EC" -> "{\"crv\":\"" + jwk.path("crv").asText() + "\",\"kty\":\"EC\",\"x\":\""
                    + jwk.path("x").asText() + "\",\"y\":\"" + jwk.path("y").asText() + "\"}";
            default -> throw new CliError("No thumbprint for key type '" + jwk.path("kty").asText() + "'.");
        };
        try {
            return Json.b64url(MessageDigest.getInstance("SHA-256").digest(canonical.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Big-endian magnitude without the sign byte, as JWK wants it. */
    static byte[] unsigned(BigInteger value) {
        byte[] bytes = value.toByteArray();
        return bytes.length > 1 && bytes[0] == 0 ? Arrays.copyOfRange(bytes, 1, bytes.length) : bytes;
    }

    static BigInteger integer(JsonNode jwk, String field) {
        return new BigInteger(1, Json.unb64url(jwk.path(field).asText(null), field));
    }
}
