package io.coffre.keyvault.crypto;

import java.math.BigInteger;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPairGenerator;
import java.security.Provider;
import java.security.Signature;
import java.security.spec.ECFieldFp;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.util.Arrays;
import java.util.stream.Collectors;
import org.bouncycastle.jce.provider.BouncyCastleProvider;

/** The elliptic curves of Key Vault ({@code crv}) and the JCA provider that implements each. */
enum EcCurve {
    P_256("P-256", "secp256r1", 256, false),
    P_384("P-384", "secp384r1", 384, false),
    P_521("P-521", "secp521r1", 521, false),
    /** secp256k1 left the JDK's SunEC in JDK 16; only this curve goes through BouncyCastle. */
    P_256K("P-256K", "secp256k1", 256, true);

    private final String wire;
    private final String standardName;
    private final int bits;
    private final boolean bouncyCastle;
    private volatile ECParameterSpec parameters;

    EcCurve(String wire, String standardName, int bits, boolean bouncyCastle) {
        this.wire = wire;
        this.standardName = standardName;
        this.bits = bits;
        this.bouncyCastle = bouncyCastle;
    }

    String wire() {
        return wire;
    }

    int bits() {
        return bits;
    }

    /** Length of a coordinate, of {@code d}, and of each half of an R‖S signature. */
    int fieldBytes() {
        return (bits + 7) / 8;
    }

    static EcCurve fromWire(String crv) {
        for (EcCurve curve : values()) {
            if (curve.wire.equalsIgnoreCase(crv)) {
                return curve;
            }
        }
        throw CryptoErrors.badParameter((crv == null ? "The EC key lacks a curve (crv)"
                : "The curve (crv) '" + crv + "' is not supported") + "; valid values: " + names() + ".");
    }

    static String names() {
        return Arrays.stream(values()).map(EcCurve::wire).collect(Collectors.joining(", "));
    }

    KeyPairGenerator keyPairGenerator() throws GeneralSecurityException {
        KeyPairGenerator generator = bouncyCastle ? KeyPairGenerator.getInstance("EC", BouncyCastle.PROVIDER)
                : KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec(standardName));
        return generator;
    }

    KeyFactory keyFactory() throws GeneralSecurityException {
        return bouncyCastle ? KeyFactory.getInstance("EC", BouncyCastle.PROVIDER) : KeyFactory.getInstance("EC");
    }

    /** ECDSA over a caller-supplied digest, signature as fixed-length R‖S (IEEE P1363, which JWS uses). */
    Signature rawSignature() throws GeneralSecurityException {
        String algorithm = "NONEwithECDSAinP1363Format";
        return bouncyCastle ? Signature.getInstance(algorithm, BouncyCastle.PROVIDER) : Signature.getInstance(algorithm);
    }

    ECParameterSpec parameters() {
        ECParameterSpec spec = parameters;
        if (spec == null) {
            try {
                AlgorithmParameters params = bouncyCastle ? AlgorithmParameters.getInstance("EC", BouncyCastle.PROVIDER)
                        : AlgorithmParameters.getInstance("EC");
                params.init(new ECGenParameterSpec(standardName));
                spec = params.getParameterSpec(ECParameterSpec.class);
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("curve " + standardName + " is unavailable", e);
            }
            parameters = spec;
        }
        return spec;
    }

    /** Whether (x, y) satisfies y² = x³ + ax + b over the curve's prime field. */
    boolean contains(ECPoint point) {
        BigInteger p = ((ECFieldFp) parameters().getCurve().getField()).getP();
        BigInteger x = point.getAffineX();
        BigInteger y = point.getAffineY();
        if (x.signum() < 0 || x.compareTo(p) >= 0 || y.signum() < 0 || y.compareTo(p) >= 0) {
            return false;
        }
        BigInteger a = parameters().getCurve().getA();
        BigInteger b = parameters().getCurve().getB();
        BigInteger right = x.pow(3).add(a.multiply(x)).add(b).mod(p);
        return y.modPow(BigInteger.TWO, p).equals(right);
    }

    /** Loaded only when secp256k1 is used; never registered globally. */
    private static final class BouncyCastle {
        static final Provider PROVIDER = new BouncyCastleProvider();
    }
}
