package io.coffre.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.coffre.json.Json;
import java.io.IOException;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPrivateKey;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Arrays;
import javax.crypto.Cipher;
import javax.crypto.spec.OAEPParameterSpec;
import javax.crypto.spec.PSource;
import javax.crypto.spec.SecretKeySpec;

/**
 * The receiving end of Secure Key Release, as a confidential VM runs it: open the token that
 * {@code POST .../keys/{name}/{version}/release} returned with the attested runtime key's private half.
 *
 * <p>The token is a JWS whose payload carries {@code response.key.key.key_hsm} = base64url JSON with a
 * {@code ciphertext}: RSA-OAEP(runtime key, H) of a 32-byte AES key, then that AES key's RFC 5649 wrap (AES-KWP) of
 * the released key — PKCS#8 DER for RSA keys, raw bytes for symmetric ones. H follows {@code request.enc}:
 * SHA-1 for {@code CKM_RSA_AES_KEY_WRAP} (the default), SHA-256 / SHA-384 for {@code RSA_AES_KEY_WRAP_256/384}.
 * The JWS signature is not checked here: a confidential VM trusts the key it can open, not the envelope.
 */
final class ReleasedKey {
    /** @param material the released key: PKCS#8 DER for RSA keys, raw bytes for symmetric keys */
    record Opened(String kid, String enc, JsonNode publicKey, byte[] material) {
    }

    private ReleasedKey() {
    }

    static Opened open(String releaseToken, RSAPrivateKey runtimeKey) {
        String[] parts = releaseToken.split("\\.");
        if (parts.length != 3) {
            throw new CliError("The release response is not a compact JWS (header.payload.signature).");
        }
        JsonNode payload = readJson(Json.unb64url(parts[1], "release token payload"), "release token payload");
        JsonNode key = payload.path("response").path("key").path("key");
        String keyHsm = key.path("key_hsm").asText("");
        if (keyHsm.isEmpty()) {
            throw new CliError("The release token has no response.key.key.key_hsm to open.");
        }
        String enc = payload.path("request").path("enc").asText("CKM_RSA_AES_KEY_WRAP");
        byte[] ciphertext = Json.unb64url(readJson(Json.unb64url(keyHsm, "key_hsm"), "key_hsm")
                .path("ciphertext").asText(null), "key_hsm.ciphertext");
        return new Opened(key.path("kid").asText(null), enc, key, unwrap(ciphertext, enc, runtimeKey));
    }

    /** RSA-OAEP-unwraps the transfer key with the runtime key, then AES-KWP-unwraps the target key with it. */
    static byte[] unwrap(byte[] ciphertext, String enc, RSAPrivateKey runtimeKey) {
        String hash = switch (enc) {
            case "CKM_RSA_AES_KEY_WRAP" -> "SHA-1";
            case "RSA_AES_KEY_WRAP_256" -> "SHA-256";
            case "RSA_AES_KEY_WRAP_384" -> "SHA-384";
            default -> throw new CliError("Unknown release wrapping '" + enc + "': expected CKM_RSA_AES_KEY_WRAP, "
                    + "RSA_AES_KEY_WRAP_256 or RSA_AES_KEY_WRAP_384.");
        };
        int k = (runtimeKey.getModulus().bitLength() + 7) / 8;
        if (ciphertext.length <= k) {
            throw new CliError("The released ciphertext (" + ciphertext.length + " bytes) is too short for a "
                    + (k * 8) + "-bit runtime key.");
        }
        byte[] transferKey;
        try {
            Cipher oaep = Cipher.getInstance("RSA/ECB/OAEPPadding");
            oaep.init(Cipher.DECRYPT_MODE, runtimeKey, new OAEPParameterSpec(hash, "MGF1",
                    new MGF1ParameterSpec(hash), PSource.PSpecified.DEFAULT));
            transferKey = oaep.doFinal(ciphertext, 0, k);
        } catch (GeneralSecurityException e) {
            throw new CliError("The released key does not open with this runtime key (RSA-OAEP " + hash
                    + " failed): was the attestation token made for another runtime key?", e);
        }
        try {
            Cipher kwp = Cipher.getInstance("AES/KWP/NoPadding");
            kwp.init(Cipher.DECRYPT_MODE, new SecretKeySpec(transferKey, "AES"));
            return kwp.doFinal(Arrays.copyOfRange(ciphertext, k, ciphertext.length));
        } catch (GeneralSecurityException e) {
            throw new CliError("The released key's AES-KWP layer does not unwrap (" + e.getMessage()
                    + "): the blob is damaged.", e);
        } finally {
            Arrays.fill(transferKey, (byte) 0);
        }
    }

    static RSAPrivateCrtKey rsaPrivateKey(byte[] pkcs8) {
        try {
            return (RSAPrivateCrtKey) KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
        } catch (GeneralSecurityException | ClassCastException e) {
            throw new CliError("The released key is not a PKCS#8 RSA private key: " + e.getMessage(), e);
        }
    }

    /** True when the private key is the one whose public half is the JWK ({@code n}, {@code e}). */
    static boolean matches(RSAPrivateCrtKey privateKey, JsonNode publicJwk) {
        BigInteger n = Jwk.integer(publicJwk, "n");
        BigInteger e = Jwk.integer(publicJwk, "e");
        return privateKey.getModulus().equals(n) && privateKey.getPublicExponent().equals(e);
    }

    private static JsonNode readJson(byte[] bytes, String what) {
        try {
            return Json.MAPPER.readTree(bytes);
        } catch (IOException e) {
            throw new CliError("The " + what + " is not JSON: " + e.getMessage(), e);
        }
    }
}
