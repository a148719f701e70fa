package io.coffre.keyvault.crypto;

import io.coffre.arm.ArmException;
import java.util.Arrays;
import java.util.stream.Collectors;

/** The JSON Web Key types of Key Vault and Managed HSM ({@code kty} on the wire). */
public enum KeyType {
    RSA("RSA"), RSA_HSM("RSA-HSM"), EC("EC"), EC_HSM("EC-HSM"), OCT("oct"), OCT_HSM("oct-HSM");

    private final String wire;

    KeyType(String wire) {
        this.wire = wire;
    }

    public String wire() {
        return wire;
    }

    /** Parses a {@code kty} (case-insensitively, as clients vary). */
    public static KeyType fromWire(String kty) {
        for (KeyType type : values()) {
            if (type.wire.equalsIgnoreCase(kty)) {
                return type;
            }
        }
        throw ArmException.badRequest("BadParameter", (kty == null ? "The key type (kty) is missing"
                : "The key type (kty) '" + kty + "' is not supported") + "; valid values: "
                + Arrays.stream(values()).map(KeyType::wire).collect(Collectors.joining(", ")) + ".");
    }

    public boolean isRsa() {
        return this == RSA || this == RSA_HSM;
    }

    public boolean isEc() {
        return this == EC || this == EC_HSM;
    }

    public boolean isSymmetric() {
        return this == OCT || this == OCT_HSM;
    }

    public boolean isHsm() {
        return this == RSA_HSM || this == EC_HSM || this == OCT_HSM;
    }

    /** The RFC 7638 / JOSE family name: {@code RSA}, {@code EC} or {@code oct}, without the {@code -HSM} suffix. */
    String family() {
        return isRsa() ? "RSA" : isEc() ? "EC" : "oct";
    }

    boolean sameFamilyAs(KeyType other) {
        return family().equals(other.family());
    }
}
