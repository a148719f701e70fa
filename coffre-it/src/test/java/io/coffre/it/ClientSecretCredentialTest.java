package io.coffre.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.azure.core.credential.AccessToken;
import com.azure.core.credential.TokenRequestContext;
import com.azure.core.http.HttpClient;
import com.azure.core.http.netty.NettyAsyncHttpClientBuilder;
import com.azure.identity.ClientSecretCredential;
import com.azure.identity.ClientSecretCredentialBuilder;
import com.microsoft.aad.msal4j.MsalServiceException;
import io.coffre.identity.Identity;
import io.coffre.server.TestServer;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The official {@code ClientSecretCredential} signs in against Coffre's token endpoint. */
class ClientSecretCredentialTest {
    private static TestServer server;
    private static Identity identity;
    private static Identity.Credentials sp;
    private static HttpClient httpClient;

    @BeforeAll
    static void start() throws SSLException {
        server = TestServer.start();
        identity = server.server().core().identity();
        sp = identity.createServicePrincipal("sdk-client");
        // Trust scoped to this client: only the test server's certificate, no JVM-wide trust store.
        SslContext ssl = SslContextBuilder.forClient().trustManager(server.server().tlsCertificate()).build();
        httpClient = new NettyAsyncHttpClientBuilder(reactor.netty.http.client.HttpClient.create()
                .secure(spec -> spec.sslContext(ssl))).build();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static ClientSecretCredential credential(String secret) {
        return new ClientSecretCredentialBuilder()
                .authorityHost("https://login.coffre.localhost:" + server.port())
                .disableInstanceDiscovery()
                .tenantId(identity.tenantId())
                .clientId(sp.principal().appId())
                .clientSecret(secret)
                .httpClient(httpClient)
                .build();
    }

    @Test
    void getsAVaultTokenThatCoffreAccepts() {
        AccessToken token = credential(sp.clientSecret())
                .getTokenSync(new TokenRequestContext().addScopes("https://vault.coffre.localhost/.default"));

        assertThat(token.getToken()).isNotBlank();
        assertThat(token.getExpiresAt()).isBetween(OffsetDateTime.now().plusMinutes(55),
                OffsetDateTime.now().plusMinutes(65));
        // refresh_in reached the SDK: without it the token would count as stale at once.
        assertThat(token.getRefreshAt()).isAfter(OffsetDateTime.now().plusMinutes(25));
        assertThat(identity.authenticate(token.getToken(), server.server().core().endpoints().vaultResource()))
                .get().extracting(p -> p.objectId()).isEqualTo(sp.principal().objectId());
        assertThat(identity.authenticate(token.getToken(), server.server().core().endpoints().managementResource()))
                .as("a vault token is not a management token").isEmpty();
    }

    @Test
    void managementTokenOpensTheDirectory() {
        AccessToken token = credential(sp.clientSecret())
                .getTokenSync(new TokenRequestContext().addScopes("https://management.coffre.localhost//.default"));

        String filter = URLEncoder.encode("appId eq '" + sp.principal().appId() + "'", StandardCharsets.UTF_8);
        HttpResponse<String> r = server.get("management.coffre.localhost", "/v1.0/servicePrincipals?$filter="
                + filter, token.getToken());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.body()).contains(sp.principal().objectId()).contains("sdk-client");
    }

    // The SDK's sync path wraps MSAL's exception in a plain RuntimeException; what Coffre sent is MSAL's.
    @Test
    void wrongSecretSurfacesTheEntraDescription() {
        ClientSecretCredential wrong = credential("not-the-secret");
        assertThatThrownBy(() -> wrong.getTokenSync(
                new TokenRequestContext().addScopes("https://vault.coffre.localhost/.default")))
                .rootCause().isInstanceOfSatisfying(MsalServiceException.class, e -> {
                    assertThat(e.statusCode()).isEqualTo(401);
                    assertThat(e.errorCode()).isEqualTo("invalid_client");
                    assertThat(e).hasMessageStartingWith("AADSTS7000215: Invalid client secret provided");
                });
    }

    @Test
    void unknownResourceSurfacesTheEntraDescription() {
        assertThatThrownBy(() -> credential(sp.clientSecret()).getTokenSync(
                new TokenRequestContext().addScopes("https://vault.azure.net/.default")))
                .rootCause().isInstanceOfSatisfying(MsalServiceException.class,
                        e -> assertThat(e).hasMessageStartingWith("AADSTS500011"));
    }
}
