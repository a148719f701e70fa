package io.coffre.identity;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.coffre.Endpoints;
import io.coffre.arm.ArmException;
import io.coffre.seal.Sealer;
import io.coffre.store.MetadataStore;
import io.coffre.store.StoreConflictException;
import io.coffre.time.CoffreClock;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;
import org.jdbi.v3.core.Handle;

/** Principals and secrets in the metadata store; one RS256 signing key sealed by the master key. */
final class BuiltInIdentity implements Identity {
    private static final Duration CLOCK_SKEW = Duration.ofMinutes(5);
    private static final Duration ACCESS_TOKEN_LIFETIME = Duration.ofHours(1);
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final List<String> NON_TENANTS = List.of("adfs", "common", "organizations");
    private static final List<String> FIRST_PARTY_APP_IDS = List.of(BACKUP_MANAGEMENT_SERVICE_APP_ID,
            CVM_ORCHESTRATOR_APP_ID);

    private final MetadataStore metadata;
    private final Endpoints endpoints;
    private final CoffreClock clock;
    private final String tenantId;
    private final String subscriptionId;
    private final RSAKey signingKey;
    private final Principal admin;

    /** The admin's first secret when this start created the directory, else null. */
    private final String newAdminSecret;

    BuiltInIdentity(MetadataStore metadata, Sealer sealer, Endpoints endpoints, CoffreClock clock) {
        this.metadata = metadata;
        this.endpoints = endpoints;
        this.clock = clock;
        // Generate the key outside the transaction: it takes a while, and a concurrent first start (another node
        // on the same database) would otherwise wait on our locks; whichever commits first wins.
        Bootstrap boot = metadata.withHandle(h -> load(h, sealer)).orElseGet(() -> {
            RSAKey key = newSigningKey();
            try {
                return metadata.inTransaction(h -> create(h, sealer, key));
            } catch (StoreConflictException e) {
                return metadata.withHandle(h -> load(h, sealer)).orElseThrow(() -> e);
            }
        });
        this.tenantId = boot.tenantId;
        this.subscriptionId = boot.subscriptionId;
        this.signingKey = boot.signingKey;
        this.admin = find(boot.adminObjectId).orElseThrow();
        this.newAdminSecret = boot.newAdminSecret;
    }

    private record Bootstrap(String tenantId, String subscriptionId, String adminObjectId, RSAKey signingKey,
                             String newAdminSecret) {
    }

    private static Optional<Bootstrap> load(Handle h, Sealer sealer) {
        return setting(h, "tenant_id").map(tenant -> {
            String kid = setting(h, "signing_kid").orElseThrow();
            byte[] sealed = h.createQuery("SELECT sealed FROM signing_keys WHERE kid = :kid").bind("kid", kid)
                    .mapTo(byte[].class).one();
            RSAKey key = parseKey(new String(sealer.open(sealed, signingContext(kid)), StandardCharsets.UTF_8));
            return new Bootstrap(tenant, setting(h, "subscription_id").orElseThrow(),
                    setting(h, "admin_object_id").orElseThrow(), key, null);
        });
    }

    private Bootstrap create(Handle h, Sealer sealer, RSAKey key) {
        String tenant = UUID.randomUUID().toString();
        String subscription = UUID.randomUUID().toString();
        long now = clock.now().toEpochMilli();
        putSetting(h, "tenant_id", tenant);
        putSetting(h, "subscription_id", subscription);
        h.createUpdate("INSERT INTO subscriptions (subscription_id, tenant_id, display_name) VALUES (:s, :t, 'Coffre')")
                .bind("s", subscription).bind("t", tenant).execute();
        Principal adminSp = insertPrincipal(h, UUID.randomUUID().toString(), "coffre-admin",
                Principal.Type.ServicePrincipal, false, now, tenant);
        String secret = newSecret();
        insertSecret(h, adminSp.objectId(), secret, now);
        putSetting(h, "admin_object_id", adminSp.objectId());
        insertPrincipal(h, BACKUP_MANAGEMENT_SERVICE_APP_ID, "Backup Management Service",
                Principal.Type.ServicePrincipal, true, now, tenant);
        insertPrincipal(h, CVM_ORCHESTRATOR_APP_ID, "Confidential VM Orchestrator",
                Principal.Type.ServicePrincipal, true, now, tenant);
        h.createUpdate("INSERT INTO signing_keys (kid, sealed, created_at) VALUES (:kid, :sealed, :now)")
                .bind("kid", key.getKeyID())
                .bind("sealed", sealer.seal(key.toJSONString().getBytes(StandardCharsets.UTF_8),
                        signingContext(key.getKeyID())))
                .bind("now", now).execute();
        putSetting(h, "signing_kid", key.getKeyID());
        return new Bootstrap(tenant, subscription, adminSp.objectId(), key, secret);
    }

    private static RSAKey newSigningKey() {
        try {
            return new RSAKeyGenerator(2048).keyID(UUID.randomUUID().toString().replace("-", ""))
                    .keyUse(KeyUse.SIGNATURE).algorithm(JWSAlgorithm.RS256).generate();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] signingContext(String kid) {
        return ("identity-signing-key:" + kid).getBytes(StandardCharsets.UTF_8);
    }

    private static RSAKey parseKey(String json) {
        try {
            return RSAKey.parse(json);
        } catch (ParseException e) {
            throw new IllegalStateException("stored signing key is unreadable", e);
        }
    }

    /** Non-null only on the start that created the directory: the admin's secret, to hand to the operator once. */
    String newAdminSecret() {
        return newAdminSecret;
    }

    @Override
    public String tenantId() {
        return tenantId;
    }

    @Override
    public String defaultSubscriptionId() {
        return subscriptionId;
    }

    @Override
    public Principal admin() {
        return admin;
    }

    @Override
    public String issuer() {
        return "https://sts.windows.net/" + tenantId + "/";
    }

    @Override
    public Optional<Principal> find(String idOrAppId) {
        if (idOrAppId == null || idOrAppId.isBlank()) {
            return Optional.empty();
        }
        return metadata.withHandle(h -> h.createQuery("SELECT * FROM principals WHERE object_id = :id OR app_id = :id"
                        + " ORDER BY CASE WHEN object_id = :id THEN 0 ELSE 1 END")
                .bind("id", idOrAppId.toLowerCase(Locale.ROOT))
                .map((rs, ctx) -> toPrincipal(rs)).findFirst());
    }

    @Override
    public List<Principal> list(String displayName) {
        return metadata.withHandle(h -> h.createQuery("SELECT * FROM principals"
                        + " WHERE :name IS NULL OR display_name = :name ORDER BY display_name, object_id")
                .bind("name", displayName)
                .map((rs, ctx) -> toPrincipal(rs)).list());
    }

    private Principal toPrincipal(ResultSet rs) throws SQLException {
        return new Principal(rs.getString("object_id"), rs.getString("app_id"), rs.getString("display_name"),
                Principal.Type.valueOf(rs.getString("principal_type")), tenantId);
    }

    @Override
    public Credentials createServicePrincipal(String displayName) {
        requireName(displayName);
        String secret = newSecret();
        return metadata.inTransaction(h -> {
            long now = clock.now().toEpochMilli();
            Principal sp = insertPrincipal(h, UUID.randomUUID().toString(), displayName,
                    Principal.Type.ServicePrincipal, false, now, tenantId);
            return new Credentials(sp, secret, insertSecret(h, sp.objectId(), secret, now));
        });
    }

    @Override
    public Principal createManagedIdentity(String displayName) {
        requireName(displayName);
        // Managed identities have a client id too, but no secret: they sign in only from inside Coffre.
        return metadata.inTransaction(h -> insertPrincipal(h, UUID.randomUUID().toString(), displayName,
                Principal.Type.ManagedIdentity, false, clock.now().toEpochMilli(), tenantId));
    }

    @Override
    public void deletePrincipal(String idOrAppId) {
        Principal p = requireOwn(idOrAppId, "deleted");
        if (p.objectId().equals(admin.objectId())) {
            throw ArmException.badRequest("CannotDeleteAdministrator",
                    "The administrator principal cannot be deleted.");
        }
        metadata.inTransaction(h -> h.createUpdate("DELETE FROM principals WHERE object_id = :id")
                .bind("id", p.objectId()).execute());
    }

    @Override
    public Credentials resetSecret(String idOrAppId) {
        Principal p = requireOwn(idOrAppId, "given a client secret");
        if (p.type() != Principal.Type.ServicePrincipal) {
            throw ArmException.badRequest("Request_BadRequest", "'" + p.displayName() + "' is a"
                    + " managed identity and signs in only from inside Coffre; client secrets exist only for service"
                    + " principals.");
        }
        String secret = newSecret();
        String keyId = metadata.inTransaction(h -> {
            h.createUpdate("DELETE FROM client_secrets WHERE object_id = :id").bind("id", p.objectId()).execute();
            return insertSecret(h, p.objectId(), secret, clock.now().toEpochMilli());
        });
        return new Credentials(p, secret, keyId);
    }

    /** A principal this directory's users may change: exists and is not one of the first-party apps. */
    private Principal requireOwn(String idOrAppId, String action) {
        Principal p = find(idOrAppId).orElseThrow(() -> ArmException.notFound(
                "Request_ResourceNotFound", "No service principal with id or appId '" + idOrAppId + "'."));
        if (FIRST_PARTY_APP_IDS.contains(p.appId())) {
            throw ArmException.badRequest("Request_BadRequest", "'" + p.displayName() + "' is a"
                    + " first-party app; it acts only from inside Coffre and cannot be " + action + ".");
        }
        return p;
    }

    @Override
    public String issueToken(Principal principal, List<String> audiences, Duration lifetime) {
        Instant now = clock.now();
        JWTClaimsSet claims = new JWTClaimsSet.Builder()
                .issuer(issuer())
                .audience(audiences)
                .subject(principal.objectId())
                .issueTime(Date.from(now))
                .notBeforeTime(Date.from(now))
                .expirationTime(Date.from(now.plus(lifetime)))
                .claim("tid", tenantId)
                .claim("oid", principal.objectId())
                .claim("appid", principal.appId())
                .claim("idtyp", principal.type() == Principal.Type.User ? "user" : "app")
                .claim("ver", "1.0")
                .build();
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).type(JOSEObjectType.JWT)
                .keyID(signingKey.getKeyID()).build(), claims);
        try {
            jwt.sign(new RSASSASigner(signingKey));
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
        return jwt.serialize();
    }

    @Override
    public Optional<Principal> authenticate(String bearerToken, String audience) {
        try {
            SignedJWT jwt = SignedJWT.parse(bearerToken);
            if (!signingKey.getKeyID().equals(jwt.getHeader().getKeyID())
                    || !jwt.verify(new RSASSAVerifier(signingKey.toRSAPublicKey()))) {
                return Optional.empty();
            }
            JWTClaimsSet claims = jwt.getJWTClaimsSet();
            Instant now = clock.now();
            if (!issuer().equals(claims.getIssuer()) || claims.getExpirationTime() == null
                    || claims.getExpirationTime().toInstant().isBefore(now.minus(CLOCK_SKEW))
                    || (claims.getNotBeforeTime() != null
                        && claims.getNotBeforeTime().toInstant().isAfter(now.plus(CLOCK_SKEW)))
                    || claims.getAudience() == null || !claims.getAudience().contains(audience)) {
                return Optional.empty();
            }
            return find(claims.getStringClaim("oid"));
        } catch (ParseException | JOSEException e) {
            return Optional.empty();
        }
    }

    @Override
    public String resolveTenant(String tenantOrAlias) {
        if (tenantOrAlias == null
                || !(tenantOrAlias.equalsIgnoreCase(tenantId)
                     || NON_TENANTS.contains(tenantOrAlias.toLowerCase(Locale.ROOT)))) {
            throw new OAuthException(400, "invalid_request", "AADSTS90002: Tenant '" + tenantOrAlias
                    + "' not found. This server's tenant is " + tenantId + "; use it (or 'organizations') in the"
                    + " authority URL.");
        }
        return tenantId;
    }

    @Override
    public TokenResponse clientCredentials(String tenant, String clientId, String clientSecret, String scope) {
        resolveTenant(tenant);
        if (clientId == null || clientId.isBlank()) {
            throw new OAuthException(400, "invalid_request",
                    "AADSTS900144: The request body must contain the following parameter: 'client_id'.");
        }
        if (clientSecret == null || clientSecret.isEmpty()) {
            throw new OAuthException(401, "invalid_client", "AADSTS7000216: 'client_assertion', 'client_secret' or"
                    + " 'request' is required for the 'client_credentials' grant type; send client_secret.");
        }
        Principal p = find(clientId).filter(x -> clientId.equalsIgnoreCase(x.appId()))
                .orElseThrow(() -> new OAuthException(400, "unauthorized_client", "AADSTS700016: Application with"
                        + " identifier '" + clientId + "' was not found in the directory '" + tenantId + "'."));
        List<String> hashes = metadata.withHandle(h -> h.createQuery(
                        "SELECT secret_hash FROM client_secrets WHERE object_id = :id")
                .bind("id", p.objectId()).mapTo(String.class).list());
        byte[] presented = sha256(clientSecret).getBytes(StandardCharsets.US_ASCII);
        boolean match = false;
        for (String hash : hashes) {
            match |= MessageDigest.isEqual(presented, hash.getBytes(StandardCharsets.US_ASCII));
        }
        if (!match) {
            throw new OAuthException(401, "invalid_client", "AADSTS7000215: Invalid client secret provided. Ensure"
                    + " the secret being sent in the request is the client secret value of app '" + clientId + "'.");
        }
        String audience = audienceOf(scope);
        String token = issueToken(p, List.of(audience), ACCESS_TOKEN_LIFETIME);
        return new TokenResponse(token, ACCESS_TOKEN_LIFETIME.toSeconds(), audience);
    }

    /**
     * Maps {@code https://vault.coffre.localhost:8443/.default} and its variants (port, doubled slash) to the
     * canonical audience; the SDKs add {@code openid profile offline_access}, which say nothing about it.
     */
    private String audienceOf(String scope) {
        List<String> resources = scope == null ? List.of() : Arrays.stream(scope.trim().split("\\s+"))
                .filter(s -> s.endsWith("/.default"))
                .map(s -> s.substring(0, s.length() - "/.default".length()))
                .toList();
        if (resources.isEmpty()) {
            throw new OAuthException(400, "invalid_scope", "AADSTS70011: The provided value for the input parameter"
                    + " 'scope' is not valid: '" + scope + "'. Ask for '<resource>/.default', e.g. "
                    + endpoints.vaultResource() + "/.default.");
        }
        for (String resource : resources) {
            String host = hostOf(resource);
            for (String audience : List.of(endpoints.managementResource(), endpoints.vaultResource(),
                    endpoints.managedHsmResource(), endpoints.graphResource())) {
                if (URI.create(audience).getHost().equals(host)) {
                    return audience;
                }
            }
        }
        throw new OAuthException(400, "invalid_resource", "AADSTS500011: The resource principal named "
                + String.join(", ", resources) + " was not found in the tenant " + tenantId + ". Ask for one of "
                + endpoints.managementResource() + ".default, " + endpoints.vaultResource() + "/.default, "
                + endpoints.managedHsmResource() + "/.default, " + endpoints.graphResource() + "/.default.");
    }

    private static String hostOf(String resource) {
        try {
            String host = URI.create(resource).getHost();
            return host == null ? "" : host.toLowerCase(Locale.ROOT);
        } catch (IllegalArgumentException e) {
            return "";
        }
    }

    @Override
    public String jwks() {
        return new JWKSet(signingKey.toPublicJWK()).toString();
    }

    private static void requireName(String displayName) {
        if (displayName == null || displayName.isBlank() || displayName.length() > 256) {
            throw ArmException.badRequest("Request_BadRequest",
                    "displayName is required (1–256 characters).");
        }
    }

    private static Principal insertPrincipal(Handle h, String appId, String name, Principal.Type type,
                                             boolean firstParty, long now, String tenant) {
        String objectId = UUID.randomUUID().toString();
        h.createUpdate("INSERT INTO principals (object_id, app_id, display_name, principal_type, first_party, created_at)"
                        + " VALUES (:oid, :app, :name, :type, :fp, :now)")
                .bind("oid", objectId).bind("app", appId).bind("name", name).bind("type", type.name())
                .bind("fp", firstParty).bind("now", now).execute();
        return new Principal(objectId, appId, name, type, tenant);
    }

    /** @return the new secret's key id */
    private static String insertSecret(Handle h, String objectId, String secret, long now) {
        String keyId = UUID.randomUUID().toString();
        h.createUpdate("INSERT INTO client_secrets (key_id, object_id, secret_hash, created_at) VALUES (:k, :o, :s, :n)")
                .bind("k", keyId).bind("o", objectId).bind("s", sha256(secret)).bind("n", now)
                .execute();
        return keyId;
    }

    private static Optional<String> setting(Handle h, String name) {
        return h.createQuery("SELECT setting_value FROM identity_settings WHERE name = :n").bind("n", name)
                .mapTo(String.class).findOne();
    }

    private static void putSetting(Handle h, String name, String value) {
        h.createUpdate("INSERT INTO identity_settings (name, setting_value) VALUES (:n, :v)").bind("n", name).bind("v", value)
                .execute();
    }

    private static String newSecret() {
        byte[] raw = new byte[30];
        RANDOM.nextBytes(raw);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
    }

    private static String sha256(String secret) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(secret.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
