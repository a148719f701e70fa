package io.coffre.identity;

import java.time.Duration;
import java.util.List;

/**
 * The built-in directory and token issuer (Entra-ID-shaped): one tenant, its principals, their client secrets,
 * and RS256 access tokens that {@link Authenticator} accepts.
 */
public interface Identity extends Authenticator, Directory {
    String tenantId();

    /** The subscription created on first start. */
    String defaultSubscriptionId();

    /** The administrator service principal created on first start. */
    Principal admin();

    /** A service principal's client secret, shown once; {@code keyId} names it (Graph's passwordCredential). */
    record Credentials(Principal principal, String clientSecret, String keyId) {
    }

    Credentials createServicePrincipal(String displayName);

    /** A system-assigned managed identity (e.g. of a Disk Encryption Set); it signs in only from inside Coffre. */
    Principal createManagedIdentity(String displayName);

    /**
     * @throws io.coffre.arm.ArmException 404 for an unknown principal, 400 for the administrator and the
     *         first-party apps
     */
    void deletePrincipal(String idOrAppId);

    /**
     * Replaces every client secret of the service principal with a new one, returned once.
     *
     * @throws io.coffre.arm.ArmException 404 for an unknown principal, 400 for managed identities and the
     *         first-party apps (they act only from inside Coffre)
     */
    Credentials resetSecret(String idOrAppId);

    List<Principal> list(String displayName);

    /** Issues an access token for {@code audiences} (each e.g. {@code https://vault.coffre.localhost}). */
    String issueToken(Principal principal, List<String> audiences, Duration lifetime);

    record TokenResponse(String accessToken, long expiresIn, String audience) {
    }

    /**
     * The tenant an authority path names: this tenant's id or one of the aliases {@code common},
     * {@code organizations}, {@code adfs}.
     *
     * @return this tenant's id
     * @throws OAuthException 400 {@code AADSTS90002} for any other tenant
     */
    String resolveTenant(String tenantOrAlias);

    /**
     * OAuth2 client-credentials grant as Entra ID answers it.
     *
     * @param scope space-separated scopes; the one ending in {@code /.default} names the resource
     * @throws OAuthException with the {@code error} / {@code error_description} Entra would send
     */
    TokenResponse clientCredentials(String tenant, String clientId, String clientSecret, String scope);

    /** JWKS of the token signing keys (public parts), for OIDC discovery. */
    String jwks();

    /** Issuer written into access tokens ({@code https://sts.windows.net/{tenant}/}, as az expects). */
    String issuer();
}
