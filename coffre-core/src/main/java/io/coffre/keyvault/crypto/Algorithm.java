package io.coffre.keyvault.crypto;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/** The JSON Web Algorithms of Key Vault / Managed HSM key operations, and which key each one needs. */
enum Algorithm {
    RSA1_5("RSA1_5", Kind.RSA_ENCRYPTION, null),
    RSA_OAEP("RSA-OAEP", Kind.RSA_ENCRYPTION, "SHA-1"),
    RSA_OAEP_256("RSA-OAEP-256", Kind.RSA_ENCRYPTION, "SHA-256"),
    A128KW("A128KW", Kind.AES_KEY_WRAP, 128),
    A192KW("A192KW", Kind.AES_KEY_WRAP, 192),
    A256KW("A256KW", Kind.AES_KEY_WRAP, 256),
    CKM_AES_KEY_WRAP("CKM_AES_KEY_WRAP", Kind.AES_KEY_WRAP, 0),
    CKM_AES_KEY_WRAP_PAD("CKM_AES_KEY_WRAP_PAD", Kind.AES_KEY_WRAP_PAD, 0),
    A128GCM("A128GCM", Kind.AES_GCM, 128),
    A192GCM("A192GCM", Kind.AES_GCM, 192),
    A256GCM("A256GCM", Kind.AES_GCM, 256),
    A128CBC("A128CBC", Kind.AES_CBC, 128),
    A192CBC("A192CBC", Kind.AES_CBC, 192),
    A256CBC("A256CBC", Kind.AES_CBC, 256),
    A128CBCPAD("A128CBCPAD", Kind.AES_CBC_PAD, 128),
    A192CBCPAD("A192CBCPAD", Kind.AES_CBC_PAD, 192),
    A256CBCPAD("A256CBCPAD", Kind.AES_CBC_PAD, 256),
    PS256("PS256", Kind.RSA_PSS, "SHA-256"),
    PS384("PS384", Kind.RSA_PSS, "SHA-384"),
    PS512("PS512", Kind.RSA_PSS, "SHA-512"),
    RS256("RS256", Kind.RSA_PKCS1, "SHA-256"),
    RS384("RS384", Kind.RSA_PKCS1, "SHA-384"),
    RS512("RS512", Kind.RSA_PKCS1, "SHA-512"),
    /** PKCS#1 v1.5 signature of the given bytes as they are, without a DigestInfo. */
    RSNULL("RSNULL", Kind.RSA_PKCS1, null),
    ES256("ES256", EcCurve.P_256, "SHA-256"),
    ES256K("ES256K", EcCurve.P_256K, "SHA-256"),
    ES384("ES384", EcCurve.P_384, "SHA-384"),
    ES512("ES512", EcCurve.P_521, "SHA-512"),
    HS256("HS256", Kind.HMAC, "SHA-256"),
    HS384("HS384", Kind.HMAC, "SHA-384"),
    HS512("HS512", Kind.HMAC, "SHA-512");

    /** What a key is asked to do; the wire names are those of {@code key_ops}. */
    enum Operation {
        ENCRYPT("encrypt"), DECRYPT("decrypt"), WRAP_KEY("wrapKey"), UNWRAP_KEY("unwrapKey"), SIGN("sign"),
        VERIFY("verify");

        private final String wire;

        Operation(String wire) {
            this.wire = wire;
        }

        String wire() {
            return wire;
        }
    }

    /** A family of algorithms sharing an implementation, the key types it needs and the operations it offers. */
    enum Kind {
        RSA_ENCRYPTION(KeyType::isRsa, Operation.ENCRYPT, Operation.DECRYPT, Operation.WRAP_KEY, Operation.UNWRAP_KEY),
        RSA_PSS(KeyType::isRsa, Operation.SIGN, Operation.VERIFY),
        RSA_PKCS1(KeyType::isRsa, Operation.SIGN, Operation.VERIFY),
        ECDSA(KeyType::isEc, Operation.SIGN, Operation.VERIFY),
        AES_KEY_WRAP(KeyType::isSymmetric, Operation.WRAP_KEY, Operation.UNWRAP_KEY, Operation.ENCRYPT,
                Operation.DECRYPT),
        AES_KEY_WRAP_PAD(KeyType::isSymmetric, Operation.WRAP_KEY, Operation.UNWRAP_KEY, Operation.ENCRYPT,
                Operation.DECRYPT),
        AES_GCM(KeyType::isSymmetric, Operation.ENCRYPT, Operation.DECRYPT),
        AES_CBC(KeyType::isSymmetric, Operation.ENCRYPT, Operation.DECRYPT),
        AES_CBC_PAD(KeyType::isSymmetric, Operation.ENCRYPT, Operation.DECRYPT),
        HMAC(KeyType::isSymmetric, Operation.SIGN, Operation.VERIFY);

        private final Predicate<KeyType> keyTypes;
        private final Set<Operation> operations;

        Kind(Predicate<KeyType> keyTypes, Operation first, Operation... rest) {
            this.keyTypes = keyTypes;
            this.operations = EnumSet.of(first, rest);
        }
    }

    private final String wire;
    private final Kind kind;
    /** JCA digest name; null for RSA1_5, RSNULL and the AES algorithms. */
    private final String hash;
    /** AES key length the algorithm needs; 0 when any AES key length will do. */
    private final int aesBits;
    private final EcCurve curve;

    Algorithm(String wire, Kind kind, String hash) {
        this(wire, kind, hash, 0, null);
    }

    Algorithm(String wire, Kind kind, int aesBits) {
        this(wire, kind, null, aesBits, null);
    }

    Algorithm(String wire, EcCurve curve, String hash) {
        this(wire, Kind.ECDSA, hash, 0, curve);
    }

    Algorithm(String wire, Kind kind, String hash, int aesBits, EcCurve curve) {
        this.wire = wire;
        this.kind = kind;
        this.hash = hash;
        this.aesBits = aesBits;
        this.curve = curve;
    }

    String wire() {
        return wire;
    }

    Kind kind() {
        return kind;
    }

    String hash() {
        return hash;
    }

    /** Length in bytes of the digest a signature algorithm takes; 0 when it takes any bytes (RSNULL, HMAC). */
    int digestBytes() {
        return hash == null || kind == Kind.HMAC ? 0 : hashBytes();
    }

    int hashBytes() {
        return switch (hash) {
            case "SHA-1" -> 20;
            case "SHA-256" -> 32;
            case "SHA-384" -> 48;
            case "SHA-512" -> 64;
            default -> throw new IllegalStateException("unknown hash " + hash);
        };
    }

    /**
     * The algorithm named {@code alg} if it can perform {@code operation} with {@code key}; otherwise a 400
     * BadParameter that names the algorithm, the key and the algorithms that would work.
     */
    static Algorithm resolve(String alg, Operation operation, KeyMaterial key) {
        String purpose = operation.wire() + " with " + article(key) + " key";
        if (alg == null || alg.isBlank()) {
            throw CryptoErrors.badParameter("The algorithm (alg) is required to " + purpose + "; "
                    + advice(operation, key));
        }
        Algorithm found = Arrays.stream(values()).filter(a -> a.wire.equalsIgnoreCase(alg)).findFirst()
                .orElseThrow(() -> CryptoErrors.badParameter("The algorithm '" + alg + "' is not supported; to "
                        + purpose + " " + advice(operation, key)));
        if (!found.kind.keyTypes.test(key.type()) || !found.kind.operations.contains(operation)) {
            throw CryptoErrors.badParameter("The algorithm '" + found.wire + "' cannot " + purpose + "; "
                    + advice(operation, key));
        }
        String mismatch = found.keyMismatch(key);
        if (mismatch != null) {
            throw CryptoErrors.badParameter(mismatch + "; to " + purpose + " " + advice(operation, key));
        }
        return found;
    }

    /** Why this key cannot serve this algorithm (length or curve), or null when it can. */
    private String keyMismatch(KeyMaterial key) {
        if (aesBits != 0 && key.keySize() != aesBits) {
            return "The algorithm '" + wire + "' needs a " + aesBits + "-bit key, but this " + key.type().wire()
                    + " key has " + key.keySize() + " bits";
        }
        if (curve != null && key.ecCurve() != curve) {
            return "The algorithm '" + wire + "' needs a key on curve " + curve.wire() + ", but this "
                    + key.type().wire() + " key is on " + key.ecCurve().wire();
        }
        return null;
    }

    /** "use one of: ..." listing the algorithms that would work with this key, or why none does. */
    private static String advice(Operation operation, KeyMaterial key) {
        String names = Arrays.stream(values())
                .filter(a -> a.kind.keyTypes.test(key.type()) && a.kind.operations.contains(operation))
                .filter(a -> a.keyMismatch(key) == null)
                .map(Algorithm::wire).collect(Collectors.joining(", "));
        return names.isEmpty() ? key.type().wire() + " keys cannot " + operation.wire() + "."
                : "use one of: " + names + ".";
    }

    /** "an RSA-HSM 2048-bit", "an EC P-256", "an oct-HSM 256-bit": every key type starts with a vowel sound. */
    private static String article(KeyMaterial key) {
        return "an " + key.type().wire() + " "
                + (key.type().isEc() ? key.ecCurve().wire() : key.keySize() + "-bit");
    }
}
