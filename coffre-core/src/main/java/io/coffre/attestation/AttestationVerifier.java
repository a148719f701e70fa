package io.coffre.attestation;

import java.util.Map;

/** Verifies an attestation token (a JWS from a known attestation authority) and returns its claims. */
public interface AttestationVerifier {
    /**
     * @return the token's claims, including {@code iss}
     * @throws io.coffre.arm.ArmException (400/403) naming what is wrong: not a JWS, unknown issuer, bad signature,
     *         expired or not yet valid
     */
    Map<String, Object> verify(String token);
}
