package io.coffre.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

class CoffreServerTest {
    @Test
    void servesHealthOverHttpsOnEveryHostName() {
        try (TestServer s = TestServer.start()) {
            for (String host : new String[] {"localhost", "management.coffre.localhost", "kv1.vault.coffre.localhost",
                    "hsm1.managedhsm.coffre.localhost", "127.0.0.1"}) {
                HttpResponse<String> r = s.get(host, "/health", null);
                assertThat(r.statusCode()).as(host).isEqualTo(200);
                assertThat(r.body()).contains("Healthy");
            }
        }
    }

    @Test
    void unknownPathGetsAnArmErrorBody() {
        try (TestServer s = TestServer.start()) {
            HttpResponse<String> r = s.get("localhost", "/no/such/thing", null);
            assertThat(r.statusCode()).isEqualTo(404);
            assertThat(r.body()).contains("\"code\":\"NotFound\"");
        }
    }

    @Test
    void unknownPathGetsAnArmErrorBodyEvenWhenJsonIsAccepted() {
        try (TestServer s = TestServer.start()) {
            HttpResponse<String> r = s.send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create(s.url("localhost") + "/no/such/thing")).header("Accept", "application/json"));
            assertThat(r.statusCode()).isEqualTo(404);
            assertThat(r.body()).contains("\"code\":\"NotFound\"");
        }
    }

    @Test
    void classifiesHostsBySuffix() {
        assertThat(RequestHost.classify("KV1.vault.coffre.localhost:8443", "coffre.localhost"))
                .isEqualTo(new RequestHost(RequestHost.Kind.VAULT, "kv1"));
        assertThat(RequestHost.classify("hsm1.managedhsm.coffre.localhost", "coffre.localhost"))
                .isEqualTo(new RequestHost(RequestHost.Kind.MANAGED_HSM, "hsm1"));
        assertThat(RequestHost.classify("attest.coffre.localhost:1", "coffre.localhost").kind())
                .isEqualTo(RequestHost.Kind.ATTESTATION);
        assertThat(RequestHost.classify("127.0.0.1:8443", "coffre.localhost").kind())
                .isEqualTo(RequestHost.Kind.MANAGEMENT);
    }
}
