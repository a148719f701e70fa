package io.coffre.server;

import io.coffre.Endpoints;
import io.coffre.arm.ArmException;
import io.coffre.identity.Identity;
import io.coffre.identity.Principal;
import io.javalin.http.Context;
import java.util.Optional;

/**
 * Who is calling, per request. Key-service hosts answer a request without a usable token with the Key Vault
 * challenge (401 + {@code WWW-Authenticate}) before the body is read, as the SDKs require; management hosts
 * answer with the ARM {@code AuthenticationFailed} error.
 */
public final class Authn {
    private static final String PRINCIPAL_ATTRIBUTE = "coffre.principal";
    static final String AUTHN_ATTRIBUTE = "coffre.authn";

    private final Identity identity;
    private final Endpoints endpoints;

    Authn(Identity identity, Endpoints endpoints) {
        this.identity = identity;
        this.endpoints = endpoints;
    }

    /** The authenticated caller of this request; throws a 401 {@link ArmException} when there is none. */
    public static Principal principal(Context ctx) {
        Principal cached = ctx.attribute(PRINCIPAL_ATTRIBUTE);
        if (cached != null) {
            return cached;
        }
        Authn authn = ctx.attribute(AUTHN_ATTRIBUTE);
        Principal principal = authn.authenticate(ctx);
        ctx.attribute(PRINCIPAL_ATTRIBUTE, principal);
        return principal;
    }

    private Principal authenticate(Context ctx) {
        RequestHost host = CoffreServer.host(ctx);
        String audience = switch (host.kind()) {
            case VAULT -> endpoints.vaultResource();
            case MANAGED_HSM -> endpoints.managedHsmResource();
            default -> endpoints.managementResource();
        };
        String header = ctx.header("Authorization");
        String token = header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)
                ? header.substring(7).trim() : null;
        Optional<Principal> principal = token == null || token.isEmpty()
                ? Optional.empty() : identity.authenticate(token, audience);
        if (principal.isEmpty() && token != null && host.kind() == RequestHost.Kind.MANAGEMENT) {
            // The directory (Graph-shaped) is served on the management host under its own audience.
            principal = identity.authenticate(token, endpoints.graphResource());
        }
        if (principal.isPresent()) {
            return principal.get();
        }
        if (host.isKeyService()) {
            ctx.header("WWW-Authenticate", "Bearer authorization=\"" + endpoints.loginAuthority() + "/"
                    + identity.tenantId() + "\", resource=\"" + audience + "\"");
            throw new ArmException(401, "Unauthorized", token == null
                    ? "AKV10000: Request is missing a Bearer or PoP token."
                    : "AKV10022: Invalid audience, issuer, signature or lifetime of the access token; get a token for "
                            + audience + " from " + endpoints.loginAuthority() + "/" + identity.tenantId() + ".");
        }
        ctx.header("WWW-Authenticate", "Bearer authorization_uri=\"" + endpoints.loginAuthority() + "/"
                + identity.tenantId() + "\", error=\"invalid_token\"");
        throw new ArmException(401, token == null ? "AuthenticationFailed" : "InvalidAuthenticationToken",
                token == null
                        ? "Authentication failed. The 'Authorization' header is missing; send 'Bearer <token>' for "
                                + audience + "."
                        : "The access token is invalid, expired or not for " + audience + "; get a new one.");
    }
}
