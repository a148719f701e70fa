package io.coffre.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.CoffreCore;
import io.coffre.identity.Principal;
import io.coffre.json.Json;
import io.coffre.keyvault.KeyService.Store;
import io.coffre.keyvault.crypto.ReleasePolicy;
import io.coffre.server.TestServer;
import io.coffre.server.TlsMaterial;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The official JavaScript client {@code @azure/arm-compute} (25.1.1, pinned in {@code src/test/js}) against a running
 * Coffre over HTTPS, signing in with {@code ClientSecretCredential} as the administrator: {@code compute-flow.mjs}
 * runs disk encryption sets, disks, direct upload, snapshots, restore and key rotation, {@code vm-flow.mjs} a
 * customer-key confidential VM with restore points, each with the client's own pollers, and prints what it saw as
 * one JSON line. What is not Compute (resource groups, the premium vault, its confidential VM keys and their new
 * versions) is made in-process here; the flows grant vault access themselves, over REST.
 */
class ArmComputeJsTest {
    static final String KEYS_GROUP = "rg-keys";
    static final String LOCATION = "uaenorth";
    static final String VAULT = "kv1";
    static final int IMAGE_BYTES = 4 * 1024 * 1024 + 512;
    static final String VM_SIZE = "Standard_DC2as_v6";

    static TestServer server;
    static CoffreCore core;
    static Principal admin;
    static String vaultId;

    @BeforeAll
    static void start() {
        server = TestServer.start();
        core = server.server().core();
        admin = core.identity().admin();
        core.resourceManager().putResourceGroup(admin, subscription(), KEYS_GROUP, LOCATION, Map.of());
        vaultId = createPremiumVault();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void theOfficialJsClientRunsDisksSnapshotsAndKeyRotation() throws Exception {
        Flow flow = runFlow("compute-flow.mjs", "rg-js", "cvm-key", Map.of());
        JsonNode out = flow.out();
        String keyUrl = flow.keyUrl();
        String rotatedKeyUrl = flow.rotatedKeyUrl();
        String expected = flow.imageSha256();
        assertThat(out.path("imageSha256").asText()).isEqualTo(expected);
        assertThat(out.path("snapshotSha256").asText()).as("snapshot read back").isEqualTo(expected);
        assertThat(out.path("restoredSha256").asText()).as("restored disk read after the key rotation")
                .isEqualTo(expected);
        assertThat(out.path("pageWrites").asInt()).isEqualTo(5);

        JsonNode des = out.path("des");
        assertThat(des.path("keyUrl").asText()).isEqualTo(keyUrl);
        assertThat(des.path("encryptionType").asText()).isEqualTo("ConfidentialVmEncryptedWithCustomerKey");
        assertThat(des.path("principalId").asText()).isNotBlank();
        assertThat(des.path("tenantId").asText()).isEqualTo(core.identity().tenantId());
        assertThat(des.path("createdMatches").asBoolean()).isTrue();
        assertThat(out.at("/emptyDisk/diskSizeGB").asInt()).isEqualTo(4);
        assertThat(out.at("/emptyDisk/securityType").asText()).isEqualTo("ConfidentialVM_DiskEncryptedWithCustomerKey");
        assertThat(out.at("/emptyDisk/diskState").asText()).isEqualTo("Unattached");
        assertThat(out.path("uploadState").asText()).isEqualTo("ActiveUpload");
        assertThat(out.path("afterUploadState").asText()).isEqualTo("Unattached");
        assertThat(out.at("/snapshot/incremental").asBoolean()).isTrue();
        assertThat(out.at("/restoredDisk/diskSizeBytes").asLong()).isEqualTo(IMAGE_BYTES);
        assertThat(out.at("/restoredDisk/timeCreated").asText()).isNotBlank();
        assertThat(out.at("/restoredDisk/sourceResourceId").asText()).endsWith("/snapshots/snap-cvm");
        assertThat(out.at("/tags/updated/purpose").asText()).isEqualTo("restore-test");
        assertThat(out.at("/tags/read/purpose").asText()).isEqualTo("restore-test");
        // subscription-wide lists: other tests' resources may be there too
        assertThat(Json.MAPPER.convertValue(out.path("subscriptionDes"), String[].class)).contains("des-cvm");
        assertThat(Json.MAPPER.convertValue(out.path("disks"), String[].class))
                .containsExactly("empty-cvm", "restored-cvm", "upload-cvm");
        assertThat(Json.MAPPER.convertValue(out.path("subscriptionDisks"), String[].class))
                .contains("empty-cvm", "restored-cvm", "upload-cvm");
        assertThat(Json.MAPPER.convertValue(out.path("snapshots"), String[].class)).containsExactly("snap-cvm");
        assertThat(Json.MAPPER.convertValue(out.path("associated"), String[].class))
                .containsExactly("empty-cvm", "restored-cvm", "snap-cvm", "upload-cvm");

        JsonNode rotation = out.path("rotation");
        assertThat(rotation.path("keyUrl").asText()).isEqualTo(rotatedKeyUrl);
        assertThat(rotation.path("updateKeyUrl").asText()).as("beginUpdateAndWait's result").isEqualTo(rotatedKeyUrl);
        assertThat(rotation.path("lastKeyRotationTimestamp").asText()).isNotBlank();

        assertError(out.path("notFound"), 404, "ResourceNotFound");
        assertError(out.path("badRequest"), 400, "InvalidParameter");
        assertError(out.path("desInUse"), 409, "DiskEncryptionSetInUse");
        assertThat(out.path("disksAfterDelete")).isEmpty();
        assertThat(out.path("desAfterDelete")).isEmpty();
        assertError(out.path("goneDes"), 404, "ResourceNotFound");
        assertThat(core.resourceIndex().get(des.path("id").asText())).isEmpty();
    }

    @Test
    void theOfficialJsClientRunsAConfidentialVmWithRestorePoints() throws Exception {
        // a v6 confidential size in a region where confidential VMs get restore points
        assertThat(core.supportMatrix().regions()).contains(LOCATION);
        assertThat(core.supportMatrix().checkRestorePoint(LOCATION, VM_SIZE, false)).isEmpty();
        Flow flow = runFlow("vm-flow.mjs", "rg-vm", "vm-key", Map.of("COFFRE_VM_SIZE", VM_SIZE));
        JsonNode out = flow.out();
        String rotatedKeyUrl = flow.rotatedKeyUrl();
        String expected = flow.imageSha256();
        assertThat(out.path("imageSha256").asText()).isEqualTo(expected);
        assertThat(out.path("rotatedKeyUrl").asText()).isEqualTo(rotatedKeyUrl);
        JsonNode size = out.path("vmSize");
        assertThat(size.path("listed").asInt()).as("sizes of the region, read by the official client").isPositive();
        assertThat(size.path("skus").asInt()).isEqualTo(size.path("listed").asInt());
        assertThat(size.path("numberOfCores").asInt()).isEqualTo(2);
        assertThat(size.path("memoryInMB").asInt()).isEqualTo(8192);
        assertThat(size.at("/skuLocations/0").asText()).isEqualTo("uaenorth");
        assertThat(size.path("skuFamily").asText()).isEqualTo("standardDCASv6Family");
        assertThat(size.path("confidentialComputingType").asText()).isEqualTo("SNP");
        assertThat(Json.MAPPER.convertValue(out.at("/resize/options"), String[].class))
                .contains(VM_SIZE, "Standard_DC4as_v6").doesNotContain("Standard_DC2es_v6");
        assertThat(out.at("/resize/size").asText()).as("the VM as the update's poller returned it")
                .isEqualTo("Standard_DC4as_v6");
        assertThat(out.path("diskRestorePointSha256").asText())
                .as("the data disk read from its disk restore point after the DES key rotation").isEqualTo(expected);
        assertThat(out.path("restoredSha256").asText()).as("a disk restored from the disk restore point")
                .isEqualTo(expected);

        JsonNode vm = out.path("vm");
        assertThat(vm.path("provisioningState").asText()).isEqualTo("Succeeded");
        assertThat(vm.path("securityType").asText()).isEqualTo("ConfidentialVM");
        assertThat(vm.path("osDiskEncryption").asText()).isEqualTo("DiskWithVMGuestState");
        assertThat(vm.path("vmId").asText()).isNotBlank();
        assertThat(vm.path("osDiskId").asText()).endsWithIgnoringCase("/disks/cvm1-os");
        assertThat(vm.path("dataDiskId").asText()).endsWithIgnoringCase("/disks/vm-data");
        assertThat(out.at("/osDisk/diskState").asText()).isEqualTo("Attached");
        assertThat(out.at("/osDisk/managedBy").asText()).isEqualToIgnoringCase(vm.path("id").asText());
        assertThat(out.at("/osDisk/securityType").asText()).isEqualTo("ConfidentialVM_DiskEncryptedWithCustomerKey");
        assertThat(out.path("powerAfterCreate").asText()).isEqualTo("PowerState/running");
        assertThat(out.path("powerAfterPowerOff").asText()).isEqualTo("PowerState/stopped");
        assertThat(out.path("powerAfterStart").asText()).isEqualTo("PowerState/running");
        assertThat(Json.MAPPER.convertValue(out.path("vms"), String[].class)).containsExactly("cvm1");

        assertThat(out.at("/collection/sourceId").asText()).isEqualToIgnoringCase(vm.path("id").asText());
        JsonNode point = out.path("restorePoint");
        assertThat(point.path("provisioningState").asText()).isEqualTo("Succeeded");
        assertThat(point.path("vmId").asText()).isEqualTo(vm.path("vmId").asText());
        assertThat(point.path("securityType").asText()).isEqualTo("ConfidentialVM");
        assertThat(point.path("osDiskEncryptionSet").asText()).endsWithIgnoringCase("/diskEncryptionSets/des-vm");
        assertThat(out.path("diskPoints").asInt()).isEqualTo(2);
        assertThat(out.path("diskRestorePointViews").asInt()).isEqualTo(2);
        assertThat(Json.MAPPER.convertValue(out.path("collectionPoints"), String[].class)).containsExactly("rp1");
        assertThat(out.path("restoredSource").asText()).contains("/restorePoints/rp1/diskRestorePoints/");
        assertThat(out.at("/guestState/distinctUrl").asBoolean()).isTrue();
        assertThat(out.at("/guestState/magic").asText()).as("the VM guest state read through securityDataAccessSAS")
                .isEqualTo("COFFRE-VMGS");
        assertThat(out.at("/guestState/afterRevoke").asInt()).isEqualTo(403);
        JsonNode secureUpload = out.path("secureUpload");
        assertThat(secureUpload.path("createOption").asText()).isEqualTo("UploadPreparedSecure");
        assertThat(secureUpload.path("securityType").asText()).isEqualTo("ConfidentialVM_DiskEncryptedWithCustomerKey");
        assertThat(secureUpload.path("vmProvisioningState").asText()).isEqualTo("Succeeded");
        assertThat(secureUpload.path("diskSha256").asText()).as("the OS disk uploaded with its guest state")
                .isEqualTo(expected);
        assertThat(secureUpload.path("sameGuestState").asBoolean())
                .as("the guest state uploaded through the Write grant's securityDataAccessSAS reads back").isTrue();

        assertThat(Json.MAPPER.convertValue(out.at("/attach/luns"), int[].class)).containsExactly(0, 1);
        assertThat(out.at("/attach/provisioningState").asText()).isEqualTo("Succeeded");
        assertThat(out.at("/attach/restoredManagedBy").asText()).isEqualToIgnoringCase(vm.path("id").asText());
        assertThat(Json.MAPPER.convertValue(out.at("/detach/luns"), int[].class)).containsExactly(0);
        assertThat(out.at("/detach/restoredState").asText()).isEqualTo("Unattached");
        assertError(out.path("attachedGrant"), 409, "OperationNotAllowed");
        assertError(out.path("crashConsistent"), 400, "CrashConsistentRestorePointsNotSupported");
        assertError(out.path("notConfidentialSize"), 400, "BadRequest");
        assertThat(out.at("/notConfidentialSize/message").asText()).contains("Standard_D2s_v5");
        assertError(out.path("goneVm"), 404, "ResourceNotFound");
        assertThat(Json.MAPPER.convertValue(out.path("disksAfterVmDelete"), String[].class))
                .as("the OS disk goes with the VM (deleteOption Delete), the data disk stays (Detach)")
                .containsExactly("cvm-up-os", "vm-data", "vm-data-restored");
        assertThat(out.path("dataDiskState").asText()).isEqualTo("Unattached");
    }

    private static void assertError(JsonNode error, int status, String code) {
        assertThat(error.path("statusCode").asInt()).as(error.toString()).isEqualTo(status);
        assertThat(error.path("code").asText()).as(error.toString()).isEqualTo(code);
        assertThat(error.path("message").asText()).as(error.toString()).isNotBlank();
    }

    private static String subscription() {
        return core.identity().defaultSubscriptionId();
    }

    /**
     * What every flow needs: Coffre's endpoint (node does not read the JVM's hosts file: 127.0.0.1, which the
     * certificate covers), the admin's client credentials from the data directory, the management scope, the TLS
     * certificate to trust, the resource group and the vault; plus the flow's own variables.
     */
    private static Map<String, String> environment(String group, Map<String, String> flowVariables) throws Exception {
        JsonNode credentials = Json.parse(Files.readString(server.dataDir()
                .resolve(CoffreCore.ADMIN_CREDENTIALS_FILE)));
        String endpoint = "https://127.0.0.1:" + server.port();
        Map<String, String> env = new HashMap<>(flowVariables);
        env.put("NODE_EXTRA_CA_CERTS", server.dataDir().resolve(TlsMaterial.CERT_FILE).toString());
        env.put("COFFRE_ENDPOINT", endpoint);
        env.put("COFFRE_AUTHORITY_HOST", endpoint);
        env.put("COFFRE_TENANT_ID", credentials.path("tenantId").asText());
        env.put("COFFRE_CLIENT_ID", credentials.path("clientId").asText());
        env.put("COFFRE_CLIENT_SECRET", credentials.path("clientSecret").asText());
        env.put("COFFRE_MANAGEMENT_SCOPE", core.endpoints().managementResource() + "/.default");
        env.put("COFFRE_SUBSCRIPTION_ID", subscription());
        env.put("COFFRE_RESOURCE_GROUP", group);
        env.put("COFFRE_LOCATION", LOCATION);
        env.put("COFFRE_VAULT_ID", vaultId);
        return env;
    }

    /** A premium, purge-protected vault whose access policy gives the admin every key permission. */
    private static String createPremiumVault() {
        ObjectNode vault = Json.object().put("location", LOCATION);
        ObjectNode p = vault.putObject("properties");
        p.putObject("sku").put("family", "A").put("name", "premium");
        p.put("tenantId", core.identity().tenantId()).put("enablePurgeProtection", true);
        p.putArray("accessPolicies").addObject().put("tenantId", core.identity().tenantId())
                .put("objectId", admin.objectId()).putObject("permissions").putArray("keys").add("all");
        return core.keyService().putStore(admin, subscription(), KEYS_GROUP, Store.vault(VAULT), vault).path("id")
                .asText();
    }

    /** RSA-HSM 3072, exportable, with the confidential VM release policy: what a CVM disk encryption set needs. */
    private static String createConfidentialVmKey(String name) {
        ObjectNode params = Json.object().put("kty", "RSA-HSM").put("key_size", 3072);
        params.putObject("attributes").put("exportable", true);
        params.putObject("release_policy").put("contentType", "application/json; charset=utf-8")
                .put("data", Json.b64url(ReleasePolicy.defaultCvmPolicy(core.endpoints().attestationIssuer())));
        return core.keyService().createKey(admin, Store.vault(VAULT), name, params).path("key").path("kid").asText();
    }

    /**
     * What a flow script printed, with the confidential VM key it was given (created for it, then rotated once) and
     * the SHA-256 of the image it wrote.
     */
    private record Flow(JsonNode out, String keyUrl, String rotatedKeyUrl, String imageSha256) {
    }

    /**
     * Runs {@code script} in a new resource group {@code group} with a new key {@code keyName} and its rotated
     * version, a fresh image seed and {@code flowVariables}; the script must exit 0.
     */
    private static Flow runFlow(String script, String group, String keyName, Map<String, String> flowVariables)
            throws Exception {
        NodeProject node = NodeProject.prepare(Path.of("src/test/js"), Path.of("target/js-client"));
        core.resourceManager().putResourceGroup(admin, subscription(), group, LOCATION, Map.of());
        String keyUrl = createConfidentialVmKey(keyName);
        String rotatedKeyUrl = core.keyService().rotateKey(admin, Store.vault(VAULT), keyName).path("key")
                .path("kid").asText();
        String seed = UUID.randomUUID().toString();
        Map<String, String> variables = new HashMap<>(flowVariables);
        variables.put("COFFRE_KEY_URL", keyUrl);
        variables.put("COFFRE_ROTATED_KEY_URL", rotatedKeyUrl);
        variables.put("COFFRE_DATA_SEED", seed);
        variables.put("COFFRE_IMAGE_BYTES", Integer.toString(IMAGE_BYTES));
        NodeProject.Run run = node.run(script, environment(group, variables));
        assertThat(run.exitCode()).as(run.stderr()).isZero();
        return new Flow(run.json(), keyUrl, rotatedKeyUrl, expectedImageSha256(seed));
    }

    /** The script's image: SHA-256 of "seed:i" for the i-th 32 bytes. */
    private static String expectedImageSha256(String seed) throws Exception {
        byte[] image = new byte[IMAGE_BYTES];
        for (int offset = 0, i = 0; offset < IMAGE_BYTES; offset += 32, i++) {
            byte[] block = MessageDigest.getInstance("SHA-256")
                    .digest((seed + ":" + i).getBytes(StandardCharsets.UTF_8));
            System.arraycopy(block, 0, image, offset, Math.min(32, IMAGE_BYTES - offset));
        }
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(image));
    }
}
