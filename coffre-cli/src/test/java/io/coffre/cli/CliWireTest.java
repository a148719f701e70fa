package io.coffre.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.coffre.json.Json;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The exact requests each command sends (method, path, api-version, host, body), checked against the Azure wire
 * shapes the server implements (reference azure-rest-shapes §1-3, az-cli-2.45-wire §5).
 */
class CliWireTest {
    private static final String GUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
    private static final String RG = "/subscriptions/sub1/resourcegroups/rg1";
    private WireRecorder wire;
    private String token;

    @BeforeEach
    void start() throws Exception {
        wire = new WireRecorder(Files.createTempDirectory("coffre-wire"));
        token = Files.readString(wire.dataDir().resolve(Session.ADMIN_TOKEN_FILE));
    }

    @AfterEach
    void stop() {
        wire.close();
    }

    private CliRun.Result coffre(String... args) {
        return coffre(Map.of(), args);
    }

    private CliRun.Result coffre(Map<String, String> env, String... args) {
        List<String> argv = new ArrayList<>(List.of("--data-dir", wire.dataDir().toString()));
        argv.addAll(List.of(args));
        CliRun.Result r = CliRun.coffre(env, argv.toArray(String[]::new));
        return r;
    }

    private static CliRun.Result ok(CliRun.Result r) {
        assertThat(r.code()).as(r.toString()).isZero();
        return r;
    }

    private String host(String name) {
        return name + ".coffre.localhost:" + wire.port();
    }

    @Test
    void groupCreateFindsTheSubscriptionThenPutsTheGroupWithTheBearerToken() {
        wire.on("PUT", RG + "\\?api-version=2021-04-01", 201,
                "{\"id\":\"/subscriptions/sub1/resourceGroups/rg1\",\"name\":\"rg1\",\"location\":\"uaenorth\","
                        + "\"properties\":{\"provisioningState\":\"Succeeded\"}}");
        CliRun.Result r = ok(coffre("group", "create", "-n", "rg1", "-l", "uaenorth"));
        assertThat(wire.lines()).containsExactly("GET /subscriptions?api-version=2022-12-01",
                "PUT /subscriptions/sub1/resourcegroups/rg1?api-version=2021-04-01");
        WireRecorder.Request put = wire.last("PUT");
        assertThat(put.body()).isEqualTo(Json.parse("{\"location\":\"uaenorth\"}"));
        assertThat(put.host()).isEqualTo(host("management"));
        assertThat(wire.requests()).allSatisfy(q -> assertThat(q.authorization()).isEqualTo("Bearer " + token));
        assertThat(r.json().path("name").asText()).isEqualTo("rg1");
    }

    @Test
    void featureAndProviderRegistrationSendWhatAzSends() {
        String feature = "/subscriptions/sub1/providers/Microsoft.Features/providers/Microsoft.Compute/features/"
                + "RestorePointSupportForConfidentialVMV2";
        wire.on("POST", feature + "/register\\?api-version=2021-07-01", 200, "{\"name\":\"Microsoft.Compute/"
                + "RestorePointSupportForConfidentialVMV2\",\"properties\":{\"state\":\"Registering\"}}");
        wire.on("GET", "/subscriptions/sub1/providers/Microsoft.Compute\\?api-version=2021-04-01", 200,
                "{\"namespace\":\"Microsoft.Compute\",\"registrationState\":\"Registered\"}");
        wire.on("POST", "/subscriptions/sub1/providers/Microsoft.Compute/register\\?api-version=2021-04-01", 200,
                "{\"namespace\":\"Microsoft.Compute\",\"registrationState\":\"Registering\"}");
        ok(coffre("feature", "register", "--namespace", "Microsoft.Compute", "--name",
                "RestorePointSupportForConfidentialVMV2"));
        assertThat(wire.last("POST").body()).as("az sends no body").isNull();
        CliRun.Result provider = ok(coffre("provider", "register", "-n", "Microsoft.Compute", "--wait"));
        assertThat(provider.json().path("registrationState").asText()).isEqualTo("Registered");
        assertThat(wire.lines()).containsExactly("GET /subscriptions?api-version=2022-12-01",
                "POST " + feature + "/register?api-version=2021-07-01",
                "GET /subscriptions?api-version=2022-12-01",
                "POST /subscriptions/sub1/providers/Microsoft.Compute/register?api-version=2021-04-01",
                "GET /subscriptions/sub1/providers/Microsoft.Compute?api-version=2021-04-01");
    }

    @Test
    void subscriptionOptionAndTokenVariableOverrideTheDefaults() {
        wire.on("GET", "/subscriptions/sub9/resourcegroups\\?api-version=2021-04-01", 200,
                "{\"value\":[{\"name\":\"a\"}],\"nextLink\":\"https://" + host("management") + "/page2\"}");
        wire.on("GET", "/page2", 200, "{\"value\":[{\"name\":\"b\"}]}");
        CliRun.Result r = ok(coffre(Map.of(Session.TOKEN_ENV, "from-env"), "group", "list", "--subscription", "sub9"));
        assertThat(wire.lines()).containsExactly("GET /subscriptions/sub9/resourcegroups?api-version=2021-04-01",
                "GET /page2");
        assertThat(wire.requests()).allSatisfy(q -> assertThat(q.authorization()).isEqualTo("Bearer from-env"));
        assertThat(r.json()).hasSize(2);
    }

    @Test
    void groupDeleteWaitsOnTheLocationHeader() {
        String op = "https://" + host("management") + "/subscriptions/sub1/operationresults/op1";
        wire.on("DELETE", RG + "\\?api-version=2021-04-01",
                r -> new WireRecorder.Reply(202, null, Map.of("Location", op, "Retry-After", "0")));
        int[] polls = {0};
        wire.on("GET", "/subscriptions/sub1/operationresults/op1",
                r -> WireRecorder.Reply.json(++polls[0] < 2 ? 202 : 200, polls[0] < 2 ? null : "{}"));
        ok(coffre("group", "delete", "-n", "rg1"));
        assertThat(wire.lines()).containsExactly("GET /subscriptions?api-version=2022-12-01",
                "DELETE " + RG + "?api-version=2021-04-01", "GET /subscriptions/sub1/operationresults/op1",
                "GET /subscriptions/sub1/operationresults/op1");
    }

    @Test
    void keyvaultCreateChecksTheNameThenPutsAzsBody() {
        String vault = RG + "/providers/Microsoft.KeyVault/vaults/kv1\\?api-version=2022-07-01";
        wire.on("GET", vault, 404, "{\"error\":{\"code\":\"ResourceNotFound\",\"message\":\"no\"}}");
        wire.on("PUT", vault, r -> WireRecorder.Reply.json(201, Json.write(r.body())));
        ok(coffre("keyvault", "create", "-n", "kv1", "-g", "rg1", "-l", "uaenorth", "--sku", "premium",
                "--enable-purge-protection", "true"));
        assertThat(wire.lines()).containsExactly("GET /subscriptions?api-version=2022-12-01",
                "GET " + RG + "/providers/Microsoft.KeyVault/vaults/kv1?api-version=2022-07-01",
                "PUT " + RG + "/providers/Microsoft.KeyVault/vaults/kv1?api-version=2022-07-01");
        assertThat(wire.last("PUT").body()).isEqualTo(KeyVaultCommand.vaultBody("uaenorth", WireRecorder.TENANT_ID,
                "premium", WireRecorder.OBJECT_ID, 90, true, null));
    }

    @Test
    void keyvaultCreateRefusesAnExistingVault() {
        wire.on("GET", RG + "/providers/Microsoft.KeyVault/vaults/kv1\\?api-version=2022-07-01", 200, "{}");
        CliRun.Result r = coffre("keyvault", "create", "-n", "kv1", "-g", "rg1", "-l", "uaenorth");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("ERROR: The specified vault: kv1 already exists.\n");
        assertThat(wire.lines()).noneMatch(l -> l.startsWith("PUT"));
    }

    @Test
    void managedHsmCreateFollowsTheAsyncOperation() {
        String hsm = RG + "/providers/Microsoft.KeyVault/managedHSMs/hsm1\\?api-version=2023-07-01";
        String status = "https://" + host("management") + "/subscriptions/sub1/providers/Microsoft.KeyVault/"
                + "locations/uaenorth/operationResults/op2";
        wire.on("PUT", hsm, r -> new WireRecorder.Reply(201, "{\"properties\":{\"provisioningState\":\"Provisioning\"}}",
                Map.of("Azure-AsyncOperation", status, "Retry-After", "0")));
        int[] polls = {0};
        wire.on("GET", "/subscriptions/sub1/providers/Microsoft.KeyVault/locations/uaenorth/operationResults/op2",
                r -> WireRecorder.Reply.json(200, ++polls[0] < 2 ? "{\"status\":\"InProgress\"}" : "{\"status\":\"Succeeded\"}"));
        wire.on("GET", hsm, 200, "{\"name\":\"hsm1\",\"properties\":{\"provisioningState\":\"Succeeded\"}}");
        CliRun.Result r = ok(coffre("keyvault", "create", "--hsm-name", "hsm1", "-g", "rg1", "-l", "uaenorth",
                "--administrators", "a1", "a2", "--retention-days", "7"));
        assertThat(wire.lines()).containsExactly("GET /subscriptions?api-version=2022-12-01",
                "PUT " + RG + "/providers/Microsoft.KeyVault/managedHSMs/hsm1?api-version=2023-07-01",
                "GET /subscriptions/sub1/providers/Microsoft.KeyVault/locations/uaenorth/operationResults/op2",
                "GET /subscriptions/sub1/providers/Microsoft.KeyVault/locations/uaenorth/operationResults/op2",
                "GET " + RG + "/providers/Microsoft.KeyVault/managedHSMs/hsm1?api-version=2023-07-01");
        assertThat(wire.last("PUT").body()).isEqualTo(KeyVaultCommand.hsmBody("uaenorth", WireRecorder.TENANT_ID,
                List.of("a1", "a2"), 7, false));
        assertThat(r.json().path("name").asText()).isEqualTo("hsm1");
    }

    @Test
    void aFailedAsyncOperationReportsItsError() {
        String status = "https://" + host("management") + "/ops/op3";
        wire.on("PUT", RG + "/providers/Microsoft.KeyVault/managedHSMs/hsm1\\?api-version=2023-07-01",
                r -> new WireRecorder.Reply(202, null, Map.of("Azure-AsyncOperation", status, "Retry-After", "0")));
        wire.on("GET", "/ops/op3", 200,
                "{\"status\":\"Failed\",\"error\":{\"code\":\"QuotaExceeded\",\"message\":\"No more HSMs.\"}}");
        CliRun.Result r = coffre("keyvault", "create", "--hsm-name", "hsm1", "-g", "rg1", "-l", "uaenorth",
                "--administrators", "a1");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("ERROR: (QuotaExceeded) No more HSMs.\n");
    }

    @Test
    void diskEncryptionSetCreatePutsAzsBodyWithTheGroupsLocation() {
        String des = RG + "/providers/Microsoft.Compute/diskEncryptionSets/des1\\?api-version=2022-07-02";
        wire.on("GET", RG + "\\?api-version=2021-04-01", 200, "{\"name\":\"rg1\",\"location\":\"uaenorth\"}");
        wire.on("PUT", des, r -> WireRecorder.Reply.json(200, Json.write(r.body())));
        String kid = "https://kv1.vault.coffre.localhost/keys/k1/v1";
        String vault = RG + "/providers/Microsoft.KeyVault/vaults/kv1";
        ok(coffre("disk-encryption-set", "create", "-g", "rg1", "-n", "des1", "--key-url", kid, "--source-vault",
                vault, "--encryption-type", "ConfidentialVmEncryptedWithCustomerKey", "--enable-auto-key-rotation",
                "false"));
        assertThat(wire.lines()).containsExactly("GET /subscriptions?api-version=2022-12-01",
                "GET " + RG + "?api-version=2021-04-01",
                "PUT " + RG + "/providers/Microsoft.Compute/diskEncryptionSets/des1?api-version=2022-07-02");
        assertThat(wire.last("PUT").body()).isEqualTo(Json.parse("{\"location\":\"uaenorth\","
                + "\"identity\":{\"type\":\"SystemAssigned\"},\"properties\":{\"encryptionType\":"
                + "\"ConfidentialVmEncryptedWithCustomerKey\",\"activeKey\":{\"keyUrl\":\"" + kid + "\","
                + "\"sourceVault\":{\"id\":\"" + vault + "\"}},\"rotationToLatestKeyVersionEnabled\":false}}"));
    }

    @Test
    void diskEncryptionSetUpdatePatchesTheKeyThenWaitsForTheRotationAndRereads() {
        String des = RG + "/providers/Microsoft.Compute/diskEncryptionSets/des1\\?api-version=2022-07-02";
        String status = "https://" + host("management") + "/subscriptions/sub1/providers/Microsoft.Compute/"
                + "locations/uaenorth/operations/rot1";
        wire.on("PATCH", des, r -> new WireRecorder.Reply(200, "{\"name\":\"des1\"}",
                Map.of("Azure-AsyncOperation", status, "Retry-After", "0")));
        int[] polls = {0};
        wire.on("GET", "/subscriptions/sub1/providers/Microsoft.Compute/locations/uaenorth/operations/rot1",
                r -> WireRecorder.Reply.json(200, ++polls[0] < 2 ? "{\"status\":\"InProgress\"}"
                        : "{\"status\":\"Succeeded\"}"));
        wire.on("GET", des, 200, "{\"name\":\"des1\",\"properties\":{\"lastKeyRotationTimestamp\":"
                + "\"2026-11-29T00:00:00Z\"}}");
        String kid = "https://kv1.vault.coffre.localhost/keys/k1/v2";
        CliRun.Result r = ok(coffre("disk-encryption-set", "update", "-g", "rg1", "-n", "des1", "--key-url", kid,
                "--enable-auto-key-rotation"));
        String path = RG + "/providers/Microsoft.Compute/diskEncryptionSets/des1?api-version=2022-07-02";
        String operation = "/subscriptions/sub1/providers/Microsoft.Compute/locations/uaenorth/operations/rot1";
        assertThat(wire.lines()).containsExactly("GET /subscriptions?api-version=2022-12-01", "PATCH " + path,
                "GET " + operation, "GET " + operation, "GET " + path);
        assertThat(wire.last("PATCH").body()).isEqualTo(Json.parse("{\"properties\":{\"activeKey\":{\"keyUrl\":\""
                + kid + "\"},\"rotationToLatestKeyVersionEnabled\":true}}"));
        assertThat(r.json().at("/properties/lastKeyRotationTimestamp").asText()).isEqualTo("2026-11-29T00:00:00Z");
    }

    @Test
    void diskEncryptionSetUpdateWithoutRotationPrintsThePatchAnswer() {
        String des = RG + "/providers/Microsoft.Compute/diskEncryptionSets/des1\\?api-version=2022-07-02";
        wire.on("PATCH", des, 200, "{\"name\":\"des1\",\"properties\":{\"rotationToLatestKeyVersionEnabled\":false}}");
        CliRun.Result r = ok(coffre("disk-encryption-set", "update", "-g", "rg1", "-n", "des1", "-o", "table",
                "--enable-auto-key-rotation", "false"));
        assertThat(wire.lines()).containsExactly("GET /subscriptions?api-version=2022-12-01",
                "PATCH " + RG + "/providers/Microsoft.Compute/diskEncryptionSets/des1?api-version=2022-07-02");
        assertThat(r.out()).startsWith("Name").contains("EncryptionType").contains("LastKeyRotation").contains("des1");
    }

    @Test
    void setPolicyWithoutGroupFindsTheVaultThenWritesItBackWithThePolicy() {
        wire.on("GET", "/subscriptions/sub1/resources\\?\\$filter=resourceType%20eq%20%27Microsoft.KeyVault%2Fvaults%27"
                + "&api-version=2015-11-01", 200, "{\"value\":[{\"name\":\"kv1\",\"id\":\"/subscriptions/sub1/"
                + "resourceGroups/rg7/providers/Microsoft.KeyVault/vaults/kv1\",\"type\":\"Microsoft.KeyVault/vaults\"}]}");
        wire.on("GET", "/v1.0/servicePrincipals\\?\\$filter=servicePrincipalNames%2Fany%28c%3Ac%20eq%20%27app1%27%29",
                200, "{\"value\":[{\"id\":\"sp-oid\",\"appId\":\"app1\"}]}");
        String vault = "/subscriptions/sub1/resourcegroups/rg7/providers/Microsoft.KeyVault/vaults/kv1"
                + "\\?api-version=2022-07-01";
        wire.on("GET", vault, 200, "{\"location\":\"uaenorth\",\"properties\":{\"tenantId\":\"T\","
                + "\"sku\":{\"family\":\"A\",\"name\":\"premium\"},\"accessPolicies\":[]}}");
        wire.on("PUT", vault, r -> WireRecorder.Reply.json(200, Json.write(r.body())));
        ok(coffre("keyvault", "set-policy", "-n", "kv1", "--spn", "app1", "--key-permissions", "get", "list",
                "backup"));
        assertThat(wire.lines()).containsExactly("GET /subscriptions?api-version=2022-12-01",
                "GET /subscriptions/sub1/resources?$filter=resourceType%20eq%20%27Microsoft.KeyVault%2Fvaults%27"
                        + "&api-version=2015-11-01",
                "GET /v1.0/servicePrincipals?$filter=servicePrincipalNames%2Fany%28c%3Ac%20eq%20%27app1%27%29",
                "GET /subscriptions/sub1/resourcegroups/rg7/providers/Microsoft.KeyVault/vaults/kv1?api-version=2022-07-01",
                "PUT /subscriptions/sub1/resourcegroups/rg7/providers/Microsoft.KeyVault/vaults/kv1?api-version=2022-07-01");
        assertThat(wire.last("PUT").body().path("properties").path("accessPolicies")).isEqualTo(Json.parse(
                "[{\"tenantId\":\"T\",\"objectId\":\"sp-oid\",\"permissions\":{\"keys\":[\"get\",\"list\",\"backup\"]}}]"));
        assertThat(wire.last("PUT").body().path("properties").path("sku").path("name").asText()).isEqualTo("premium");
    }

    @Test
    void recoverFindsTheDeletedVaultsLocationAndGroup() {
        wire.on("GET", "/subscriptions/sub1/providers/Microsoft.KeyVault/deletedVaults\\?api-version=2022-07-01", 200,
                "{\"value\":[{\"name\":\"kv1\",\"properties\":{\"location\":\"koreacentral\"}}]}");
        wire.on("GET", "/subscriptions/sub1/providers/Microsoft.KeyVault/locations/koreacentral/deletedVaults/kv1"
                + "\\?api-version=2022-07-01", 200, "{\"name\":\"kv1\",\"properties\":{\"location\":\"koreacentral\","
                + "\"vaultId\":\"/subscriptions/sub1/resourceGroups/rg5/providers/Microsoft.KeyVault/vaults/kv1\"}}");
        wire.on("PUT", "/subscriptions/sub1/resourcegroups/rg5/providers/Microsoft.KeyVault/vaults/kv1"
                + "\\?api-version=2022-07-01", 200, "{\"name\":\"kv1\"}");
        wire.on("POST", "/subscriptions/sub1/providers/Microsoft.KeyVault/locations/koreacentral/deletedVaults/kv1/purge"
                + "\\?api-version=2022-07-01", 200, null);
        ok(coffre("keyvault", "recover", "-n", "kv1"));
        assertThat(wire.last("PUT").body()).isEqualTo(Json.parse("{\"location\":\"koreacentral\",\"properties\":"
                + "{\"tenantId\":\"" + WireRecorder.TENANT_ID + "\",\"createMode\":\"recover\","
                + "\"sku\":{\"family\":\"A\",\"name\":\"standard\"}}}"));
        CliRun.Result purged = ok(coffre("keyvault", "purge", "-n", "kv1", "-l", "koreacentral"));
        assertThat(purged.out()).isEmpty();
        assertThat(wire.lines()).endsWith("GET /subscriptions?api-version=2022-12-01",
                "POST /subscriptions/sub1/providers/Microsoft.KeyVault/locations/koreacentral/deletedVaults/kv1/purge"
                        + "?api-version=2022-07-01");
    }

    @Test
    void keyCreateWithTheDefaultCvmPolicyPostsToTheHsmHost() {
        wire.on("POST", "/keys/cvmkey/create\\?api-version=7.6", 200,
                "{\"key\":{\"kid\":\"https://hsm1.managedhsm.coffre.localhost/keys/cvmkey/v1\"},\"attributes\":{\"enabled\":true}}");
        CliRun.Result r = ok(coffre("keyvault", "key", "create", "--hsm-name", "hsm1", "-n", "cvmkey", "--kty",
                "RSA-HSM", "--size", "3072", "--exportable", "--default-cvm-policy", "-o", "table"));
        WireRecorder.Request post = wire.last("POST");
        assertThat(post.line()).isEqualTo("POST /keys/cvmkey/create?api-version=7.6");
        assertThat(post.host()).isEqualTo(host("hsm1.managedhsm"));
        assertThat(post.body()).isEqualTo(KeyCommand.createParameters("RSA-HSM", 3072, null, null, true,
                CvmPolicy.defaultPolicy("https://attest.coffre.localhost:" + wire.port() + "/"), null));
        assertThat(r.out()).contains("cvmkey  https://hsm1.managedhsm.coffre.localhost/keys/cvmkey/v1  true");
    }

    @Test
    void cryptoOperationsNameTheLatestVersionExplicitly() {
        wire.on("GET", "/keys/k1\\?api-version=7.6", 200,
                "{\"key\":{\"kid\":\"https://kv1.vault.coffre.localhost/keys/k1/0123abcd\"}}");
        wire.on("POST", "/keys/k1/0123abcd/wrapkey\\?api-version=7.6", 200, "{\"kid\":\"k\",\"value\":\"AAEC\"}");
        wire.on("POST", "/keys/k1/v0/sign\\?api-version=7.6", 200, "{\"kid\":\"k\",\"value\":\"c2ln\"}");
        ok(coffre("keyvault", "key", "wrap", "--vault-name", "kv1", "-n", "k1", "-a", "RSA-OAEP-256", "--value", "AQID"));
        ok(coffre("keyvault", "key", "sign", "--vault-name", "kv1", "-n", "k1", "--version", "v0", "-a", "RS256",
                "--digest", "ZGlnZXN0"));
        assertThat(wire.lines()).containsExactly("GET /keys/k1?api-version=7.6",
                "POST /keys/k1/0123abcd/wrapkey?api-version=7.6", "POST /keys/k1/v0/sign?api-version=7.6");
        assertThat(wire.requests().get(1).body()).isEqualTo(Json.parse("{\"alg\":\"RSA-OAEP-256\",\"value\":\"AQID\"}"));
        assertThat(wire.requests().get(1).host()).isEqualTo(host("kv1.vault"));
        assertThat(wire.last("POST").body()).isEqualTo(Json.parse("{\"alg\":\"RS256\",\"value\":\"ZGlnZXN0\"}"));
    }

    @Test
    void backupWritesTheBlobAndRestoreSendsItBack() throws Exception {
        wire.on("POST", "/keys/k1/backup\\?api-version=7.6", 200, "{\"value\":\"AQIDBA\"}");
        wire.on("POST", "/keys/restore\\?api-version=7.6", 200, "{\"key\":{\"kid\":\"https://x/keys/k1/v\"}}");
        Path file = wire.dataDir().resolve("k1.backup");
        ok(coffre("keyvault", "key", "backup", "--vault-name", "kv1", "-n", "k1", "--file", file.toString()));
        assertThat(Files.readAllBytes(file)).containsExactly(1, 2, 3, 4);
        CliRun.Result again = coffre("keyvault", "key", "backup", "--vault-name", "kv1", "-n", "k1", "--file",
                file.toString());
        assertThat(again.code()).isEqualTo(2);
        assertThat(again.err()).contains("already exists");
        ok(coffre("keyvault", "key", "restore", "--vault-name", "kv1", "--file", file.toString()));
        assertThat(wire.lines()).containsExactly("POST /keys/k1/backup?api-version=7.6",
                "POST /keys/restore?api-version=7.6");
        assertThat(wire.last("POST").body()).isEqualTo(Json.parse("{\"value\":\"AQIDBA\"}"));
    }

    @Test
    void keyLifecycleAndRotationPolicyPaths() {
        wire.on("DELETE", "/keys/k1\\?api-version=7.6", 200, "{\"recoveryId\":\"r\"}");
        wire.on("POST", "/deletedkeys/k1/recover\\?api-version=7.6", 200, "{}");
        wire.on("DELETE", "/deletedkeys/k1\\?api-version=7.6", 204, null);
        wire.on("POST", "/keys/k1/rotate\\?api-version=7.6", 200, "{}");
        wire.on("PUT", "/keys/k1/rotationpolicy\\?api-version=7.6", r -> WireRecorder.Reply.json(200, Json.write(r.body())));
        wire.on("GET", "/keys/k1/rotationpolicy\\?api-version=7.6", 200, "{\"lifetimeActions\":[]}");
        wire.on("GET", "/keys/k1/versions\\?api-version=7.6", 200, "{\"value\":[]}");
        wire.on("GET", "/deletedkeys\\?api-version=7.6", 200, "{\"value\":[]}");
        String hsm = "--hsm-name";
        ok(coffre("keyvault", "key", "delete", hsm, "hsm2", "-n", "k1"));
        ok(coffre("keyvault", "key", "recover", hsm, "hsm2", "-n", "k1"));
        CliRun.Result purge = ok(coffre("keyvault", "key", "purge", hsm, "hsm2", "-n", "k1"));
        ok(coffre("keyvault", "key", "rotate", hsm, "hsm2", "-n", "k1"));
        ok(coffre("keyvault", "key", "rotation-policy", "update", hsm, "hsm2", "-n", "k1", "--value",
                "{\"lifetimeActions\":[{\"trigger\":{\"timeAfterCreate\":\"P90D\"},\"action\":{\"type\":\"Rotate\"}}]}"));
        ok(coffre("keyvault", "key", "rotation-policy", "show", hsm, "hsm2", "-n", "k1"));
        ok(coffre("keyvault", "key", "list-versions", hsm, "hsm2", "-n", "k1"));
        ok(coffre("keyvault", "key", "list-deleted", hsm, "hsm2"));
        assertThat(purge.out()).isEmpty();
        assertThat(wire.lines()).containsExactly("DELETE /keys/k1?api-version=7.6",
                "POST /deletedkeys/k1/recover?api-version=7.6", "DELETE /deletedkeys/k1?api-version=7.6",
                "POST /keys/k1/rotate?api-version=7.6", "PUT /keys/k1/rotationpolicy?api-version=7.6",
                "GET /keys/k1/rotationpolicy?api-version=7.6", "GET /keys/k1/versions?api-version=7.6",
                "GET /deletedkeys?api-version=7.6");
        assertThat(wire.requests()).allSatisfy(q -> assertThat(q.host()).isEqualTo(host("hsm2.managedhsm")));
    }

    @Test
    void hsmRoleAssignmentResolvesTheRoleAtTheScopeAndPutsANewGuid() {
        wire.on("GET", "/v1.0/servicePrincipals/262044b1-e2ce-469f-a196-69ab7ada62d3", 200,
                "{\"id\":\"bms-oid\",\"appId\":\"262044b1-e2ce-469f-a196-69ab7ada62d3\"}");
        wire.on("GET", "/keys/cvmkey/providers/Microsoft.Authorization/roleDefinitions\\?api-version=7.6", 200,
                "{\"value\":[{\"id\":\"Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/"
                        + "21dbd100-6940-42c2-9190-5d6cb909625b\",\"name\":\"21dbd100-6940-42c2-9190-5d6cb909625b\","
                        + "\"properties\":{\"roleName\":\"Managed HSM Crypto User\"}}]}");
        wire.on("PUT", "/keys/cvmkey/providers/Microsoft.Authorization/roleAssignments/" + GUID + "\\?api-version=7.6",
                r -> WireRecorder.Reply.json(201, Json.write(r.body())));
        ok(coffre("keyvault", "role", "assignment", "create", "--hsm-name", "hsm1", "--role",
                "managed hsm crypto user", "--assignee", "262044b1-e2ce-469f-a196-69ab7ada62d3", "--scope",
                "/keys/cvmkey"));
        assertThat(wire.lines()).hasSize(3);
        assertThat(wire.lines().get(0)).isEqualTo("GET /v1.0/servicePrincipals/262044b1-e2ce-469f-a196-69ab7ada62d3");
        assertThat(wire.requests().get(0).host()).isEqualTo(host("management"));
        assertThat(wire.lines().get(1))
                .isEqualTo("GET /keys/cvmkey/providers/Microsoft.Authorization/roleDefinitions?api-version=7.6");
        assertThat(wire.lines().get(2)).matches("PUT /keys/cvmkey/providers/Microsoft.Authorization/roleAssignments/"
                + GUID + "\\?api-version=7.6");
        assertThat(wire.last("PUT").host()).isEqualTo(host("hsm1.managedhsm"));
        assertThat(wire.last("PUT").body()).isEqualTo(Json.parse("{\"properties\":{\"roleDefinitionId\":"
                + "\"Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/21dbd100-6940-42c2-9190-5d6cb909625b\","
                + "\"principalId\":\"bms-oid\"}}"));
    }

    @Test
    void hsmRolePutsMustAnswer201AsTheSdkInsists() {
        wire.on("PUT", "/providers/Microsoft.Authorization/roleDefinitions/" + GUID + "\\?api-version=7.6", 200, "{}");
        CliRun.Result r = coffre("keyvault", "role", "definition", "create", "--hsm-name", "hsm1", "--role-definition",
                "{\"roleName\":\"r\",\"dataActions\":[\"Microsoft.KeyVault/managedHsm/keys/read/action\"]}");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).startsWith("ERROR: (UnexpectedStatus) PUT").contains("answered 200 where clients expect [201]");
        assertThat(wire.lines().get(0)).matches("PUT /providers/Microsoft.Authorization/roleDefinitions/" + GUID
                + "\\?api-version=7.6");
    }

    @Test
    void hsmRoleAssignmentDeleteByAssigneeDeletesEachMatchAtItsScope() {
        wire.on("GET", "/providers/Microsoft.Authorization/roleAssignments\\?api-version=7.6", 200,
                "{\"value\":[{\"name\":\"a1\",\"properties\":{\"scope\":\"/keys/k\",\"principalId\":\"p\","
                        + "\"roleDefinitionId\":\"x/roleDefinitions/r1\"}},{\"name\":\"a2\",\"properties\":{\"scope\":\"/\","
                        + "\"principalId\":\"q\",\"roleDefinitionId\":\"x/roleDefinitions/r1\"}}]}");
        wire.on("DELETE", "/keys/k/providers/Microsoft.Authorization/roleAssignments/a1\\?api-version=7.6", 200, "{}");
        ok(coffre("keyvault", "role", "assignment", "delete", "--hsm-name", "hsm3", "--assignee-object-id", "p"));
        assertThat(wire.lines()).containsExactly("GET /providers/Microsoft.Authorization/roleAssignments?api-version=7.6",
                "DELETE /keys/k/providers/Microsoft.Authorization/roleAssignments/a1?api-version=7.6");
    }

    @Test
    void armRoleAssignmentFiltersDefinitionsByRoleName() {
        wire.on("GET", "/v1.0/servicePrincipals/app1", 200, "{\"id\":\"sp-oid\"}");
        wire.on("GET", "/subscriptions/sub1/providers/Microsoft.Authorization/roleDefinitions\\?\\$filter=roleName%20eq"
                + "%20%27Owner%27&api-version=2022-04-01", 200, "{\"value\":[{\"id\":\"/subscriptions/sub1/providers/"
                + "Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635\","
                + "\"name\":\"8e3af657-a8ff-443c-a75c-2fe8c4bcb635\",\"properties\":{\"roleName\":\"Owner\"}}]}");
        wire.on("PUT", "/subscriptions/sub1/providers/Microsoft.Authorization/roleAssignments/" + GUID
                + "\\?api-version=2022-04-01", 201, "{}");
        ok(coffre("role", "assignment", "create", "--role", "Owner", "--assignee", "app1"));
        assertThat(wire.lines()).hasSize(4);
        assertThat(wire.lines().get(3)).matches("PUT /subscriptions/sub1/providers/Microsoft.Authorization/"
                + "roleAssignments/" + GUID + "\\?api-version=2022-04-01");
        assertThat(wire.last("PUT").body()).isEqualTo(Json.parse("{\"properties\":{\"roleDefinitionId\":\"/subscriptions/"
                + "sub1/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635\","
                + "\"principalId\":\"sp-oid\"}}"));
    }

    @Test
    void assigneeUnknownToTheDirectoryIsUsedAsAnObjectIdWithAWarning() {
        wire.on("GET", "/subscriptions/sub1/resourceGroups/rg1/providers/Microsoft.Authorization/roleAssignments"
                + "\\?\\$filter=principalId%20eq%20%27aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee%27&api-version=2022-04-01",
                200, "{\"value\":[]}");
        CliRun.Result r = ok(coffre("role", "assignment", "list", "-g", "rg1", "--assignee",
                "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"));
        assertThat(r.err()).contains("WARNING: No service principal 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee'");
        assertThat(r.json()).isEmpty();
    }

    @Test
    void servicePrincipalCreateShowsTheSecretOnce() {
        wire.on("POST", "/v1.0/servicePrincipals", 201, "{\"id\":\"oid1\",\"appId\":\"app1\",\"displayName\":\"ci\","
                + "\"passwordCredentials\":[{\"keyId\":\"k1\",\"secretText\":\"s3cret\"}]}");
        wire.on("GET", "/v1.0/servicePrincipals/app1", 200, "{\"id\":\"oid1\",\"appId\":\"app1\"}");
        wire.on("POST", "/v1.0/servicePrincipals/oid1/addPassword", 200, "{\"keyId\":\"k2\",\"secretText\":\"n3w\"}");
        CliRun.Result created = ok(coffre("ad", "sp", "create", "--display-name", "ci"));
        assertThat(created.json()).isEqualTo(Json.parse("{\"appId\":\"app1\",\"objectId\":\"oid1\",\"displayName\":\"ci\","
                + "\"secret\":\"s3cret\",\"secretKeyId\":\"k1\",\"tenant\":\"" + WireRecorder.TENANT_ID + "\"}"));
        assertThat(created.err()).contains("shown only now");
        assertThat(wire.requests().get(0).body()).isEqualTo(Json.parse("{\"displayName\":\"ci\"}"));
        CliRun.Result reset = ok(coffre("ad", "sp", "credential", "reset", "--id", "app1"));
        assertThat(reset.json().path("secret").asText()).isEqualTo("n3w");
        assertThat(wire.lines()).containsExactly("POST /v1.0/servicePrincipals", "GET /v1.0/servicePrincipals/app1",
                "POST /v1.0/servicePrincipals/oid1/addPassword");
    }

    @Test
    void auditVerifyFailsWhenTheChainIsBroken() {
        wire.on("GET", "/admin/audit\\?prefix=https%3A%2F%2Fkv1&top=5", 200, "{\"value\":[{\"sequence\":1}]}");
        wire.on("GET", "/admin/audit/verify", 200, "{\"intact\":false,\"problem\":\"entry 7 was edited\"}");
        CliRun.Result listed = ok(coffre("keyvault", "audit", "list", "--prefix", "https://kv1", "--top", "5"));
        assertThat(listed.json()).isEqualTo(Json.parse("[{\"sequence\":1}]"));
        CliRun.Result verified = coffre("keyvault", "audit", "verify");
        assertThat(verified.code()).isEqualTo(1);
        assertThat(verified.err()).isEqualTo("ERROR: The audit log is NOT intact: entry 7 was edited\n");
        wire.on("GET", "/admin/audit/verify", 200, "{\"intact\":true}");
        ok(coffre("keyvault", "audit", "verify"));
    }

    @Test
    void attestationTokenSendsTheRuntimeKeyAsAJwkAndPrintsTheToken() throws Exception {
        KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
        rsa.initialize(2048);
        java.security.interfaces.RSAPublicKey key = (java.security.interfaces.RSAPublicKey) rsa.generateKeyPair().getPublic();
        Path pem = wire.dataDir().resolve("runtime.pem");
        Files.writeString(pem, "-----BEGIN PUBLIC KEY-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(key.getEncoded())
                + "\n-----END PUBLIC KEY-----\n");
        wire.on("POST", "/attest/SevSnpVm\\?api-version=2022-08-01", 200, "{\"token\":\"eyJ.eyJ.sig\"}");
        CliRun.Result r = ok(coffre("attestation", "token", "--type", "SevSnpVm", "--runtime-key-file", pem.toString(),
                "--vm-id", "vm-1"));
        assertThat(r.out()).isEqualTo("eyJ.eyJ.sig\n");
        WireRecorder.Request post = wire.last("POST");
        assertThat(post.host()).isEqualTo(host("attest"));
        JsonNode expectedKey = Jwk.rsaPublic(key);
        ((com.fasterxml.jackson.databind.node.ObjectNode) expectedKey).putArray("key_ops").add("encrypt");
        assertThat(post.body()).isEqualTo(Json.object().put("vmId", "vm-1").set("runtimeKey", expectedKey));
    }

    @Test
    void serverErrorsPrintCodeAndMessageLikeAz() {
        wire.on("GET", "/keys/nokey\\?api-version=7.6", 404, "{\"error\":{\"code\":\"KeyNotFound\",\"message\":"
                + "\"A key with (name/id) nokey was not found in this key vault.\"}}");
        CliRun.Result r = coffre("keyvault", "key", "show", "--vault-name", "kv1", "-n", "nokey");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).isEqualTo("ERROR: (KeyNotFound) A key with (name/id) nokey was not found in this key vault.\n");
    }

    @Test
    void aHostNameOutsideTheResolverFileIsReportedAsSuch() {
        CliRun.Result r = coffre("keyvault", "key", "list", "--vault-name", "not-in-test-hosts");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).startsWith("ERROR: Cannot resolve not-in-test-hosts.vault.coffre.localhost: this process "
                + "resolves names through jdk.net.hosts.file=");
    }

    @Test
    void aMissingTokenIsExplainedWhenTheServerRefuses() throws Exception {
        Files.delete(wire.dataDir().resolve(Session.ADMIN_TOKEN_FILE));
        wire.on("GET", "/admin/clock", r -> WireRecorder.Reply.json(r.authorization() == null ? 401 : 200,
                "{\"error\":{\"code\":\"AuthenticationFailed\",\"message\":\"Authentication failed.\"}}"));
        CliRun.Result r = coffre("admin", "clock", "show");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).startsWith("ERROR: (AuthenticationFailed) Authentication failed. (No token was sent: set "
                + "COFFRE_TOKEN");
    }
}
