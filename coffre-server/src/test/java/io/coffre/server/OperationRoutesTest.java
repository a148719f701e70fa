package io.coffre.server;

import static io.coffre.server.ArmClient.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.coffre.arm.ArmException;
import io.coffre.arm.AsyncOperations;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class OperationRoutesTest {
    private static TestServer server;
    private static ArmClient admin;
    private static String sub;
    private static String vault;

    @BeforeAll
    static void start() {
        server = TestServer.start();
        admin = ArmClient.admin(server);
        sub = "/subscriptions/" + admin.subscriptionId();
        vault = sub + "/resourceGroups/ops/providers/Microsoft.KeyVault/vaults/kvops";
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static AsyncOperations ops() {
        return server.server().core().asyncOperations();
    }

    @Test
    void pollingHeadersAreAbsoluteAndLeadToTheResult() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AsyncOperations.Operation op = ops().runAsync(vault, "test/purge", () -> {
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return "{\"purged\":true}";
        });
        String base = "/providers/Microsoft.KeyVault/locations/uaenorth";
        for (String host : new String[] {ArmClient.HOST, "127.0.0.1"}) {
            HttpResponse<String> pending = admin.sendTo(host, "GET", sub + base + "/operationResults/" + op.id()
                    + "?api-version=2022-07-01", null);
            assertThat(pending.statusCode()).isEqualTo(202);
            String origin = "https://" + host + ":" + server.port();
            assertThat(pending.headers().firstValue("Azure-AsyncOperation")).contains(origin + sub + base
                    + "/operations/" + op.id() + "?api-version=2022-07-01");
            assertThat(pending.headers().firstValue("Location")).contains(origin + sub + base + "/operationResults/"
                    + op.id() + "?api-version=2022-07-01");
            assertThat(pending.headers().firstValue("Retry-After")).contains("1");
        }
        String statusUrl = admin.sendTo("127.0.0.1", "GET", sub + base + "/operationResults/" + op.id()
                + "?api-version=2022-07-01", null).headers().firstValue("Azure-AsyncOperation").orElseThrow();
        JsonNode running = json(admin.sendUrl("GET", statusUrl, null));
        assertThat(running.get("status").asText()).isEqualTo("InProgress");
        assertThat(running.get("name").asText()).isEqualTo(op.id());
        assertThat(running.get("id").asText()).isEqualTo(sub + base + "/operations/" + op.id());
        assertThat(running.has("startTime")).isTrue();
        assertThat(running.has("endTime")).isFalse();

        release.countDown();
        JsonNode done = pollUntilDone(statusUrl);
        assertThat(done.get("status").asText()).isEqualTo("Succeeded");
        assertThat(done.has("endTime")).isTrue();
        assertThat(done.has("error")).isFalse();
        HttpResponse<String> result = admin.get(sub + base + "/operationResults/" + op.id() + "?api-version=2022-07-01");
        assertThat(result.statusCode()).isEqualTo(200);
        assertThat(json(result).get("purged").asBoolean()).isTrue();
    }

    @Test
    void aFailedOperationReportsItsErrorBothWays() {
        AsyncOperations.Operation op = ops().runAsync(vault, "test/purge", () -> {
            throw ArmException.conflict("VaultPurgeProtected", "Purge protection is on until 2030-01-01.");
        });
        String base = sub + "/providers/Microsoft.KeyVault/locations/uaenorth";
        JsonNode status = pollUntilDone(admin.send("GET", base + "/operations/" + op.id() + "?api-version=2022-07-01",
                null).request().uri().toString());
        assertThat(status.get("status").asText()).isEqualTo("Failed");
        assertThat(status.at("/error/code").asText()).isEqualTo("VaultPurgeProtected");
        assertThat(status.at("/error/message").asText()).isEqualTo("Purge protection is on until 2030-01-01.");
        HttpResponse<String> result = admin.get(base + "/operationResults/" + op.id() + "?api-version=2022-07-01");
        assertThat(result.statusCode()).isEqualTo(409);
        assertThat(json(result).at("/error/code").asText()).isEqualTo("VaultPurgeProtected");
    }

    @Test
    void aResultlessOperationEndsWith204() {
        String rgId = sub + "/resourceGroups/ops";
        AsyncOperations.Operation op = ops().start(rgId, "test/delete-group");
        ops().succeed(op.id(), null);
        HttpResponse<String> result = admin.get(sub + "/providers/Microsoft.Resources/locations/uaenorth"
                + "/operationResults/" + op.id() + "?api-version=2021-04-01");
        assertThat(result.statusCode()).isEqualTo(204);
    }

    @Test
    void anEmptyResultEndsWith200AndNoBody() {
        String rgId = sub + "/resourceGroups/ops";
        AsyncOperations.Operation op = ops().start(rgId, "test/end-access");
        ops().succeed(op.id(), AsyncOperations.EMPTY_RESULT);
        HttpResponse<String> result = admin.get(sub + "/providers/Microsoft.Resources/locations/uaenorth"
                + "/operationResults/" + op.id() + "?api-version=2021-04-01");
        assertThat(result.statusCode()).isEqualTo(200);
        assertThat(result.body()).isEmpty();
    }

    @Test
    void operationsAreOnlyFoundWhereTheyBelongAndByThoseWhoMayReadThem() {
        AsyncOperations.Operation op = ops().start(vault, "test/other");
        HttpResponse<String> wrongProvider = admin.get(sub + "/providers/Microsoft.Authorization/locations/uaenorth"
                + "/operations/" + op.id() + "?api-version=2022-04-01");
        assertThat(wrongProvider.statusCode()).isEqualTo(404);
        assertThat(json(wrongProvider).at("/error/code").asText()).isEqualTo("OperationNotFound");
        HttpResponse<String> wrongSubscription = admin.get("/subscriptions/00000000-0000-0000-0000-000000000000"
                + "/providers/Microsoft.KeyVault/locations/uaenorth/operations/" + op.id() + "?api-version=2022-07-01");
        assertThat(wrongSubscription.statusCode()).isEqualTo(404);
        HttpResponse<String> unknownNamespace = admin.get(sub + "/providers/Microsoft.Nothing/locations/uaenorth"
                + "/operations/" + op.id() + "?api-version=2022-07-01");
        assertThat(json(unknownNamespace).at("/error/code").asText()).isEqualTo("InvalidResourceNamespace");
        HttpResponse<String> badVersion = admin.get(sub + "/providers/Microsoft.KeyVault/locations/uaenorth"
                + "/operations/" + op.id() + "?api-version=2019-11-01");
        assertThat(json(badVersion).at("/error/code").asText()).isEqualTo("InvalidApiVersionParameter");

        var stranger = new ArmClient(server, server.server().core().identity().createServicePrincipal("stranger")
                .principal());
        HttpResponse<String> forbidden = stranger.get(sub + "/providers/Microsoft.KeyVault/locations/uaenorth"
                + "/operations/" + op.id() + "?api-version=2022-07-01");
        assertThat(forbidden.statusCode()).isEqualTo(403);
        assertThat(json(forbidden).at("/error/message").asText()).contains("Microsoft.KeyVault/vaults/read");
    }

    private static JsonNode pollUntilDone(String statusUrl) {
        Instant deadline = Instant.now().plus(Duration.ofSeconds(10));
        while (Instant.now().isBefore(deadline)) {
            JsonNode status = json(admin.sendUrl("GET", statusUrl, null));
            if (!status.get("status").asText().equals("InProgress")) {
                return status;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        throw new AssertionError("operation behind " + statusUrl + " did not finish");
    }
}
