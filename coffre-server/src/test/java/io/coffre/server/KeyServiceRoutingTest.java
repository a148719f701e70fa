package io.coffre.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.coffre.Endpoints;
import io.coffre.identity.Identity;
import io.coffre.json.Json;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The key-service routes over real HTTPS, in front of a {@link RecordingKeyService}: which request reaches which
 * operation with which arguments, and everything the routes decide before the service is called (host, challenge,
 * api-version, body, paging parameters). The service's own behaviour is tested against the real implementation.
 */
class KeyServiceRoutingTest {
    static final String KV = "kv1.vault.coffre.localhost";
    static final String HSM = "hsm1.managedhsm.coffre.localhost";
    static final String MGMT = "management.coffre.localhost";
    static final String V = "?api-version=7.6";
    static final String ARM_V = "?api-version=2022-07-01";

    static RecordingKeyService recorder;
    static TestServer server;
    static String token;
    static String adminId;

    @BeforeAll
    static void start() {
        recorder = new RecordingKeyService();
        server = TestServer.startWith(core -> List.of(new KeyVaultDataRoutes(recorder.service),
                new ManagedHsmRbacRoutes(recorder.service), new KeyVaultArmRoutes(recorder.service, core.asyncOperations())));
        Identity identity = server.server().core().identity();
        Endpoints endpoints = server.server().core().endpoints();
        adminId = identity.admin().objectId();
        token = identity.issueToken(identity.admin(), List.of(endpoints.vaultResource(),
                endpoints.managedHsmResource(), endpoints.managementResource()), Duration.ofHours(1));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @BeforeEach
    void forget() {
        recorder.calls.clear();
    }

    static HttpResponse<String> send(String method, String host, String pathAndQuery, String bearer, String body) {
        return server.send(method, host, pathAndQuery, bearer, body);
    }

    static JsonNode json(HttpResponse<String> r) {
        return Json.parse(r.body());
    }

    @Test
    void unauthenticatedBodilessCreateGetsTheChallengeBeforeAnyBodyCheck() {
        String tenant = server.server().core().identity().tenantId();
        HttpResponse<String> r = send("POST", KV, "/keys/k1/create" + V, null, null);
        assertThat(r.statusCode()).isEqualTo(401);
        assertThat(r.headers().firstValue("WWW-Authenticate")).hasValue("Bearer authorization=\"https://login"
                + ".coffre.localhost:" + server.port() + "/" + tenant + "\", resource=\"https://vault.coffre.localhost\"");
        assertThat(json(r).at("/error/code").asText()).isEqualTo("Unauthorized");

        HttpResponse<String> hsm = send("POST", HSM, "/keys/k1/create" + V, null, "{not json");
        assertThat(hsm.statusCode()).isEqualTo(401);
        assertThat(hsm.headers().firstValue("WWW-Authenticate").orElseThrow())
                .endsWith("resource=\"https://managedhsm.coffre.localhost\"");
        // Neither the api-version nor the body is judged before the caller is known.
        assertThat(send("GET", KV, "/keys?api-version=0.1", null, null).statusCode()).isEqualTo(401);
        assertThat(recorder.calls).isEmpty();
    }

    @Test
    void tokenForAnotherAudienceIsRefusedWithTheChallenge() {
        Identity identity = server.server().core().identity();
        String armOnly = identity.issueToken(identity.admin(),
                List.of(server.server().core().endpoints().managementResource()), Duration.ofHours(1));
        HttpResponse<String> r = send("GET", KV, "/keys/k1" + V, armOnly, null);
        assertThat(r.statusCode()).isEqualTo(401);
        assertThat(r.headers().firstValue("WWW-Authenticate").orElseThrow()).contains("resource=\"https://vault.");
        String vaultOnly = identity.issueToken(identity.admin(),
                List.of(server.server().core().endpoints().vaultResource()), Duration.ofHours(1));
        assertThat(send("GET", HSM, "/keys/k1" + V, vaultOnly, null).statusCode()).isEqualTo(401);
        assertThat(send("GET", KV, "/keys/k1" + V, vaultOnly, null).statusCode()).isEqualTo(200);
    }

    @ParameterizedTest
    @CsvSource({"api-version=7.6", "api%2Dversion=7.6", "api-version=7.0", "api-version=7.4-preview.1",
            "api-version=7.6-preview.2", "api-version=2025-07-01"})
    void acceptsTheDataPlaneVersionsClientsSend(String query) {
        HttpResponse<String> r = send("GET", KV, "/keys/k1?" + query, token, null);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    }

    @Test
    void rejectsMissingAndUnknownApiVersions() {
        HttpResponse<String> unknown = send("GET", KV, "/keys/k1?api-version=7.9", token, null);
        assertThat(unknown.statusCode()).isEqualTo(400);
        assertThat(json(unknown).at("/error/code").asText()).isEqualTo("BadParameter");
        assertThat(json(unknown).at("/error/message").asText())
                .startsWith("The specified version (7.9) is not recognized.");
        HttpResponse<String> missing = send("GET", KV, "/keys/k1", token, null);
        assertThat(missing.statusCode()).isEqualTo(400);
        assertThat(json(missing).at("/error/message").asText()).contains("api-version");
        assertThat(recorder.calls).isEmpty();
    }

    @Test
    void malformedOrNonObjectBodyIsBadParameterAndReachesNothing() {
        for (String body : new String[] {"{\"kty\":", "[1,2]", "\"RSA\""}) {
            HttpResponse<String> r = send("POST", KV, "/keys/k1/create" + V, token, body);
            assertThat(r.statusCode()).as(body).isEqualTo(400);
            assertThat(json(r).at("/error/code").asText()).isEqualTo("BadParameter");
        }
        assertThat(recorder.calls).isEmpty();
    }

    /** method, host, path (+ query), expected operation, then expected name=value arguments (value * = JSON body). */
    @ParameterizedTest(name = "{0} {2}")
    @CsvSource(delimiter = '|', value = {
        "GET   |kv |/keys                          |listKeys          |maxResults=25",
        "GET   |kv |/keys/k1                       |getKey            |name=k1 version=",
        "GET   |kv |/keys/k1/                      |getKey            |name=k1 version=",
        "GET   |kv |/keys/k1/0123456789abcdef0123456789abcdef|getKey|name=k1 version=0123456789abcdef0123456789abcdef",
        "GET   |kv |/keys/k1/versions              |listKeyVersions   |name=k1",
        "GET   |kv |/keys/versions/versions        |listKeyVersions   |name=versions",
        "GET   |kv |/keys/k1/rotationpolicy        |getRotationPolicy |name=k1",
        "GET   |kv |/keys/k1/RotationPolicy/       |getRotationPolicy |name=k1",
        "PUT   |kv |/keys/k1                       |importKey         |name=k1 keyImportParameters=*",
        "PUT   |kv |/keys/restore                  |importKey         |name=restore",
        "PUT   |kv |/keys/k1/rotationpolicy        |putRotationPolicy |name=k1 policy=*",
        "PATCH |kv |/keys/k1                       |updateKey         |name=k1 version= keyUpdateParameters=*",
        "PATCH |kv |/keys/k1/                      |updateKey         |name=k1 version=",
        "PATCH |kv |/keys/k1/v1                    |updateKey         |name=k1 version=v1",
        "DELETE|kv |/keys/k1                       |deleteKey         |name=k1",
        "POST  |kv |/keys/restore                  |restoreKey        |body=*",
        "POST  |kv |/keys/k1/create                |createKey         |name=k1 keyCreateParameters=*",
        "POST  |kv |/keys/restore/create           |createKey         |name=restore",
        "POST  |kv |/keys/k1/backup                |backupKey         |name=k1",
        "POST  |kv |/keys/k1/rotate                |rotateKey         |name=k1",
        "POST  |kv |/keys/k1/wrapkey               |keyOperation      |name=k1 version= operation=wrapkey body=*",
        "POST  |kv |/keys/k1/wrapKey               |keyOperation      |name=k1 operation=wrapkey",
        "POST  |kv |/keys/k1/v1/unwrapKey          |keyOperation      |name=k1 version=v1 operation=unwrapkey",
        "POST  |hsm|/keys/k1/v1/encrypt            |keyOperation      |store=MANAGED_HSM:hsm1 operation=encrypt",
        "POST  |kv |/keys/k1/decrypt               |keyOperation      |operation=decrypt",
        "POST  |kv |/keys/k1/v1/sign               |keyOperation      |operation=sign",
        "POST  |kv |/keys/k1/verify                |keyOperation      |operation=verify",
        "POST  |kv |/keys/k1/v1/release            |keyOperation      |operation=release version=v1",
        "POST  |kv |/keys/create/create            |createKey         |name=create",
        "GET   |kv |/deletedkeys                   |listDeletedKeys   |store=VAULT:kv1",
        "GET   |kv |/deletedkeys/k1                |getDeletedKey     |name=k1",
        "POST  |kv |/deletedkeys/k1/recover        |recoverDeletedKey |name=k1",
        "GET   |hsm|//providers/Microsoft.Authorization/roleDefinitions|listRoleDefinitions|scope=/ store=MANAGED_HSM:hsm1",
        "GET   |hsm|/providers/microsoft.authorization/roledefinitions?$filter=x|listRoleDefinitions|scope=/ filter=x",
        "GET   |hsm|/keys/providers/Microsoft.Authorization/roleDefinitions|listRoleDefinitions|scope=/keys",
        "GET   |hsm|//providers/Microsoft.Authorization/roleDefinitions/d1|getRoleDefinition|scope=/ definitionName=d1",
        "PUT   |hsm|//providers/Microsoft.Authorization/roleDefinitions/d1|putRoleDefinition|scope=/ definitionName=d1 body=*",
        "DELETE|hsm|/providers/Microsoft.Authorization/roleDefinitions/d1|deleteRoleDefinition|scope=/ definitionName=d1",
        "GET   |hsm|//providers/Microsoft.Authorization/roleAssignments?$filter=atScope()|listRoleAssignments|scope=/ filter=atScope()",
        "GET   |hsm|/keys/k1/providers/Microsoft.Authorization/roleAssignments|listRoleAssignments|scope=/keys/k1",
        "GET   |hsm|/keys/providers/Microsoft.Authorization/roleAssignments/a1|getRoleAssignment|scope=/keys assignmentName=a1",
        "PUT   |hsm|/keys/k1/providers/Microsoft.Authorization/roleAssignments/a1|putRoleAssignment|scope=/keys/k1 assignmentName=a1 body=*",
        "PUT   |hsm|/keys/providers/Microsoft.Authorization/roleAssignments/a1|putRoleAssignment|scope=/keys assignmentName=a1",
        "DELETE|hsm|//providers/Microsoft.Authorization/roleAssignments/a1|deleteRoleAssignment|scope=/ assignmentName=a1",
    })
    void requestReachesItsOperation(String method, String host, String path, String op, String args) {
        String body = method.equals("GET") || method.equals("DELETE") ? null : "{\"probe\":1}";
        String query = path.contains("?") ? "&api-version=7.6" : V;
        HttpResponse<String> r = send(method, host.equals("kv") ? KV : HSM, path + query, token, body);
        assertThat(r.statusCode()).as(r.body()).isIn(200, 201);
        assertThat(recorder.calls).hasSize(1);
        JsonNode call = recorder.last();
        assertThat(call.path("op").asText()).isEqualTo(op);
        assertThat(call.path("caller").asText()).isEqualTo(adminId);
        assertThat(call.path("store").asText()).isEqualTo(host.equals("kv") ? "VAULT:kv1" : "MANAGED_HSM:hsm1");
        for (String arg : args.trim().split(" +")) {
            String name = arg.substring(0, arg.indexOf('='));
            String value = arg.substring(arg.indexOf('=') + 1);
            if (value.equals("*")) {
                assertThat(call.path(name).path("probe").asInt()).as(name).isEqualTo(1);
            } else if (value.isEmpty()) {
                assertThat(call.path(name).isNull()).as(name + " is null in " + call).isTrue();
            } else {
                assertThat(call.path(name).asText()).as(name).isEqualTo(value);
            }
        }
        int expected = method.equals("PUT") && path.contains("/providers/") ? 201 : 200;
        assertThat(r.statusCode()).isEqualTo(expected);
    }

    @Test
    void purgeAnswers204WithoutBody() {
        HttpResponse<String> r = send("DELETE", KV, "/deletedkeys/k1" + V, token, null);
        assertThat(r.statusCode()).isEqualTo(204);
        assertThat(r.body()).isEmpty();
        assertThat(recorder.last().path("op").asText()).isEqualTo("purgeDeletedKey");
    }

    @Test
    void unknownKeyOperationIs404AfterAuthentication() {
        assertThat(send("POST", KV, "/keys/k1/explode" + V, null, null).statusCode()).isEqualTo(401);
        HttpResponse<String> r = send("POST", KV, "/keys/k1/v1/explode" + V, token, "{}");
        assertThat(r.statusCode()).isEqualTo(404);
        assertThat(json(r).at("/error/message").asText()).contains("wrapkey");
        assertThat(recorder.calls).isEmpty();
    }

    @Test
    void keyRoutesAreServedOnlyOnKeyStoreHostsAndRbacOnlyOnManagedHsms() {
        for (String host : new String[] {MGMT, "localhost", "attest.coffre.localhost"}) {
            assertThat(send("GET", host, "/keys" + V, token, null).statusCode()).as(host).isEqualTo(404);
        }
        assertThat(send("GET", KV, "/providers/Microsoft.Authorization/roleDefinitions" + V, token, null)
                .statusCode()).isEqualTo(404);
        assertThat(send("GET", KV, "/subscriptions/s1/providers/Microsoft.KeyVault/vaults" + ARM_V, token, null)
                .statusCode()).isEqualTo(404);
        assertThat(recorder.calls).isEmpty();
    }

    @ParameterizedTest
    @CsvSource({"0", "26", "abc", "-1"})
    void maxResultsOutsideOneToTwentyFiveIsRejected(String maxResults) {
        HttpResponse<String> r = send("GET", KV, "/keys" + V + "&maxresults=" + maxResults, token, null);
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(json(r).at("/error/code").asText()).isEqualTo("BadParameter");
        assertThat(recorder.calls).isEmpty();
    }

    @Test
    void nextLinkIsAbsoluteOnTheRequestAuthorityAndFollowedVerbatim() {
        JsonNode page = json(send("GET", KV, "/keys/k1/versions" + V + "&maxresults=3", token, null));
        assertThat(recorder.last().path("maxResults").asInt()).isEqualTo(3);
        assertThat(recorder.last().path("skipToken").isNull()).isTrue();
        int pages = 1;
        while (page.hasNonNull("nextLink")) {
            String next = page.path("nextLink").asText();
            assertThat(next).startsWith("https://" + KV + ":" + server.port() + "/keys/k1/versions?api-version=7.6");
            HttpResponse<String> r = server.send(HttpRequest.newBuilder(URI.create(next)).GET()
                    .header("Authorization", "Bearer " + token));
            assertThat(r.statusCode()).isEqualTo(200);
            page = json(r);
            pages++;
            assertThat(recorder.last().path("skipToken").asText()).isEqualTo("page" + pages);
            assertThat(recorder.last().path("maxResults").asInt()).isEqualTo(3);
        }
        assertThat(pages).isEqualTo(3);
    }

    // ---- management plane ----

    static final String RG = "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.KeyVault";

    @Test
    void storePutIs201WhenCreatedAnd200WhenUpdatedOnEitherPathCasing() {
        HttpResponse<String> created = send("PUT", MGMT, RG + "/vaults/missing1" + ARM_V, token,
                "{\"location\":\"uaenorth\"}");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        assertThat(created.headers().firstValue("Azure-AsyncOperation")).as("vault PUT is synchronous").isEmpty();
        assertThat(recorder.last().path("op").asText()).isEqualTo("putStore");
        assertThat(recorder.last().path("store").asText()).isEqualTo("VAULT:missing1");
        assertThat(recorder.last().at("/body/location").asText()).isEqualTo("uaenorth");

        HttpResponse<String> updated = send("PUT", MGMT, RG.replace("resourceGroups", "resourcegroups")
                .replace("Microsoft.KeyVault", "microsoft.keyvault") + "/managedHSMs/hsm1" + ARM_V, token, "{}");
        assertThat(updated.statusCode()).isEqualTo(200);
        assertThat(updated.headers().firstValue("Azure-AsyncOperation").orElseThrow())
                .startsWith("https://" + MGMT + ":" + server.port() + "/subscriptions/s1/providers/Microsoft.KeyVault/"
                        + "locations/uaenorth/operations/");
        assertThat(recorder.last().path("store").asText()).isEqualTo("MANAGED_HSM:hsm1");
        assertThat(recorder.last().path("resourceGroup").asText()).isEqualTo("rg1");
        assertThat(recorder.last().path("subscriptionId").asText()).isEqualTo("s1");
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource(delimiter = '|', value = {
        "GET   |/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.KeyVault/vaults/kv1|getStore|store=VAULT:kv1",
        "DELETE|/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.KeyVault/vaults/kv1|deleteStore|store=VAULT:kv1",
        "DELETE|/subscriptions/s1/resourcegroups/rg1/providers/Microsoft.KeyVault/managedHSMs/h1|deleteStore|store=MANAGED_HSM:h1",
        "GET   |/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.KeyVault/vaults|listStores|resourceGroupOrNull=rg1 kind=VAULT",
        "GET   |/subscriptions/s1/providers/Microsoft.KeyVault/vaults|listStores|resourceGroupOrNull= kind=VAULT",
        "GET   |/subscriptions/s1/providers/Microsoft.KeyVault/managedHSMs|listStores|kind=MANAGED_HSM",
        "GET   |/subscriptions/s1/providers/Microsoft.KeyVault/deletedVaults|listDeletedStores|kind=VAULT",
        "GET   |/subscriptions/s1/providers/Microsoft.KeyVault/deletedManagedHSMs|listDeletedStores|kind=MANAGED_HSM",
        "GET   |/subscriptions/s1/providers/Microsoft.KeyVault/locations/uaenorth/deletedVaults/kv1|getDeletedStore|location=uaenorth store=VAULT:kv1",
        "POST  |/subscriptions/s1/providers/Microsoft.KeyVault/locations/uaenorth/deletedVaults/kv1/purge|purgeDeletedStore|location=uaenorth store=VAULT:kv1",
        "POST  |/subscriptions/s1/providers/Microsoft.KeyVault/locations/koreacentral/deletedManagedHSMs/h1/purge|purgeDeletedStore|store=MANAGED_HSM:h1",
    })
    void managementRequestReachesItsOperation(String method, String path, String op, String args) {
        HttpResponse<String> r = send(method, MGMT, path + ARM_V, token, method.equals("POST") ? "" : null);
        // Deleting a managed HSM is long-running in Azure: 202 with the headers pollers follow.
        boolean async = method.equals("DELETE") && path.contains("/managedHSMs/");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(async ? 202 : 200);
        assertThat(r.headers().firstValue("Azure-AsyncOperation").isPresent()).isEqualTo(async);
        JsonNode call = recorder.last();
        assertThat(call.path("op").asText()).isEqualTo(op);
        assertThat(call.path("subscriptionId").asText()).isEqualTo("s1");
        for (String arg : args.trim().split(" +")) {
            String name = arg.substring(0, arg.indexOf('='));
            String value = arg.substring(arg.indexOf('=') + 1);
            if (value.isEmpty()) {
                assertThat(call.path(name).isNull()).as(name).isTrue();
            } else {
                assertThat(call.path(name).asText()).as(name).isEqualTo(value);
            }
        }
        if (op.startsWith("list")) {
            assertThat(json(r).path("value")).hasSize(1);
        }
    }

    @Test
    void managementRoutesWantAManagementTokenAndAnApiVersion() {
        Identity identity = server.server().core().identity();
        String vaultOnly = identity.issueToken(identity.admin(),
                List.of(server.server().core().endpoints().vaultResource()), Duration.ofHours(1));
        HttpResponse<String> r = send("GET", MGMT, RG + "/vaults/kv1" + ARM_V, vaultOnly, null);
        assertThat(r.statusCode()).isEqualTo(401);
        assertThat(json(r).at("/error/code").asText()).isEqualTo("InvalidAuthenticationToken");
        HttpResponse<String> noVersion = send("GET", MGMT, RG + "/vaults/kv1", token, null);
        assertThat(noVersion.statusCode()).isEqualTo(400);
        assertThat(json(noVersion).at("/error/code").asText()).isEqualTo("MissingApiVersionParameter");
        assertThat(send("PUT", MGMT, RG + "/vaults/kv1" + ARM_V, token, "{oops").statusCode()).isEqualTo(400);
        assertThat(recorder.calls).isEmpty();
    }

    @Test
    void patchMergesIntoTheCurrentResource() {
        HttpResponse<String> r = send("PATCH", MGMT, RG + "/vaults/kv1" + ARM_V, token,
                "{\"tags\":{\"a\":\"b\"},\"properties\":{\"enablePurgeProtection\":true}}");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(recorder.calls).extracting(c -> c.path("op").asText()).containsExactly("getStore", "putStore");
        JsonNode put = recorder.last().path("body");
        assertThat(put.at("/tags/a").asText()).isEqualTo("b");
        assertThat(put.at("/properties/enablePurgeProtection").asBoolean()).isTrue();
        assertThat(put.path("op").asText()).as("the current resource is the base").isEqualTo("getStore");
    }

    @Test
    void accessPolicyAddIsAPutOfTheEditedVault() {
        String policy = "{\"properties\":{\"accessPolicies\":[{\"tenantId\":\"t\",\"objectId\":\"o1\","
                + "\"permissions\":{\"keys\":[\"get\",\"wrapKey\"]}}]}}";
        HttpResponse<String> r = send("PUT", MGMT, RG + "/vaults/kv1/accessPolicies/add" + ARM_V, token, policy);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(json(r).path("type").asText()).isEqualTo("Microsoft.KeyVault/vaults/accessPolicies");
        assertThat(json(r).at("/properties/accessPolicies/0/objectId").asText()).isEqualTo("o1");
        JsonNode put = recorder.last();
        assertThat(put.path("op").asText()).isEqualTo("putStore");
        assertThat(put.at("/body/properties/accessPolicies/0/permissions/keys").toString())
                .isEqualTo("[\"get\",\"wrapKey\"]");
        HttpResponse<String> bad = send("PUT", MGMT, RG + "/vaults/kv1/accessPolicies/merge" + ARM_V, token, policy);
        assertThat(bad.statusCode()).isEqualTo(400);
    }

    @Test
    void checkNameAvailabilityLooksAtActiveAndDeletedStores() {
        String url = "/subscriptions/s1/providers/Microsoft.KeyVault/checkNameAvailability" + ARM_V;
        JsonNode free = json(send("POST", MGMT, url, token,
                "{\"name\":\"fresh-vault\",\"type\":\"Microsoft.KeyVault/vaults\"}"));
        assertThat(free.path("nameAvailable").asBoolean()).as(free.toString()).isTrue();
        assertThat(recorder.calls).extracting(c -> c.path("op").asText())
                .containsExactly("listStores", "listDeletedStores");
        JsonNode invalid = json(send("POST", MGMT, url, token, "{\"name\":\"1-bad--name\"}"));
        assertThat(invalid.path("reason").asText()).isEqualTo("AccountNameInvalid");
        HttpResponse<String> wrongType = send("POST", MGMT, url, token,
                "{\"name\":\"x\",\"type\":\"Microsoft.Compute/disks\"}");
        assertThat(wrongType.statusCode()).isEqualTo(400);
        HttpResponse<String> hsm = send("POST", MGMT,
                "/subscriptions/s1/providers/Microsoft.KeyVault/checkMhsmNameAvailability" + ARM_V, token,
                "{\"name\":\"hsm-two\"}");
        assertThat(json(hsm).path("nameAvailable").asBoolean()).isTrue();
    }
}
