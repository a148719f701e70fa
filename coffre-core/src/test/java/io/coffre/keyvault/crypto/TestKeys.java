package io.coffre.keyvault.crypto;

import com.fasterxml.jackson.databind.JsonNode;
import io.coffre.json.Json;
import java.math.BigInteger;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Keys shared by the crypto tests: each kind is generated once per test JVM (RSA-4096 takes seconds), plus the
 * RFC 7517 appendix A.2 example keys as known answers.
 */
final class TestKeys {
    private static final Map<String, KeyMaterial> GENERATED = new ConcurrentHashMap<>();

    /** RFC 7517 A.2; its public half is the RFC 7638 §3.1 thumbprint example. */
    static final String RFC7517_RSA = """
            {"kty":"RSA",
             "n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
             "e":"AQAB",
             "d":"X4cTteJY_gn4FYPsXB8rdXix5vwsg1FLN5E3EaG6RJoVH-HLLKD9M7dx5oo7GURknchnrRweUkC7hT5fJLM0WbFAKNLWY2vv7B6NqXSzUvxT0_YSfqijwp3RTzlBaCxWp4doFk5N2o8Gy_nHNKroADIkJ46pRUohsXywbReAdYaMwFs9tv8d_cPVY3i07a3t8MN6TNwm0dSawm9v47UiCl3Sk5ZiG7xojPLu4sbg1U2jx4IBTNBznbJSzFHK66jT8bgkuqsk0GjskDJk19Z4qwjwbsnn4j2WBii3RL-Us2lGVkY8fkFzme1z0HbIkfz0Y6mqnOYtqc0X4jfcKoAC8Q",
             "p":"83i-7IvMGXoMXCskv73TKr8637FiO7Z27zv8oj6pbWUQyLPQBQxtPVnwD20R-60eTDmD2ujnMt5PoqMrm8RfmNhVWDtjjMmCMjOpSXicFHj7XOuVIYQyqVWlWEh6dN36GVZYk93N8Bc9vY41xy8B9RzzOGVQzXvNEvn7O0nVbfs",
             "q":"3dfOR9cuYq-0S-mkFLzgItgMEfFzB2q3hWehMuG0oCuqnb3vobLyumqjVZQO1dIrdwgTnCdpYzBcOfW5r370AFXjiWft_NGEiovonizhKpo9VVS78TzFgxkIdrecRezsZ-1kYd_s1qDbxtkDEgfAITAG9LUnADun4vIcb6yelxk",
             "dp":"G4sPXkc6Ya9y8oJW9_ILj4xuppu0lzi_H7VTkS8xj5SdX3coE0oimYwxIi2emTAue0UOa5dpgFGyBJ4c8tQ2VF402XRugKDTP8akYhFo5tAA77Qe_NmtuYZc3C3m3I24G2GvR5sSDxUyAN2zq8Lfn9EUms6rY3Ob8YeiKkTiBj0",
             "dq":"s9lAH9fggBsoFR8Oac2R_E2gw282rT2kGOAhvIllETE1efrA6huUUvMfBcMpn8lqeW6vzznYY5SSQF7pMdC_agI3nG8Ibp1BUb0JUiraRNqUfLhcQb_d9GF4Dh7e74WbRsobRonujTYN1xCaP6TO61jvWrX-L18txXw494Q_cgk",
             "qi":"GyM_p6JrXySiz1toFgKbWV-JdI3jQ4ypu9rbMWx3rQJBfmt0FoYzgUIZEVFEcOqwemRN81zoDAaa-Bk0KWNGDjJHZDdDmFhW3AN7lI-puxk_mHZGJ11rxyR8O55XLSe3SPmRfKwZI6yU24ZxvQKFYItdldUKGzO6Ia6zTKhAVRU",
             "alg":"RS256","kid":"2011-04-29"}""";

    /** RFC 7517 A.2 EC private key on P-256. */
    static final String RFC7517_EC = """
            {"kty":"EC","crv":"P-256",
             "x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4",
             "y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM",
             "d":"870MB6gfuTJ4HtUnUvYMyJpr5eUZNP4Bk43bVdj3eAE",
             "use":"enc","kid":"1"}""";

    private TestKeys() {
    }

    static KeyMaterial rsa(int bits) {
        return GENERATED.computeIfAbsent("RSA-HSM/" + bits, k -> KeyMaterial.generate(KeyType.RSA_HSM, bits, null,
                null));
    }

    static KeyMaterial ec(String crv) {
        return GENERATED.computeIfAbsent("EC-HSM/" + crv, k -> KeyMaterial.generate(KeyType.EC_HSM, null, crv,
                null));
    }

    static KeyMaterial oct(int bits) {
        return GENERATED.computeIfAbsent("oct-HSM/" + bits, k -> KeyMaterial.generate(KeyType.OCT_HSM, bits, null,
                null));
    }

    static JsonNode json(String text) {
        return Json.parse(text);
    }

    /** An IEEE P1363 (JWS) ECDSA signature R‖S as ASN.1 DER, written independently of the code under test. */
    static byte[] toDer(byte[] rs) {
        int half = rs.length / 2;
        byte[] r = new BigInteger(1, Arrays.copyOfRange(rs, 0, half)).toByteArray();
        byte[] s = new BigInteger(1, Arrays.copyOfRange(rs, half, rs.length)).toByteArray();
        byte[] body = concat(derHeader(0x02, r.length), r, derHeader(0x02, s.length), s);
        return concat(derHeader(0x30, body.length), body);
    }

    /** ASN.1 DER ECDSA signature to fixed-length R‖S. */
    static byte[] fromDer(byte[] der, int fieldBytes) {
        int[] offset = {0};
        readHeader(der, offset); // SEQUENCE
        byte[] r = readInteger(der, offset);
        byte[] s = readInteger(der, offset);
        return concat(Jwk.fixedBytes(new BigInteger(1, r), fieldBytes), Jwk.fixedBytes(new BigInteger(1, s),
                fieldBytes));
    }

    private static byte[] derHeader(int tag, int length) {
        return length < 0x80 ? new byte[] {(byte) tag, (byte) length}
                : new byte[] {(byte) tag, (byte) 0x81, (byte) length};
    }

    private static int readHeader(byte[] der, int[] offset) {
        offset[0]++; // tag
        int length = der[offset[0]++] & 0xff;
        if (length == 0x81) {
            length = der[offset[0]++] & 0xff;
        }
        return length;
    }

    private static byte[] readInteger(byte[] der, int[] offset) {
        int length = readHeader(der, offset);
        byte[] value = Arrays.copyOfRange(der, offset[0], offset[0] + length);
        offset[0] += length;
        return value;
    }

    static byte[] concat(byte[]... parts) {
        int total = Arrays.stream(parts).mapToInt(p -> p.length).sum();
        byte[] out = new byte[total];
        int at = 0;
        for (byte[] part : parts) {
            System.arraycopy(part, 0, out, at, part.length);
            at += part.length;
        }
        return out;
    }
}
