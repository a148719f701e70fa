package io.coffre.server;

import io.coffre.CoffreCore;
import io.coffre.Endpoints;
import io.coffre.arm.ArmException;
import io.coffre.identity.Identity;
import io.coffre.identity.OAuthException;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Entra-ID-shaped sign-in surface (no authentication needed): the OAuth2 token endpoint (v2, v1 and ADFS
 * paths), OIDC discovery and signing keys, MSAL's instance discovery, and the ARM cloud metadata that
 * {@code az cloud register} reads.
 */
final class IdentityRoutes implements RouteModule {
    private static final Pattern AADSTS_CODE = Pattern.compile("^AADSTS(\\d+):");
    private static final DateTimeFormatter ENTRA_TIMESTAMP =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss'Z'").withZone(ZoneOffset.UTC);
    private static final String CORRELATION_HEADER = "client-request-id";

    private final CoffreCore core;
    private final Identity identity;
    private final Endpoints endpoints;

    IdentityRoutes(CoffreCore core) {
        this.core = core;
        this.identity = core.identity();
        this.endpoints = core.endpoints();
    }

    @Override
    public void register(RoutesConfig routes) {
        routes.exception(OAuthException.class, this::renderOAuthError);
        // "/{tenant}/..." also serves the ADFS paths (tenant "adfs"): /adfs/oauth2/token,
        // /adfs/.well-known/openid-configuration, /adfs/discovery/keys.
        routes.post("/{tenant}/oauth2/v2.0/token", management(this::token));
        routes.post("/{tenant}/oauth2/token", management(this::token));
        routes.get("/{tenant}/v2.0/.well-known/openid-configuration",
                management(ctx -> ctx.json(discovery(ctx, true))));
        routes.get("/{tenant}/.well-known/openid-configuration",
                management(ctx -> ctx.json(discovery(ctx, false))));
        routes.get("/{tenant}/discovery/v2.0/keys", management(this::keys));
        routes.get("/{tenant}/discovery/keys", management(this::keys));
        routes.get("/common/discovery/instance", management(this::instanceDiscovery));
        routes.get("/metadata/endpoints", management(this::cloudMetadata));
    }

    private static Handler management(Handler handler) {
        return Hosts.only(RequestHost.Kind.MANAGEMENT, handler);
    }

    private void token(Context ctx) {
        ctx.header(CORRELATION_HEADER, correlationId(ctx));
        String grant = ctx.formParam("grant_type");
        if (grant == null || grant.isBlank()) {
            throw new OAuthException(400, "invalid_request",
                    "AADSTS900144: The request body must contain the following parameter: 'grant_type'.");
        }
        if (!grant.equals("client_credentials")) {
            throw new OAuthException(400, "unsupported_grant_type", "AADSTS70003: The app requested an unsupported"
                    + " grant type '" + grant + "'. Coffre signs in applications with grant_type=client_credentials"
                    + " and a client_secret.");
        }
        String clientId = ctx.formParam("client_id");
        String clientSecret = ctx.formParam("client_secret");
        String[] basic = basicCredentials(ctx.header("Authorization"));
        if (basic != null && clientSecret == null) {
            clientId = clientId == null ? basic[0] : clientId;
            clientSecret = basic[1];
        }
        // v1 endpoints name the audience with resource= instead of a scope.
        String scope = ctx.formParam("scope");
        String resource = ctx.formParam("resource");
        if ((scope == null || scope.isBlank()) && resource != null) {
            scope = resource + "/.default";
        }
        Identity.TokenResponse token = identity.clientCredentials(ctx.pathParam("tenant"), clientId, clientSecret,
                scope);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("token_type", "Bearer");
        body.put("expires_in", token.expiresIn());
        body.put("ext_expires_in", token.expiresIn());
        // Without refresh_in azure-core refreshes every 30 s (its AccessToken.refreshAt would be the epoch).
        body.put("refresh_in", token.expiresIn() / 2);
        body.put("access_token", token.accessToken());
        ctx.header("Cache-Control", "no-store").header("Pragma", "no-cache").json(body);
    }

    /** client_secret_basic: {@code Authorization: Basic base64(urlencode(id):urlencode(secret))} (RFC 6749 2.3.1). */
    private static String[] basicCredentials(String authorization) {
        if (authorization == null || !authorization.regionMatches(true, 0, "Basic ", 0, 6)) {
            return null;
        }
        String decoded;
        try {
            decoded = new String(Base64.getDecoder().decode(authorization.substring(6).trim()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return null;
        }
        int colon = decoded.indexOf(':');
        if (colon < 0) {
            return null;
        }
        return new String[] {urlDecode(decoded.substring(0, colon)), urlDecode(decoded.substring(colon + 1))};
    }

    private static String urlDecode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }

    private static String correlationId(Context ctx) {
        String id = ctx.header(CORRELATION_HEADER);
        return id == null || id.isBlank() ? UUID.randomUUID().toString() : id;
    }

    /** Entra's error body; MSAL surfaces {@code error_description}, so it leads with the AADSTS code. */
    private void renderOAuthError(OAuthException e, Context ctx) {
        String correlation = correlationId(ctx);
        String traceId = UUID.randomUUID().toString();
        String timestamp = ENTRA_TIMESTAMP.format(core.clock().now());
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("error", e.error());
        body.put("error_description", e.getMessage() + "\r\nTrace ID: " + traceId + "\r\nCorrelation ID: "
                + correlation + "\r\nTimestamp: " + timestamp);
        Matcher code = AADSTS_CODE.matcher(e.getMessage());
        body.put("error_codes", code.find() ? List.of(Integer.parseInt(code.group(1))) : List.of());
        body.put("timestamp", timestamp);
        body.put("trace_id", traceId);
        body.put("correlation_id", correlation);
        ctx.header(CORRELATION_HEADER, correlation).status(e.status()).json(body);
    }

    /** OIDC metadata for v2 ({@code /{tenant}/v2.0/...}) or v1 / ADFS ({@code /{tenant}/...}) authorities. */
    private Map<String, Object> discovery(Context ctx, boolean v2) {
        String tenant = ctx.pathParam("tenant");
        String tenantId = identity.resolveTenant(tenant);
        boolean adfs = tenant.equalsIgnoreCase("adfs");
        String authority = Hosts.baseUrl(ctx) + "/" + tenant;
        String oauth = authority + (v2 ? "/oauth2/v2.0" : "/oauth2");
        Map<String, Object> document = new LinkedHashMap<>();
        document.put("issuer", adfs ? authority
                : v2 ? Hosts.baseUrl(ctx) + "/" + tenantId + "/v2.0" : identity.issuer());
        document.put("authorization_endpoint", oauth + "/authorize");
        document.put("token_endpoint", oauth + "/token");
        document.put("token_endpoint_auth_methods_supported", List.of("client_secret_post", "client_secret_basic"));
        document.put("jwks_uri", authority + (v2 ? "/discovery/v2.0/keys" : "/discovery/keys"));
        document.put("grant_types_supported", List.of("client_credentials"));
        document.put("response_modes_supported", List.of("query", "fragment", "form_post"));
        document.put("response_types_supported", List.of("code", "id_token", "code id_token", "id_token token"));
        document.put("subject_types_supported", List.of("pairwise"));
        document.put("id_token_signing_alg_values_supported", List.of("RS256"));
        document.put("scopes_supported", List.of("openid", "profile", "email", "offline_access"));
        document.put("claims_supported", List.of("iss", "aud", "tid", "oid", "appid", "sub", "idtyp", "iat", "nbf",
                "exp", "ver"));
        document.put("request_uri_parameter_supported", false);
        document.put("tenant_region_scope", "WW");
        document.put("cloud_instance_name", endpoints.dnsSuffix());
        document.put("cloud_graph_host_name", URI.create(endpoints.graphResource()).getHost());
        document.put("msgraph_host", URI.create(endpoints.graphResource()).getHost());
        return document;
    }

    private void keys(Context ctx) {
        identity.resolveTenant(ctx.pathParam("tenant"));
        ctx.contentType("application/json; charset=utf-8").result(identity.jwks());
    }

    /**
     * MSAL's authority validation. MSAL Python always asks the public host and drops the authority's port from
     * {@code authorization_endpoint}, so the answer puts this server's port back.
     */
    private void instanceDiscovery(Context ctx) {
        URI authorize = parseAuthorizationEndpoint(ctx.queryParam("authorization_endpoint"));
        String[] segments = authorize.getPath().split("/");
        String tenant = segments.length > 1 && !segments[1].isEmpty() ? segments[1] : "common";
        int port = authorize.getPort() == -1 ? endpoints.port() : authorize.getPort();
        String host = authorize.getHost().toLowerCase(Locale.ROOT);
        String hostAndPort = port == 443 ? host : host + ":" + port;
        Map<String, Object> alias = new LinkedHashMap<>();
        alias.put("preferred_network", hostAndPort);
        alias.put("preferred_cache", hostAndPort);
        alias.put("aliases", hostAndPort.equals(host) ? List.of(host) : List.of(hostAndPort, host));
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("tenant_discovery_endpoint", "https://" + hostAndPort + "/" + tenant
                + "/v2.0/.well-known/openid-configuration");
        String apiVersion = ctx.queryParam("api-version");
        body.put("api-version", apiVersion == null ? "1.1" : apiVersion);
        body.put("metadata", List.of(alias));
        ctx.json(body);
    }

    private static URI parseAuthorizationEndpoint(String value) {
        try {
            URI uri = value == null ? null : URI.create(value);
            if (uri != null && "https".equalsIgnoreCase(uri.getScheme()) && uri.getHost() != null) {
                return uri;
            }
        } catch (IllegalArgumentException e) {
            // reported below
        }
        throw new OAuthException(400, "invalid_instance", "AADSTS50049: Unknown or invalid instance '" + value
                + "'. Pass authorization_endpoint=https://<host>/<tenant>/oauth2/v2.0/authorize.");
    }

    /**
     * Cloud metadata as ARM serves it: the 2015-01-01 object ({@code az cloud register --endpoint-resource-manager})
     * or, from 2019-05-01 on, the array of clouds ({@code ARM_CLOUD_METADATA_URL}). Sign-in is advertised as
     * ADFS-style ({@code .../adfs}) because with it MSAL needs no instance discovery at the public Microsoft host.
     */
    private void cloudMetadata(Context ctx) {
        String apiVersion = ctx.queryParam("api-version");
        if (apiVersion == null || apiVersion.isBlank()) {
            throw ArmException.badRequest("MissingApiVersionParameter",
                    "The api-version query parameter (?api-version=) is required; use 2015-01-01 or 2022-09-01.");
        }
        String base = Hosts.baseUrl(ctx);
        String portPart = endpoints.port() == 443 ? "" : ":" + endpoints.port();
        String graph = "https://" + URI.create(endpoints.graphResource()).getHost() + portPart + "/";
        Map<String, Object> authentication = new LinkedHashMap<>();
        authentication.put("loginEndpoint", base + "/adfs");
        authentication.put("audiences", List.of(endpoints.managementResource()));
        Map<String, Object> suffixes = new LinkedHashMap<>();
        // Leading dot and port, as az joins them: https://{name}{keyVaultDns}
        suffixes.put("keyVaultDns", ".vault." + endpoints.dnsSuffix() + portPart);
        suffixes.put("mhsmDns", ".managedhsm." + endpoints.dnsSuffix() + portPart);
        suffixes.put("storage", endpoints.dnsSuffix() + portPart);
        if (apiVersion.compareTo("2019-05-01") < 0) {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("galleryEndpoint", "");
            body.put("graphEndpoint", graph);
            body.put("portalEndpoint", "");
            body.put("authentication", authentication);
            body.put("suffixes", suffixes);
            ctx.json(body);
            return;
        }
        authentication.put("tenant", "adfs");
        authentication.put("identityProvider", "ADFS");
        suffixes.put("sqlServerHostname", "");
        suffixes.put("acrLoginServer", "");
        Map<String, Object> cloud = new LinkedHashMap<>();
        cloud.put("name", "Coffre");
        cloud.put("resourceManager", base + "/");
        cloud.put("authentication", authentication);
        cloud.put("graph", graph);
        cloud.put("graphAudience", graph);
        cloud.put("microsoftGraphResourceId", graph);
        cloud.put("suffixes", suffixes);
        // Services Coffre does not provide; az requires the keys to exist.
        for (String absent : List.of("portal", "gallery", "sqlManagement", "batch", "media", "vmImageAliasDoc")) {
            cloud.put(absent, "");
        }
        ctx.json(List.of(cloud));
    }
}
