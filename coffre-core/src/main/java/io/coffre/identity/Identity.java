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

    record Credentials(Principal principal, String clientSecret) {
    }

    Credentials createServicePrincipal(String displayName);

    /** A system-assigned managed identity (e.g. of a Disk Encryption Set); it signs in only from inside Coffre. */
    Principal createManagedIdentity(String displayName);

    void deletePrincipal(String objectId);

    /** Replaces every client secret of the service principal with a new one, returned once. */
    String resetSecret(String idOrAppId);

    List<Principal> list(String displayName);

    /** Issues an access token for {@code audiences} (each e.g. {@code https://vault.coffre.localhost}). */
    String issueToken(Principal principal, List<String> audiences, Duration lifetime);

    record TokenResponse(String accessToken, long expiresIn, String audience) {
    }

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
