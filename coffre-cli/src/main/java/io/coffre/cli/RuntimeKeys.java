package io.coffre.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;

/** The runtime (transfer) key an attestation token vouches for, read from a PEM public key or a JWK file. */
final class RuntimeKeys {
    private RuntimeKeys() {
    }

    /** @return an RSA public JWK usable for encryption, as {@code x-ms-runtime.keys} carries it */
    static ObjectNode read(Path file) {
        String text;
        try {
            text = Files.readString(file).strip();
        } catch (IOException e) {
            throw new CliError("Cannot read the runtime key " + file + ": " + e.getMessage(), e);
        }
        ObjectNode jwk;
        if (text.startsWith("{")) {
            JsonNode parsed = JsonArgs.read(text, "--runtime-key-file");
            if (!parsed.path("kty").asText().equals("RSA") || !parsed.hasNonNull("n") || !parsed.hasNonNull("e")) {
                throw new CliError(file + " is not an RSA JWK with 'n' and 'e'.");
            }
            jwk = Jwk.rsaPublic(publicKey(Jwk.integer(parsed, "n"), Jwk.integer(parsed, "e")));
        } else if (text.startsWith("-----BEGIN PUBLIC KEY-----")) {
            jwk = Jwk.rsaPublic(fromPem(text, file));
        } else {
            throw new CliError(file + " is neither a PEM public key (-----BEGIN PUBLIC KEY-----) nor a JWK. "
                    + "Convert an RSA key with `openssl rsa -in key.pem -pubout`.");
        }
        jwk.putArray("key_ops").add("encrypt");
        return jwk;
    }

    private static RSAPublicKey fromPem(String pem, Path file) {
        String base64 = pem.replace("-----BEGIN PUBLIC KEY-----", "").replace("-----END PUBLIC KEY-----", "")
                .replaceAll("\\s", "");
        try {
            return (RSAPublicKey) KeyFactory.getInstance("RSA")
                    .generatePublic(new X509EncodedKeySpec(Base64.getDecoder().decode(base64)));
        } catch (GeneralSecurityException | IllegalArgumentException | ClassCastException e) {
            throw new CliError(file + " does not hold an RSA public key: " + e.getMessage(), e);
        }
    }

    private static RSAPublicKey publicKey(java.math.BigInteger n, java.math.BigInteger e) {
        try {
            return (RSAPublicKey) KeyFactory.getInstance("RSA")
                    .generatePublic(new java.security.spec.RSAPublicKeySpec(n, e));
        } catch (GeneralSecurityException ex) {
            throw new CliError("The JWK is not a valid RSA public key: " + ex.getMessage(), ex);
        }
    }
}
