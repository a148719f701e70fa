package io.coffre.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.compute.RestorePointExports;
import io.coffre.compute.nbd.NbdClient;
import io.coffre.identity.Directory;
import io.coffre.identity.Identity;
import io.coffre.json.Json;
import io.coffre.keyvault.crypto.ReleasePolicy;
import io.coffre.store.StorageScanner;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.function.Predicate;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The platform's main flow over HTTPS, for each kind of confidential-VM key: a key and a DES granted the way
 * {@code az} users grant them, a v6 confidential VM with an uploaded disk attached, guest writes through NBD, a
 * snapshot and a restore point, the data overwritten, disks restored from both read back byte-identical (SHA-256);
 * nothing written is stored in the clear, and a second restore point differs from the first in exactly the blocks
 * the guest wrote; then the key rotated by hand and automatically, the old versions disabled, and everything still
 * byte-identical, including the VM itself after a stop and a start (which releases the key again).
 */
class ConfidentialVmEndToEndTest {
    private static final String MGMT = "management.coffre.localhost";
    private static final String COMPUTE = "?api-version=2026-04-01";
    private static final String DISKS = "?api-version=2025-01-02";
    private static final String KEY_VAULT_ARM = "?api-version=2022-07-01";
    private static final String DATA_PLANE = "?api-version=7.6";
    private static final String HSM_ROLE = "Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/";
    private static final String HSM_CRYPTO_USER = "21dbd100-6940-42c2-9190-5d6cb909625b";
    private static final String HSM_CRYPTO_OFFICER = "515eb02d-2335-4d2d-92f2-b1cbdf9c3778";
    private static final String HSM_SERVICE_ENCRYPTION_USER = "33413926-3206-4cdd-b39a-83574fe37a17";
    private static final String HSM_SERVICE_RELEASE_USER = "21dbd100-6940-42c2-9190-5d6cb909625c";
    private static final int MIB = 1 << 20;
    /** Spans a block boundary, so restores must join two blocks. */
    private static final long OS_OFFSET = 3 * MIB + 4096;
    private static final long DATA_OFFSET = 100L * MIB;
    private static final int WRITE_BYTES = 2 * MIB;
    private static final int UPLOAD_BYTES = 8 * MIB;

    enum KeyKind { PLATFORM, KEY_VAULT, MANAGED_HSM }

    @ParameterizedTest
    @EnumSource(KeyKind.class)
    void snapshotAndRestorePointRestoreByteIdenticalAcrossKeyRotation(KeyKind kind) throws Exception {
        try (TestServer server = TestServer.start()) {
            runMainFlow(server, kind);
        }
    }

    /** The whole flow on {@code server} (also run on PostgreSQL and S3 by {@code ScaleOutEndToEndTest}). */
    static void runMainFlow(TestServer server, KeyKind kind) throws Exception {
        Flow flow = new Flow(server, kind);
        String des = flow.keyAndDes();

        byte[] uploaded = pattern(1, UPLOAD_BYTES);
        String uploadedDisk = flow.uploadDisk("uploaded", uploaded);
        String vm = flow.createVm("vm1", des, uploadedDisk);
        byte[] osData = pattern(2, WRITE_BYTES);
        byte[] lun0Data = pattern(3, WRITE_BYTES);
        flow.nbdWrite("vm1", "os", OS_OFFSET, osData);
        flow.nbdWrite("vm1", "lun0", DATA_OFFSET, lun0Data);

        String osDisk = flow.osDisk(vm);
        // An attached disk takes no direct upload or export; a DES its disks use cannot go.
        flow.refused("POST", osDisk + "/beginGetAccess" + DISKS,
                "{\"access\":\"Write\",\"durationInSeconds\":60}", 409, "OperationNotAllowed");
        if (des != null) {
            flow.refused("DELETE", des + COMPUTE, null, 409, "DiskEncryptionSetInUse");
        }
        String snapshot = flow.put(flow.resource("snapshots", "ossnap"), DISKS, Json.write(Map.of(
                "location", "uaenorth", "properties", Map.of("incremental", true,
                        "creationData", Map.of("createOption", "Copy", "sourceResourceId", osDisk)))));
        String collection = flow.resource("restorePointCollections", "rpc1");
        flow.put(collection, COMPUTE, Json.write(Map.of("location", "uaenorth",
                "properties", Map.of("source", Map.of("id", vm)))));
        JsonNode restorePoint = flow.putAndWait(collection + "/restorePoints/rp1", COMPUTE, "{\"properties\":{}}");
        assertThat(restorePoint.at("/properties/provisioningState").asText()).isEqualTo("Succeeded");

        // The guest keeps writing: the snapshot and the restore point must not see it.
        flow.nbdWrite("vm1", "os", OS_OFFSET, pattern(12, WRITE_BYTES));
        flow.nbdWrite("vm1", "lun0", DATA_OFFSET, pattern(13, WRITE_BYTES));
        flow.nbdWrite("vm1", "lun1", 0, pattern(11, UPLOAD_BYTES));
        // What went in through upload and through NBD is nowhere in the clear.
        var core = server.server().core();
        for (byte[] written : new byte[][] {uploaded, osData, lun0Data, pattern(12, WRITE_BYTES)}) {
            assertThat(StorageScanner.findBytes(core.metadata(), core.blobs(),
                    Arrays.copyOfRange(written, 0, 8192), 64)).isEmpty();
        }
        // Guest writes feed changed-block tracking: a second restore point differs in the written blocks only.
        JsonNode second = flow.putAndWait(collection + "/restorePoints/rp2", COMPUTE, "{\"properties\":{}}");
        Map<String, Set<Long>> changed = changedBlocks(core.restorePointExports().export(core.identity().admin(),
                restorePoint.path("id").asText()), core.restorePointExports().export(core.identity().admin(),
                second.path("id").asText()));
        assertThat(changed).containsEntry("OS", Set.of(0L, 1L)).containsEntry("Data0", Set.of(25L))
                .containsEntry("Data1", Set.of(0L, 1L)).containsEntry("VMGS", Set.of());

        Map<String, String> restored = flow.restoreFrom(snapshot, restorePoint);
        Expectations expected = new Expectations(osData, lun0Data, uploaded);
        expected.check(flow, restored);
        // Reading the snapshot itself works too.
        assertThat(sha256(flow.read(snapshot, OS_OFFSET, WRITE_BYTES))).isEqualTo(sha256(osData));

        if (kind != KeyKind.PLATFORM) {
            String before = flow.activeKeyUrl(des);
            String manual = flow.rotateKeyAndPointDesAtIt(des);
            String automatic = flow.rotateKeyAndWaitForDes(des, manual);
            flow.disableKeyVersion(before);
            flow.disableKeyVersion(manual);
            assertThat(flow.activeKeyUrl(des)).isEqualTo(automatic);
            expected.check(flow, restored);
            assertThat(sha256(flow.read(snapshot, OS_OFFSET, WRITE_BYTES))).isEqualTo(sha256(osData));
        }
        // A stop flushes and ends the exports; a start releases the (new) key to the VM again.
        flow.action(vm, "powerOff");
        flow.action(vm, "start");
        assertThat(sha256(flow.nbdRead("vm1", "os", OS_OFFSET, WRITE_BYTES)))
                .isEqualTo(sha256(pattern(12, WRITE_BYTES)));
        assertThat(sha256(flow.nbdRead("vm1", "lun1", 0, UPLOAD_BYTES)))
                .isEqualTo(sha256(pattern(11, UPLOAD_BYTES)));
    }

    /** Per disk (role and LUN), the blocks whose stored object differs between two exported restore points. */
    private static Map<String, Set<Long>> changedBlocks(RestorePointExports.Manifest from,
                                                         RestorePointExports.Manifest to) {
        Map<String, Set<Long>> changed = new HashMap<>();
        for (RestorePointExports.DiskManifest after : to.disks()) {
            String disk = after.role() + (after.lun() == null ? "" : after.lun());
            RestorePointExports.DiskManifest before = from.disks().stream()
                    .filter(d -> d.role().equals(after.role()) && Objects.equals(d.lun(), after.lun()))
                    .findFirst().orElseThrow();
            Map<Long, String> old = new HashMap<>();
            before.blocks().forEach(b -> old.put(b.index(), HexFormat.of().formatHex(b.sha256())));
            Set<Long> differ = new TreeSet<>();
            after.blocks().forEach(b -> {
                if (!HexFormat.of().formatHex(b.sha256()).equals(old.remove(b.index()))) {
                    differ.add(b.index());
                }
            });
            differ.addAll(old.keySet());
            changed.put(disk, differ);
        }
        return changed;
    }

    /** What disks restored from the snapshot and the restore point must read back. */
    private record Expectations(byte[] os, byte[] lun0, byte[] lun1) {
        void check(Flow flow, Map<String, String> restored) throws Exception {
            assertThat(sha256(flow.read(restored.get("snapshot"), OS_OFFSET, WRITE_BYTES))).isEqualTo(sha256(os));
            assertThat(sha256(flow.read(restored.get("os"), OS_OFFSET, WRITE_BYTES))).isEqualTo(sha256(os));
            assertThat(sha256(flow.read(restored.get("lun0"), DATA_OFFSET, WRITE_BYTES))).isEqualTo(sha256(lun0));
            assertThat(sha256(flow.read(restored.get("lun1"), 0, UPLOAD_BYTES))).isEqualTo(sha256(lun1));
        }
    }

    /** The calls of the flow, as a client makes them, with the administrator's token. */
    private static final class Flow {
        private final TestServer server;
        private final KeyKind kind;
        private final String token;
        private final Identity identity;
        private final String group;
        private String keyHost;
        private String storePath;

        Flow(TestServer server, KeyKind kind) {
            this.server = server;
            this.kind = kind;
            this.token = server.adminToken();
            this.identity = server.server().core().identity();
            this.group = "/subscriptions/" + identity.defaultSubscriptionId() + "/resourceGroups/rg1";
            ok(send("PUT", group + "?api-version=2021-04-01", "{\"location\":\"uaenorth\"}"));
        }

        String resource(String collection, String name) {
            return group + "/providers/Microsoft.Compute/" + collection + "/" + name;
        }

        /** The key, its store and the DES the VM uses; null for platform-managed keys. */
        String keyAndDes() {
            if (kind == KeyKind.PLATFORM) {
                return null;
            }
            String admin = identity.admin().objectId();
            if (kind == KeyKind.KEY_VAULT) {
                keyHost = "cvmkv.vault.coffre.localhost";
                storePath = group + "/providers/Microsoft.KeyVault/vaults/cvmkv";
                ok(send("PUT", storePath + KEY_VAULT_ARM, Json.write(Map.of("location", "uaenorth", "properties",
                        Map.of("tenantId", identity.tenantId(), "sku", Map.of("family", "A", "name", "premium"),
                                "enablePurgeProtection", true, "accessPolicies", new Object[] {
                                        accessPolicy(admin, "all")})))));
            } else {
                keyHost = "cvmhsm.managedhsm.coffre.localhost";
                storePath = group + "/providers/Microsoft.KeyVault/managedHSMs/cvmhsm";
                HttpResponse<String> created = send("PUT", storePath + KEY_VAULT_ARM, Json.write(Map.of(
                        "location", "uaenorth", "sku", Map.of("family", "B", "name", "Standard_B1"),
                        "properties", Map.of("tenantId", identity.tenantId(), "enablePurgeProtection", true,
                                "initialAdminObjectIds", new String[] {admin}))));
                ok(created);
                waitFor(created.headers().firstValue("Azure-AsyncOperation").orElseThrow());
                hsmRole("/", HSM_CRYPTO_USER, admin);
                hsmRole("/", HSM_CRYPTO_OFFICER, admin);
            }
            ObjectNode key = Json.object().put("kty", "RSA-HSM").put("key_size", 3072);
            key.putObject("attributes").put("exportable", true);
            key.putObject("release_policy").put("contentType", "application/json; charset=utf-8").put("data",
                    Json.b64url(ReleasePolicy.defaultCvmPolicy(server.server().core().endpoints()
                            .attestationIssuer())));
            String kid = Json.parse(ok(server.send("POST", keyHost, "/keys/cvmkey/create" + DATA_PLANE, token,
                    Json.write(key))).body()).at("/key/kid").asText();

            String des = resource("diskEncryptionSets", "des1");
            JsonNode created = Json.parse(ok(send("PUT", des + COMPUTE, Json.write(Map.of("location", "uaenorth",
                    "identity", Map.of("type", "SystemAssigned"), "properties", Map.of(
                            "encryptionType", "ConfidentialVmEncryptedWithCustomerKey",
                            "rotationToLatestKeyVersionEnabled", true,
                            "activeKey", Map.of("keyUrl", kid)))))).body());
            String desIdentity = created.at("/identity/principalId").asText();
            String orchestrator = identity.find(Directory.CVM_ORCHESTRATOR_APP_ID).orElseThrow().objectId();
            if (kind == KeyKind.KEY_VAULT) {
                JsonNode vault = Json.parse(ok(send("GET", storePath + KEY_VAULT_ARM, null)).body());
                ArrayNode policies = (ArrayNode) vault.at("/properties/accessPolicies");
                policies.add(Json.MAPPER.valueToTree(accessPolicy(desIdentity, "get", "wrapKey", "unwrapKey")));
                policies.add(Json.MAPPER.valueToTree(accessPolicy(orchestrator, "get", "release")));
                ok(send("PUT", storePath + KEY_VAULT_ARM, Json.write(vault)));
            } else {
                hsmRole("/keys/cvmkey", HSM_SERVICE_ENCRYPTION_USER, desIdentity);
                hsmRole("/keys/cvmkey", HSM_SERVICE_RELEASE_USER, orchestrator);
            }
            return des;
        }

        private Map<String, Object> accessPolicy(String objectId, String... keyPermissions) {
            return Map.of("tenantId", identity.tenantId(), "objectId", objectId,
                    "permissions", Map.of("keys", keyPermissions));
        }

        private void hsmRole(String scope, String role, String principalId) {
            String path = (scope.equals("/") ? "/" : scope) + "/providers/Microsoft.Authorization/roleAssignments/"
                    + UUID.randomUUID() + DATA_PLANE;
            ok(server.send("PUT", keyHost, path, token, Json.write(Map.of("properties", Map.of(
                    "roleDefinitionId", HSM_ROLE + role, "principalId", principalId)))));
        }

        /** A platform-key disk filled through the upload path, ready to attach. */
        String uploadDisk(String name, byte[] content) throws Exception {
            String disk = resource("disks", name);
            ok(send("PUT", disk + DISKS, Json.write(Map.of("location", "uaenorth", "properties", Map.of(
                    "creationData", Map.of("createOption", "Upload", "uploadSizeBytes", content.length))))));
            String sas = grantAccess(disk, "Write");
            for (int offset = 0; offset < content.length; offset += 4 * MIB) {
                int length = Math.min(4 * MIB, content.length - offset);
                byte[] page = java.util.Arrays.copyOfRange(content, offset, offset + length);
                HttpResponse<String> put = server.send(HttpRequest.newBuilder(URI.create(sas))
                        .PUT(HttpRequest.BodyPublishers.ofByteArray(page))
                        .header("x-ms-range", "bytes=" + offset + "-" + (offset + length - 1))
                        .header("x-ms-page-write", "update"));
                assertThat(put.statusCode()).as(put.body()).isEqualTo(201);
            }
            accepted(send("POST", disk + "/endGetAccess" + DISKS, null));
            return disk;
        }

        /** A v6 confidential VM: OS disk with its guest state, an empty data disk at LUN 0, {@code attach} at 1. */
        String createVm(String name, String des, String attach) {
            ObjectNode managedDisk = Json.object().put("storageAccountType", "Premium_LRS");
            ObjectNode security = managedDisk.putObject("securityProfile")
                    .put("securityEncryptionType", "DiskWithVMGuestState");
            if (des != null) {
                security.putObject("diskEncryptionSet").put("id", des);
            }
            ObjectNode body = Json.object().put("location", "uaenorth");
            ObjectNode properties = body.putObject("properties");
            properties.putObject("hardwareProfile").put("vmSize", "Standard_DC2as_v6");
            properties.putObject("securityProfile").put("securityType", "ConfidentialVM")
                    .putObject("uefiSettings").put("secureBootEnabled", true).put("vTpmEnabled", true);
            ObjectNode storage = properties.putObject("storageProfile");
            storage.putObject("osDisk").put("name", name + "-os").put("createOption", "FromImage")
                    .put("diskSizeGB", 30).put("deleteOption", "Delete").set("managedDisk", managedDisk);
            ArrayNode dataDisks = storage.putArray("dataDisks");
            dataDisks.addObject().put("lun", 0).put("name", name + "-data0").put("createOption", "Empty")
                    .put("diskSizeGB", 1).put("deleteOption", "Delete");
            dataDisks.addObject().put("lun", 1).put("createOption", "Attach").put("deleteOption", "Detach")
                    .putObject("managedDisk").put("id", attach);
            properties.putObject("networkProfile").putArray("networkInterfaces").addObject()
                    .put("id", group + "/providers/Microsoft.Network/networkInterfaces/nic1");
            JsonNode vm = putAndWait(resource("virtualMachines", name), COMPUTE, Json.write(body));
            assertThat(vm.at("/properties/provisioningState").asText()).isEqualTo("Succeeded");
            assertThat(powerState(vm.at("/id").asText())).isEqualTo("PowerState/running");
            return vm.at("/id").asText();
        }

        /** A call that must fail with this status and ARM error code. */
        void refused(String method, String pathAndQuery, String body, int status, String code) {
            HttpResponse<String> r = send(method, pathAndQuery, body);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
            assertThat(Json.parse(r.body()).at("/error/code").asText()).isEqualTo(code);
        }

        String osDisk(String vm) {
            return Json.parse(ok(send("GET", vm + COMPUTE, null)).body())
                    .at("/properties/storageProfile/osDisk/managedDisk/id").asText();
        }

        String powerState(String vm) {
            JsonNode view = Json.parse(ok(send("GET", vm + "/instanceView" + COMPUTE, null)).body());
            for (JsonNode status : view.path("statuses")) {
                if (status.path("code").asText().startsWith("PowerState/")) {
                    return status.path("code").asText();
                }
            }
            throw new AssertionError("no power state in " + view);
        }

        void action(String vm, String action) {
            waitFor(accepted(send("POST", vm + "/" + action + COMPUTE, null)));
        }

        /** Disks from the snapshot and from every disk restore point, keyed snapshot / os / lun0 / lun1. */
        Map<String, String> restoreFrom(String snapshot, JsonNode restorePoint) {
            Map<String, String> restored = new java.util.HashMap<>();
            restored.put("snapshot", restoreDisk("fromsnap", snapshot));
            JsonNode storage = restorePoint.at("/properties/sourceMetadata/storageProfile");
            restored.put("os", restoreDisk("fromrp-os", storage.at("/osDisk/diskRestorePoint/id").asText()));
            for (JsonNode data : storage.path("dataDisks")) {
                String lun = "lun" + data.path("lun").asInt();
                restored.put(lun, restoreDisk("fromrp-" + lun, data.at("/diskRestorePoint/id").asText()));
            }
            assertThat(restored).containsOnlyKeys("snapshot", "os", "lun0", "lun1");
            return restored;
        }

        private String restoreDisk(String name, String source) {
            assertThat(source).as("restore source of " + name).isNotBlank();
            String disk = resource("disks", name);
            put(disk, DISKS, Json.write(Map.of("location", "uaenorth", "properties", Map.of("creationData",
                    Map.of("createOption", "Restore", "sourceResourceId", source)))));
            return disk;
        }

        /** Reads a range of an unattached disk or a snapshot through a read grant. */
        byte[] read(String diskOrSnapshot, long offset, int length) throws Exception {
            String sas = grantAccess(diskOrSnapshot, "Read");
            HttpResponse<byte[]> r = server.http().send(HttpRequest.newBuilder(URI.create(sas)).GET()
                    .header("x-ms-range", "bytes=" + offset + "-" + (offset + length - 1)).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertThat(r.statusCode()).isEqualTo(206);
            accepted(send("POST", diskOrSnapshot + "/endGetAccess" + DISKS, null));
            return r.body();
        }

        private String grantAccess(String resource, String access) {
            HttpResponse<String> r = send("POST", resource + "/beginGetAccess" + DISKS,
                    "{\"access\":\"" + access + "\",\"durationInSeconds\":3600}");
            accepted(r);
            // the SDKs read the final result of this operation at its Location
            JsonNode result = Json.parse(ok(sendUrl("GET", r.headers().firstValue("Location").orElseThrow())).body());
            return result.path("accessSAS").asText();
        }

        void nbdWrite(String vm, String disk, long offset, byte[] data) throws Exception {
            try (NbdClient nbd = NbdClient.connect(nbdAddress(), "rg1/" + vm + "/" + disk)) {
                nbd.write(offset, data, 0, data.length, false);
                nbd.flush();
            }
        }

        byte[] nbdRead(String vm, String disk, long offset, int length) throws Exception {
            try (NbdClient nbd = NbdClient.connect(nbdAddress(), "rg1/" + vm + "/" + disk)) {
                byte[] data = new byte[length];
                nbd.read(offset, data, 0, length);
                return data;
            }
        }

        /** Where the server's NBD exports are, as server.json tells a hypervisor or the CLI. */
        private InetSocketAddress nbdAddress() throws java.io.IOException {
            JsonNode info = Json.parse(java.nio.file.Files.readString(server.dataDir().resolve(ServerInfoFile.FILE)));
            return new InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), info.path("nbdPort").asInt());
        }

        String activeKeyUrl(String des) {
            return Json.parse(ok(send("GET", des + COMPUTE, null)).body()).at("/properties/activeKey/keyUrl")
                    .asText();
        }

        /** Rotation by hand: a new key version, then the DES pointed at it (a PATCH that rotates every copy). */
        String rotateKeyAndPointDesAtIt(String des) {
            // Automatic rotation would follow the new version on its own: turned off so this one is by hand.
            patchAndWait(des, "{\"properties\":{\"rotationToLatestKeyVersionEnabled\":false}}");
            String kid = rotateKey();
            JsonNode updated = patchAndWait(des, "{\"properties\":{\"activeKey\":{\"keyUrl\":\"" + kid + "\"}}}");
            assertThat(updated.at("/properties/activeKey/keyUrl").asText()).isEqualTo(kid);
            assertThat(updated.at("/properties/lastKeyRotationTimestamp").asText()).isNotBlank();
            return kid;
        }

        /** Automatic rotation: with rotationToLatestKeyVersionEnabled, a new key version reaches the DES. */
        String rotateKeyAndWaitForDes(String des, String previous) {
            patchAndWait(des, "{\"properties\":{\"rotationToLatestKeyVersionEnabled\":true}}");
            String kid = rotateKey();
            assertThat(kid).isNotEqualTo(previous);
            poll(() -> Json.parse(ok(send("GET", des + COMPUTE, null)).body()),
                    d -> d.at("/properties/activeKey/keyUrl").asText().equals(kid)
                            && d.at("/properties/autoKeyRotationError").isMissingNode());
            return kid;
        }

        private String rotateKey() {
            return Json.parse(ok(server.send("POST", keyHost, "/keys/cvmkey/rotate" + DATA_PLANE, token, null))
                    .body()).at("/key/kid").asText();
        }

        void disableKeyVersion(String kid) {
            String path = URI.create(kid).getPath();
            ok(server.send("PATCH", keyHost, path + DATA_PLANE, token, "{\"attributes\":{\"enabled\":false}}"));
        }

        String put(String path, String apiVersion, String body) {
            HttpResponse<String> r = send("PUT", path + apiVersion, body);
            assertThat(r.statusCode()).as(r.body()).isIn(200, 201, 202);
            r.headers().firstValue("Azure-AsyncOperation").ifPresent(this::waitFor);
            return path;
        }

        /** PUT, then poll as the SDKs do: the status URL until it ends, then the resource itself. */
        JsonNode putAndWait(String path, String apiVersion, String body) {
            put(path, apiVersion, body);
            return Json.parse(ok(send("GET", path + apiVersion, null)).body());
        }

        private JsonNode patchAndWait(String des, String body) {
            HttpResponse<String> r = send("PATCH", des + COMPUTE, body);
            assertThat(r.statusCode()).as(r.body()).isIn(200, 202);
            r.headers().firstValue("Azure-AsyncOperation").ifPresent(this::waitFor);
            return Json.parse(ok(send("GET", des + COMPUTE, null)).body());
        }

        /** Polls an Azure-AsyncOperation URL until the operation has ended; it must have succeeded. */
        private void waitFor(String statusUrl) {
            JsonNode status = poll(() -> Json.parse(ok(sendUrl("GET", statusUrl)).body()),
                    s -> !s.path("status").asText().equals("InProgress"));
            assertThat(status.path("status").asText()).as(status.toString()).isEqualTo("Succeeded");
        }

        /** The status URL of an accepted (202) operation. */
        private String accepted(HttpResponse<String> r) {
            assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
            return r.headers().firstValue("Azure-AsyncOperation")
                    .or(() -> r.headers().firstValue("Location")).orElseThrow();
        }

        private HttpResponse<String> send(String method, String pathAndQuery, String body) {
            return server.send(method, MGMT, pathAndQuery, token, body);
        }

        private HttpResponse<String> sendUrl(String method, String url) {
            return server.send(HttpRequest.newBuilder(URI.create(url)).method(method,
                    HttpRequest.BodyPublishers.noBody()).header("Authorization", "Bearer " + token));
        }
    }

    private static HttpResponse<String> ok(HttpResponse<String> r) {
        assertThat(r.statusCode()).as(r.body()).isBetween(200, 299);
        return r;
    }

    private static <T> T poll(java.util.function.Supplier<T> read, Predicate<T> done) {
        Instant deadline = Instant.now().plus(Duration.ofMinutes(2));
        while (true) {
            T value = read.get();
            if (done.test(value)) {
                return value;
            }
            assertThat(Instant.now()).as("still waiting; last answer " + value).isBefore(deadline);
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    private static byte[] pattern(long seed, int length) {
        byte[] data = new byte[length];
        new Random(seed).nextBytes(data);
        return data;
    }

    private static String sha256(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }
}
