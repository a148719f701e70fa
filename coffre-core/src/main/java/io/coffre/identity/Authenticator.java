package io.coffre.identity;

import java.util.Optional;

/** Turns a bearer token into the principal it was issued to, checking signature, expiry and audience. */
public interface Authenticator {
    /**
     * @param audience the resource the token must be for (e.g. {@code https://vault.coffre.localhost});
     *                 a token for another audience is refused
     * @return the principal, or empty when the token is missing, forged, expired or for another audience
     */
    Optional<Principal> authenticate(String bearerToken, String audience);
}
