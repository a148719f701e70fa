package io.coffre.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.coffre.Endpoints;
import io.coffre.arm.ArmException;
import io.coffre.seal.MasterKey;
import io.coffre.store.MetadataStore;
import io.coffre.store.MetadataStores;
import io.coffre.time.ManualClock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class BuiltInIdentityTest {
    private static final Endpoints ENDPOINTS = new Endpoints("coffre.localhost", 8443);
    private static final String VAULT = ENDPOINTS.vaultResource();

    @TempDir
    Path dir;
    private final ManualClock clock = new ManualClock();
    private MasterKey masterKey;
    private MetadataStore metadata;
    private Identity identity;

    @BeforeEach
    void open() {
        masterKey = MasterKey.generate(dir.resolve("master.key"));
        metadata = MetadataStores.h2(dir.resolve("db"));
        identity = Identities.open(metadata, masterKey.sealer(), ENDPOINTS, clock);
    }

    @AfterEach
    void close() {
        metadata.close();
    }

    private Identity reopen() {
        metadata.close();
        metadata = MetadataStores.h2(dir.resolve("db"));
        identity = Identities.open(metadata, MasterKey.load(dir.resolve("master.key")).sealer(), ENDPOINTS, clock);
        return identity;
    }

    @Test
    void firstStartCreatesTenantSubscriptionAdminAndFirstPartyApps() {
        assertThat(identity.tenantId()).matches("[0-9a-f-]{36}");
        assertThat(Identities.newAdminSecret(identity)).isPresent();
        assertThat(identity.admin().type()).isEqualTo(Principal.Type.ServicePrincipal);
        assertThat(identity.admin().tenantId()).isEqualTo(identity.tenantId());
        Map<String, Object> subscription = metadata.withHandle(h -> h.createQuery(
                "SELECT tenant_id, display_name FROM subscriptions WHERE subscription_id = :s")
                .bind("s", identity.defaultSubscriptionId()).mapToMap().one());
        assertThat(subscription).containsEntry("tenant_id", identity.tenantId())
                .containsEntry("display_name", "Coffre");
        assertThat(identity.find(Directory.BACKUP_MANAGEMENT_SERVICE_APP_ID)).get()
                .extracting(Principal::displayName).isEqualTo("Backup Management Service");
        assertThat(identity.find(Directory.CVM_ORCHESTRATOR_APP_ID)).get()
                .extracting(Principal::displayName).isEqualTo("Confidential VM Orchestrator");
    }

    @Test
    void reopeningKeepsTheDirectoryAndAcceptsEarlierTokens() {
        String adminSecret = Identities.newAdminSecret(identity).orElseThrow();
        Identity.Credentials sp = identity.createServicePrincipal("app1");
        String token = identity.clientCredentials(identity.tenantId(), sp.principal().appId(), sp.clientSecret(),
                VAULT + "/.default").accessToken();
        String tenant = identity.tenantId();
        String subscription = identity.defaultSubscriptionId();
        Principal admin = identity.admin();
        Principal orchestrator = identity.find(Directory.CVM_ORCHESTRATOR_APP_ID).orElseThrow();

        Identity again = reopen();

        assertThat(again.tenantId()).isEqualTo(tenant);
        assertThat(again.defaultSubscriptionId()).isEqualTo(subscription);
        assertThat(again.admin()).isEqualTo(admin);
        assertThat(again.find(Directory.CVM_ORCHESTRATOR_APP_ID)).contains(orchestrator);
        assertThat(Identities.newAdminSecret(again)).as("the secret is shown only on the first start").isEmpty();
        assertThat(again.authenticate(token, VAULT)).get().extracting(Principal::objectId)
                .isEqualTo(sp.principal().objectId());
        assertThat(again.clientCredentials(tenant, admin.appId(), adminSecret, VAULT + "/.default").accessToken())
                .isNotBlank();
        assertThat(again.list(null)).hasSize(4);
    }

    @Test
    void concurrentFirstStartsAgreeOnOneDirectory() throws Exception {
        try (MetadataStore shared = MetadataStores.h2(dir.resolve("race"))) {
            int nodes = 4;
            CountDownLatch go = new CountDownLatch(1);
            ExecutorService pool = Executors.newFixedThreadPool(nodes);
            try {
                List<Future<Identity>> started = new ArrayList<>();
                for (int i = 0; i < nodes; i++) {
                    started.add(pool.submit(() -> {
                        go.await();
                        return Identities.open(shared, masterKey.sealer(), ENDPOINTS, clock);
                    }));
                }
                go.countDown();
                Set<String> tenants = new HashSet<>();
                int creators = 0;
                for (Future<Identity> f : started) {
                    Identity node = f.get(60, TimeUnit.SECONDS);
                    tenants.add(node.tenantId() + "/" + node.admin().objectId() + "/" + node.jwks());
                    creators += Identities.newAdminSecret(node).isPresent() ? 1 : 0;
                }
                assertThat(tenants).hasSize(1);
                assertThat(creators).isEqualTo(1);
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void clientCredentialsIssueAnRs256TokenWithTheSharedClaims() throws Exception {
        Identity.Credentials sp = identity.createServicePrincipal("app1");
        Identity.TokenResponse response = identity.clientCredentials(identity.tenantId(), sp.principal().appId(),
                sp.clientSecret(), "openid profile offline_access " + VAULT + "/.default");
        assertThat(response.expiresIn()).isEqualTo(3600);
        assertThat(response.audience()).isEqualTo(VAULT);
        SignedJWT jwt = SignedJWT.parse(response.accessToken());
        assertThat(jwt.getHeader().getAlgorithm()).isEqualTo(JWSAlgorithm.RS256);
        JWTClaimsSet claims = jwt.getJWTClaimsSet();
        assertThat(claims.getIssuer()).isEqualTo("https://sts.windows.net/" + identity.tenantId() + "/");
        assertThat(claims.getAudience()).containsExactly(VAULT);
        assertThat(claims.getStringClaim("tid")).isEqualTo(identity.tenantId());
        assertThat(claims.getStringClaim("oid")).isEqualTo(sp.principal().objectId());
        assertThat(claims.getStringClaim("appid")).isEqualTo(sp.principal().appId());
        assertThat(claims.getStringClaim("idtyp")).isEqualTo("app");
        assertThat(claims.getExpirationTime().getTime() - claims.getIssueTime().getTime()).isEqualTo(3_600_000);
        assertThat(identity.authenticate(response.accessToken(), VAULT)).get()
                .extracting(Principal::objectId).isEqualTo(sp.principal().objectId());
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "https://vault.coffre.localhost:8443/.default|https://vault.coffre.localhost",
            "https://vault.coffre.localhost/.default|https://vault.coffre.localhost",
            "openid profile offline_access https://vault.coffre.localhost/.default|https://vault.coffre.localhost",
            "https://management.coffre.localhost//.default|https://management.coffre.localhost/",
            "https://management.coffre.localhost/.default|https://management.coffre.localhost/",
            "https://managedhsm.coffre.localhost:8443/.default|https://managedhsm.coffre.localhost",
            "https://graph.coffre.localhost:8443//.default|https://graph.coffre.localhost",
            "https://VAULT.coffre.localhost/.default|https://vault.coffre.localhost"})
    void scopeVariantsMapToTheCanonicalAudience(String scopeAndAudience) {
        String[] parts = scopeAndAudience.split("\\|");
        Identity.Credentials sp = identity.createServicePrincipal("app1");
        Identity.TokenResponse response = identity.clientCredentials(identity.tenantId(), sp.principal().appId(),
                sp.clientSecret(), parts[0]);
        assertThat(response.audience()).isEqualTo(parts[1]);
        assertThat(identity.authenticate(response.accessToken(), parts[1])).isPresent();
    }

    @Test
    void aliasTenantsAreAccepted() {
        Identity.Credentials sp = identity.createServicePrincipal("app1");
        for (String tenant : List.of("adfs", "organizations", "common", identity.tenantId().toUpperCase())) {
            assertThat(identity.clientCredentials(tenant, sp.principal().appId(), sp.clientSecret(),
                    VAULT + "/.default").accessToken()).as(tenant).isNotBlank();
        }
    }

    @Test
    void clientCredentialErrorsCarryEntraCodes() {
        Identity.Credentials sp = identity.createServicePrincipal("app1");
        String tenant = identity.tenantId();
        String app = sp.principal().appId();
        String secret = sp.clientSecret();
        String scope = VAULT + "/.default";
        assertOAuthError(() -> identity.clientCredentials("00000000-0000-0000-0000-000000000000", app, secret, scope),
                400, "invalid_request", "AADSTS90002");
        assertOAuthError(() -> identity.clientCredentials(null, app, secret, scope), 400, "invalid_request",
                "AADSTS90002");
        assertOAuthError(() -> identity.clientCredentials(tenant, null, secret, scope), 400, "invalid_request",
                "AADSTS900144");
        assertOAuthError(() -> identity.clientCredentials(tenant, "11111111-2222-3333-4444-555555555555", secret,
                scope), 400, "unauthorized_client", "AADSTS700016");
        assertOAuthError(() -> identity.clientCredentials(tenant, app, secret + "x", scope), 401, "invalid_client",
                "AADSTS7000215");
        assertOAuthError(() -> identity.clientCredentials(tenant, app, null, scope), 401, "invalid_client",
                "AADSTS7000216");
        assertOAuthError(() -> identity.clientCredentials(tenant, app, "", scope), 401, "invalid_client",
                "AADSTS7000216");
        assertOAuthError(() -> identity.clientCredentials(tenant, app, secret, "https://vault.azure.net/.default"),
                400, "invalid_resource", "AADSTS500011");
        assertOAuthError(() -> identity.clientCredentials(tenant, app, secret, "openid profile offline_access"),
                400, "invalid_scope", "AADSTS70011");
        assertOAuthError(() -> identity.clientCredentials(tenant, app, secret, null), 400, "invalid_scope",
                "AADSTS70011");
        assertOAuthError(() -> identity.clientCredentials(tenant, sp.principal().objectId(), secret, scope),
                400, "unauthorized_client", "AADSTS700016");
    }

    @Test
    void principalsWithoutSecretsCannotSignIn() {
        Principal mi = identity.createManagedIdentity("des1");
        assertOAuthError(() -> identity.clientCredentials(identity.tenantId(), mi.appId(), "anything",
                VAULT + "/.default"), 401, "invalid_client", "AADSTS7000215");
        assertOAuthError(() -> identity.clientCredentials(identity.tenantId(), Directory.CVM_ORCHESTRATOR_APP_ID,
                "anything", VAULT + "/.default"), 401, "invalid_client", "AADSTS7000215");
    }

    private static void assertOAuthError(Runnable call, int status, String error, String code) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(OAuthException.class, e -> {
            assertThat(e.status()).isEqualTo(status);
            assertThat(e.error()).isEqualTo(error);
            assertThat(e.getMessage()).startsWith(code + ":");
        });
    }

    @Test
    void tokenForAnotherAudienceIsRefused() {
        String token = identity.issueToken(identity.admin(), List.of(ENDPOINTS.managementResource()),
                Duration.ofHours(1));
        assertThat(identity.authenticate(token, ENDPOINTS.managementResource())).isPresent();
        assertThat(identity.authenticate(token, VAULT)).isEmpty();
        assertThat(identity.authenticate(token, ENDPOINTS.managedHsmResource())).isEmpty();
    }

    @Test
    void tokenWithSeveralAudiencesIsAcceptedForEach() {
        String token = identity.issueToken(identity.admin(), List.of(VAULT, ENDPOINTS.managedHsmResource()),
                Duration.ofHours(1));
        assertThat(identity.authenticate(token, VAULT)).isPresent();
        assertThat(identity.authenticate(token, ENDPOINTS.managedHsmResource())).isPresent();
        assertThat(identity.authenticate(token, ENDPOINTS.managementResource())).isEmpty();
    }

    @Test
    void expiredTokenIsRefusedAfterTheSkew() {
        String token = identity.issueToken(identity.admin(), List.of(VAULT), Duration.ofHours(1));
        clock.advance(Duration.ofMinutes(63));
        assertThat(identity.authenticate(token, VAULT)).as("within the 5 minute skew").isPresent();
        clock.advance(Duration.ofMinutes(3));
        assertThat(identity.authenticate(token, VAULT)).isEmpty();
    }

    @Test
    void tokenSignedByAnotherKeyIsRefused() throws Exception {
        SignedJWT genuine = SignedJWT.parse(identity.issueToken(identity.admin(), List.of(VAULT), Duration.ofHours(1)));
        // Same kid, same claims, a different key: only the signature differs.
        RSAKey forger = new RSAKeyGenerator(2048).keyID(genuine.getHeader().getKeyID()).generate();
        SignedJWT forged = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256)
                .keyID(genuine.getHeader().getKeyID()).build(), genuine.getJWTClaimsSet());
        forged.sign(new RSASSASigner(forger));
        assertThat(identity.authenticate(forged.serialize(), VAULT)).isEmpty();
    }

    @Test
    void tamperedOrGarbageTokensAreRefused() throws Exception {
        String token = identity.issueToken(identity.admin(), List.of(VAULT), Duration.ofHours(1));
        String[] parts = token.split("\\.");
        String otherClaims = Base64.getUrlEncoder().withoutPadding().encodeToString(
                SignedJWT.parse(token).getJWTClaimsSet().toString().replace(identity.admin().objectId(),
                        identity.find(Directory.CVM_ORCHESTRATOR_APP_ID).orElseThrow().objectId())
                        .getBytes(StandardCharsets.UTF_8));
        assertThat(identity.authenticate(parts[0] + "." + otherClaims + "." + parts[2], VAULT)).isEmpty();
        String unsigned = Base64.getUrlEncoder().withoutPadding().encodeToString(
                "{\"alg\":\"none\"}".getBytes(StandardCharsets.UTF_8)) + "." + parts[1] + ".";
        assertThat(identity.authenticate(unsigned, VAULT)).isEmpty();
        for (String garbage : new String[] {"", "garbage", "a.b.c", "opaque-token", parts[0] + "." + parts[1]}) {
            assertThat(identity.authenticate(garbage, VAULT)).as(garbage).isEmpty();
        }
    }

    @Test
    void tokenOfADeletedPrincipalIsRefused() {
        Identity.Credentials sp = identity.createServicePrincipal("app1");
        String token = identity.issueToken(sp.principal(), List.of(VAULT), Duration.ofHours(1));
        identity.deletePrincipal(sp.principal().appId());
        assertThat(identity.authenticate(token, VAULT)).isEmpty();
        assertThat(identity.find(sp.principal().objectId())).isEmpty();
    }

    @Test
    void resetSecretInvalidatesTheOldOne() {
        Identity.Credentials sp = identity.createServicePrincipal("app1");
        Identity.Credentials reset = identity.resetSecret(sp.principal().objectId());
        assertThat(reset.clientSecret()).isNotEqualTo(sp.clientSecret());
        assertThat(reset.keyId()).isNotEqualTo(sp.keyId());
        assertThat(reset.principal()).isEqualTo(sp.principal());
        String app = sp.principal().appId();
        assertOAuthError(() -> identity.clientCredentials(identity.tenantId(), app, sp.clientSecret(),
                VAULT + "/.default"), 401, "invalid_client", "AADSTS7000215");
        assertThat(identity.clientCredentials(identity.tenantId(), app, reset.clientSecret(), VAULT + "/.default")
                .accessToken()).isNotBlank();
    }

    @Test
    void firstPartyAppsAndManagedIdentitiesGetNoSecretsAndStay() {
        Principal mi = identity.createManagedIdentity("des1");
        for (String id : List.of(Directory.CVM_ORCHESTRATOR_APP_ID, Directory.BACKUP_MANAGEMENT_SERVICE_APP_ID,
                mi.objectId())) {
            assertThatThrownBy(() -> identity.resetSecret(id)).as(id).isInstanceOfSatisfying(ArmException.class,
                    e -> assertThat(e.status()).isEqualTo(400));
        }
        for (String id : List.of(Directory.CVM_ORCHESTRATOR_APP_ID, identity.admin().objectId())) {
            assertThatThrownBy(() -> identity.deletePrincipal(id)).as(id).isInstanceOfSatisfying(ArmException.class,
                    e -> assertThat(e.status()).isEqualTo(400));
        }
        assertThatThrownBy(() -> identity.resetSecret("no-such-principal"))
                .isInstanceOfSatisfying(ArmException.class, e -> assertThat(e.status()).isEqualTo(404));
        assertThat(identity.find(Directory.CVM_ORCHESTRATOR_APP_ID)).isPresent();
    }

    @Test
    void displayNameIsRequired() {
        for (String bad : new String[] {null, "", "  ", "x".repeat(257)}) {
            assertThatThrownBy(() -> identity.createServicePrincipal(bad)).isInstanceOfSatisfying(ArmException.class,
                    e -> assertThat(e.status()).isEqualTo(400));
        }
        assertThat(identity.list("app-never-created")).isEmpty();
    }

    @Test
    void listFiltersByDisplayName() {
        identity.createServicePrincipal("twin");
        identity.createServicePrincipal("twin");
        identity.createManagedIdentity("des1");
        assertThat(identity.list("twin")).hasSize(2).allSatisfy(p -> assertThat(p.displayName()).isEqualTo("twin"));
        assertThat(identity.list(null)).hasSize(6);
    }

    @Test
    void signingKeyIsStoredSealed() throws Exception {
        String token = identity.issueToken(identity.admin(), List.of(VAULT), Duration.ofHours(1));
        String kid = SignedJWT.parse(token).getHeader().getKeyID();
        byte[] sealed = metadata.withHandle(h -> h.createQuery("SELECT sealed FROM signing_keys WHERE kid = :k")
                .bind("k", kid).mapTo(byte[].class).one());
        String modulus = RSAKey.parse(identity.jwks().replaceFirst("^\\{\"keys\":\\[", "")
                .replaceFirst("]}$", "")).getModulus().toString();
        String asText = new String(sealed, StandardCharsets.ISO_8859_1);
        assertThat(asText).doesNotContain("\"kty\"").doesNotContain("BEGIN").doesNotContain("\"d\"")
                .doesNotContain(modulus.substring(0, 32));
        assertThat(sealed[0]).as("sealer format version").isEqualTo((byte) 1);
        // Opened with the wrong master key, the row is useless.
        MasterKey other = MasterKey.generate(dir.resolve("other.key"));
        assertThatThrownBy(() -> other.sealer().open(sealed, ("identity-signing-key:" + kid)
                .getBytes(StandardCharsets.UTF_8))).isInstanceOf(io.coffre.seal.SealException.class);
        assertThat(identity.jwks()).doesNotContain("\"d\"").contains(kid);
    }

    @Test
    void reopeningWithAnotherMasterKeyFails() {
        metadata.close();
        metadata = MetadataStores.h2(dir.resolve("db"));
        MasterKey other = MasterKey.generate(dir.resolve("other.key"));
        assertThatThrownBy(() -> Identities.open(metadata, other.sealer(), ENDPOINTS, clock))
                .isInstanceOf(io.coffre.seal.SealException.class);
    }
}
