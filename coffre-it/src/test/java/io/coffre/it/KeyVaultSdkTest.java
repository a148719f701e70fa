package io.coffre.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.azure.core.http.HttpClient;
import com.azure.core.http.netty.NettyAsyncHttpClientBuilder;
import com.azure.core.http.policy.FixedDelayOptions;
import com.azure.core.http.policy.RetryOptions;
import com.azure.core.util.polling.LongRunningOperationStatus;
import com.azure.core.util.polling.SyncPoller;
import com.azure.identity.ClientSecretCredential;
import com.azure.identity.ClientSecretCredentialBuilder;
import com.azure.security.keyvault.keys.KeyClient;
import com.azure.security.keyvault.keys.KeyClientBuilder;
import com.azure.security.keyvault.keys.cryptography.CryptographyClient;
import com.azure.security.keyvault.keys.cryptography.CryptographyClientBuilder;
import com.azure.security.keyvault.keys.cryptography.models.KeyWrapAlgorithm;
import com.azure.security.keyvault.keys.cryptography.models.SignatureAlgorithm;
import com.azure.security.keyvault.keys.models.CreateRsaKeyOptions;
import com.azure.security.keyvault.keys.models.DeletedKey;
import com.azure.security.keyvault.keys.models.KeyProperties;
import com.azure.security.keyvault.keys.models.KeyRotationLifetimeAction;
import com.azure.security.keyvault.keys.models.KeyRotationPolicy;
import com.azure.security.keyvault.keys.models.KeyRotationPolicyAction;
import com.azure.security.keyvault.keys.models.KeyType;
import com.azure.security.keyvault.keys.models.KeyVaultKey;
import io.coffre.identity.Identity;
import io.coffre.server.TestServer;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.net.http.HttpResponse;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The official Java Key Vault keys client (4.10.4) against a running Coffre over HTTPS, exactly as an application
 * would use it against Azure: {@code ClientSecretCredential} signing in at Coffre's authority, challenge
 * authentication with challenge-resource verification left on, the vault reached by its host name. Zero retries,
 * so any wire mismatch fails at once instead of being retried away.
 */
class KeyVaultSdkTest {
    static final String VAULT = "kv1";

    static TestServer server;
    static HttpClient http;
    static ClientSecretCredential credential;
    static KeyClient keys;
    static String vaultUrl;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start();
        Identity identity = server.server().core().identity();
        vaultUrl = server.server().core().endpoints().vaultUri(VAULT);

        Identity.Credentials app = identity.createServicePrincipal("keyvault-sdk-test");
        createPremiumVault(identity, app.principal().objectId());

        // Trust scoped to these clients: only the test server's certificate.
        SslContext ssl = SslContextBuilder.forClient().trustManager(server.server().tlsCertificate()).build();
        http = new NettyAsyncHttpClientBuilder(reactor.netty.http.client.HttpClient.create()
                .secure(spec -> spec.sslContext(ssl))).build();
        credential = new ClientSecretCredentialBuilder()
                .tenantId(identity.tenantId())
                .clientId(app.principal().appId())
                .clientSecret(app.clientSecret())
                .authorityHost(server.server().core().endpoints().loginAuthority())
                .disableInstanceDiscovery()
                .httpClient(http)
                .build();
        keys = new KeyClientBuilder()
                .vaultUrl(vaultUrl)
                .credential(credential)
                .httpClient(http)
                .retryOptions(noRetries())
                .buildClient();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static RetryOptions noRetries() {
        return new RetryOptions(new FixedDelayOptions(0, Duration.ZERO));
    }

    /** Through the ARM route with the admin's token: premium SKU, full key access policy for the test's app. */
    static void createPremiumVault(Identity identity, String appObjectId) {
        server.server().core().resourceManager().putResourceGroup(identity.admin(), identity.defaultSubscriptionId(),
                "rg1", "uaenorth", Map.of());
        String token = identity.issueToken(identity.admin(),
                List.of(server.server().core().endpoints().managementResource()), Duration.ofHours(1));
        String body = """
                {"location":"uaenorth","properties":{"tenantId":"%s","sku":{"family":"A","name":"premium"},
                 "enableSoftDelete":true,"softDeleteRetentionInDays":7,
                 "accessPolicies":[{"tenantId":"%s","objectId":"%s","permissions":{"keys":["all"]}}]}}"""
                .formatted(identity.tenantId(), identity.tenantId(), appObjectId);
        HttpResponse<String> r = server.send("PUT", "management.coffre.localhost", "/subscriptions/"
                + identity.defaultSubscriptionId() + "/resourceGroups/rg1/providers/Microsoft.KeyVault/vaults/" + VAULT
                + "?api-version=2022-07-01", token, body);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    }

    @Test
    void theOfficialClientRunsTheWholeKeyLifecycle() throws Exception {
        KeyVaultKey created = keys.createRsaKey(new CreateRsaKeyOptions("sdk-key").setHardwareProtected(true)
                .setKeySize(3072));
        assertThat(created.getKeyType()).isEqualTo(KeyType.RSA_HSM);
        assertThat(created.getId()).startsWith(vaultUrl + "/keys/sdk-key/");
        assertThat(created.getKey().getN()).hasSize(384);
        assertThat(created.getProperties().getCreatedOn()).isNotNull();

        KeyVaultKey fetched = keys.getKey("sdk-key");
        assertThat(fetched.getId()).isEqualTo(created.getId());
        assertThat(versions("sdk-key")).containsExactly(created.getProperties().getVersion());

        CryptographyClient crypto = new CryptographyClientBuilder().keyIdentifier(created.getId())
                .credential(credential).httpClient(http).retryOptions(noRetries()).buildClient();
        byte[] secret = new byte[32];
        new SecureRandom().nextBytes(secret);
        byte[] wrapped = crypto.wrapKey(KeyWrapAlgorithm.RSA_OAEP_256, secret).getEncryptedKey();
        assertThat(wrapped).hasSize(384);
        assertThat(crypto.unwrapKey(KeyWrapAlgorithm.RSA_OAEP_256, wrapped).getKey()).isEqualTo(secret);
        byte[] digest = MessageDigest.getInstance("SHA-256").digest("coffre".getBytes());
        byte[] signature = crypto.sign(SignatureAlgorithm.RS256, digest).getSignature();
        assertThat(crypto.verify(SignatureAlgorithm.RS256, digest, signature).isValid()).isTrue();
        digest[0] ^= 1;
        assertThat(crypto.verify(SignatureAlgorithm.RS256, digest, signature).isValid()).isFalse();

        KeyVaultKey rotated = keys.rotateKey("sdk-key");
        assertThat(rotated.getId()).isNotEqualTo(created.getId());
        assertThat(versions("sdk-key")).containsExactlyInAnyOrder(created.getProperties().getVersion(),
                rotated.getProperties().getVersion());
        assertThat(keys.getKeyRotationPolicy("sdk-key")).isNotNull();
        KeyRotationPolicy policy = keys.updateKeyRotationPolicy("sdk-key", new KeyRotationPolicy()
                .setLifetimeActions(List.of(new KeyRotationLifetimeAction(KeyRotationPolicyAction.ROTATE)
                        .setTimeAfterCreate("P90D")))
                .setExpiresIn("P2Y"));
        assertThat(policy.getExpiresIn()).isEqualTo("P2Y");
        KeyRotationPolicy read = keys.getKeyRotationPolicy("sdk-key");
        assertThat(read.getLifetimeActions()).hasSize(1);
        assertThat(read.getLifetimeActions().get(0).getTimeAfterCreate()).isEqualTo("P90D");

        Set<String> before = versions("sdk-key");
        byte[] backup = keys.backupKey("sdk-key");
        SyncPoller<DeletedKey, Void> deleting = keys.beginDeleteKey("sdk-key");
        assertThat(deleting.waitForCompletion(Duration.ofSeconds(60)).getStatus())
                .isEqualTo(LongRunningOperationStatus.SUCCESSFULLY_COMPLETED);
        assertThat(deleting.getFinalResult()).isNull();
        keys.purgeDeletedKey("sdk-key");
        KeyVaultKey restored = keys.restoreKeyBackup(backup);
        assertThat(restored.getId()).isEqualTo(rotated.getId());
        assertThat(versions("sdk-key")).isEqualTo(before);

        SyncPoller<DeletedKey, Void> deletingAgain = keys.beginDeleteKey("sdk-key");
        deletingAgain.waitForCompletion(Duration.ofSeconds(60));
        DeletedKey deleted = keys.getDeletedKey("sdk-key");
        assertThat(deleted.getRecoveryId()).isEqualTo(vaultUrl + "/deletedkeys/sdk-key");
        SyncPoller<KeyVaultKey, Void> recovering = keys.beginRecoverDeletedKey("sdk-key");
        assertThat(recovering.waitForCompletion(Duration.ofSeconds(60)).getStatus())
                .isEqualTo(LongRunningOperationStatus.SUCCESSFULLY_COMPLETED);
        assertThat(keys.getKey("sdk-key").getId()).isEqualTo(rotated.getId());
    }

    static Set<String> versions(String name) {
        return keys.listPropertiesOfKeyVersions(name).stream().map(KeyProperties::getVersion)
                .collect(Collectors.toSet());
    }
}
