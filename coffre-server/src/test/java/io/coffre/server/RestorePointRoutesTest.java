package io.coffre.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.CoffreCore;
import io.coffre.arm.AsyncOperations;
import io.coffre.compute.disk.BlockDevice;
import io.coffre.compute.vm.VirtualMachines;
import io.coffre.compute.vm.VirtualMachines.DiskRole;
import io.coffre.compute.vm.VirtualMachines.VmDisk;
import io.coffre.identity.Identity;
import io.coffre.json.Json;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Restore point collections, restore points and disk restore points over HTTPS, in the ARM shapes. */
class RestorePointRoutesTest {
    private static final String MGMT = "management.coffre.localhost";
    private static final String COMPUTE_API = "api-version=2026-04-01";
    private static final String DISK_API = "api-version=2026-03-02";
    private static final int MIB = 1024 * 1024;

    @Test
    void restorePointLifecycleOverArm() throws Exception {
        try (TestServer server = TestServer.start()) {
            CoffreCore core = server.server().core();
            Identity identity = core.identity();
            String sub = identity.defaultSubscriptionId();
            core.resourceManager().putResourceGroup(identity.admin(), sub, "rg1", "uaenorth", Map.of());
            String vmId = confidentialVm(core, sub);
            VmDisk data = core.virtualMachines().find(vmId).orElseThrow().disks().stream()
                    .filter(d -> d.role() == DiskRole.DATA).findFirst().orElseThrow();
            byte[] written = new byte[MIB];
            new SecureRandom().nextBytes(written);
            try (BlockDevice device = core.diskStore().open(data.storeId())) {
                device.write(MIB, written, 0, written.length, false);
            }
            String token = server.adminToken();
            String group = "/subscriptions/" + sub + "/resourceGroups/rg1/providers/Microsoft.Compute";
            String rpc = group + "/restorePointCollections/rpc1";

            HttpResponse<String> collection = server.send("PUT", MGMT, rpc + "?" + COMPUTE_API, token,
                    "{\"location\":\"uaenorth\",\"properties\":{\"source\":{\"id\":\"" + vmId + "\"}}}");
            assertThat(collection.statusCode()).as(collection.body()).isEqualTo(201);
            assertThat(Json.parse(collection.body()).at("/properties/source/location").asText()).isEqualTo("uaenorth");
            HttpResponse<String> korea = server.send("PUT", MGMT, group + "/restorePointCollections/rpc2?"
                    + COMPUTE_API, token, "{\"location\":\"koreacentral\",\"properties\":{\"source\":{\"id\":\""
                    + vmId + "\"}}}");
            assertThat(korea.statusCode()).isEqualTo(400);
            assertThat(Json.parse(korea.body()).at("/error/code").asText()).isEqualTo("SourceVmInAnotherRegion");

            HttpResponse<String> crash = server.send("PUT", MGMT, rpc + "/restorePoints/rp0?" + COMPUTE_API, token,
                    "{\"properties\":{\"consistencyMode\":\"CrashConsistent\"}}");
            assertThat(crash.statusCode()).as(crash.body()).isEqualTo(400);
            assertThat(Json.parse(crash.body()).at("/error/code").asText())
                    .isEqualTo("CrashConsistentRestorePointsNotSupported");

            HttpResponse<String> created = server.send("PUT", MGMT, rpc + "/restorePoints/rp1?" + COMPUTE_API, token,
                    "{}");
            assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
            String statusUrl = created.headers().firstValue("Azure-AsyncOperation").orElseThrow();
            assertThat(statusUrl).contains("/providers/Microsoft.Compute/locations/uaenorth/operations/");
            assertThat(poll(server, token, statusUrl)).isEqualTo("Succeeded");

            JsonNode rp = Json.parse(server.send("GET", MGMT, rpc + "/restorePoints/rp1?" + COMPUTE_API
                    + "&$expand=instanceView", token, null).body());
            assertThat(rp.path("type").asText()).isEqualTo("Microsoft.Compute/restorePointCollections/restorePoints");
            assertThat(rp.at("/properties/provisioningState").asText()).isEqualTo("Succeeded");
            assertThat(rp.at("/properties/consistencyMode").asText()).isEqualTo("ApplicationConsistent");
            assertThat(rp.at("/properties/instanceView/diskRestorePoints")).hasSize(2);
            assertThat(rp.at("/properties/instanceView/statuses/0/code").asText())
                    .isEqualTo("ProvisioningState/succeeded");
            String dataPoint = rp.at("/properties/sourceMetadata/storageProfile/dataDisks/0/diskRestorePoint/id")
                    .asText();
            assertThat(dataPoint).startsWith(rpc + "/restorePoints/rp1/diskRestorePoints/");
            JsonNode expanded = Json.parse(server.send("GET", MGMT, rpc + "?" + COMPUTE_API
                    + "&$expand=restorePoints", token, null).body());
            assertThat(expanded.at("/properties/restorePoints/0/id").asText()).isEqualTo(rp.path("id").asText());
            assertThat(Json.parse(server.send("GET", MGMT, group + "/restorePointCollections?" + COMPUTE_API,
                    token, null).body()).path("value")).hasSize(1);

            JsonNode drp = Json.parse(server.send("GET", MGMT, dataPoint + "?" + COMPUTE_API, token, null).body());
            assertThat(drp.at("/properties/sourceResourceId").asText()).isEqualTo(data.diskResourceId());
            assertThat(Json.parse(server.send("GET", MGMT, rpc + "/restorePoints/rp1/diskRestorePoints?"
                    + COMPUTE_API, token, null).body()).path("value")).hasSize(2);

            // read the frozen disk through beginGetAccess, as an export would
            HttpResponse<String> grant = server.send("POST", MGMT, dataPoint + "/beginGetAccess?" + COMPUTE_API,
                    token, "{\"access\":\"Read\",\"durationInSeconds\":600}");
            assertThat(grant.statusCode()).as(grant.body()).isEqualTo(202);
            String sas = Json.parse(get(server, token, grant.headers().firstValue("Location").orElseThrow())
                    .body()).path("accessSAS").asText();
            HttpResponse<byte[]> range = server.http().send(HttpRequest.newBuilder(URI.create(sas))
                    .header("x-ms-range", "bytes=" + MIB + "-" + (2 * MIB - 1)).GET().build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertThat(range.statusCode()).isEqualTo(206);
            assertThat(range.body()).isEqualTo(written);
            HttpResponse<String> ended = server.send("POST", MGMT, dataPoint + "/endGetAccess?" + COMPUTE_API, token,
                    "{}");
            assertThat(ended.statusCode()).isEqualTo(202);
            // what the SDK pollers read last: 200 (they refuse 204 for endGetAccess)
            assertThat(get(server, token, ended.headers().firstValue("Location").orElseThrow()).statusCode())
                    .isEqualTo(200);
            assertThat(server.http().send(HttpRequest.newBuilder(URI.create(sas)).GET().build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode()).isEqualTo(403);

            // a disk restored from the disk restore point reads the restore-point-time bytes
            try (BlockDevice device = core.diskStore().open(data.storeId())) {
                device.write(MIB, new byte[MIB], 0, MIB, false);
            }
            HttpResponse<String> restored = server.send("PUT", MGMT, group + "/disks/restored?" + DISK_API, token,
                    "{\"location\":\"uaenorth\",\"properties\":{\"creationData\":{\"createOption\":\"Restore\","
                            + "\"sourceResourceId\":\"" + dataPoint + "\"}}}");
            assertThat(restored.statusCode()).as(restored.body()).isEqualTo(201);
            byte[] read = new byte[MIB];
            try (BlockDevice device = core.diskStore().open(Json.parse(restored.body())
                    .at("/properties/uniqueId").asText())) {
                device.read(MIB, read, 0, MIB);
            }
            assertThat(read).isEqualTo(written);

            assertThat(server.send("DELETE", MGMT, rpc + "/restorePoints/rp1?" + COMPUTE_API, token, null)
                    .statusCode()).isEqualTo(200);
            assertThat(server.send("GET", MGMT, rpc + "/restorePoints/rp1?" + COMPUTE_API, token, null)
                    .statusCode()).isEqualTo(404);
            HttpResponse<String> fromDeleted = server.send("PUT", MGMT, group + "/disks/again?" + DISK_API, token,
                    "{\"location\":\"uaenorth\",\"properties\":{\"creationData\":{\"createOption\":\"Restore\","
                            + "\"sourceResourceId\":\"" + dataPoint + "\"}}}");
            assertThat(fromDeleted.statusCode()).isEqualTo(404);
            assertThat(Json.parse(fromDeleted.body()).at("/error/code").asText()).isEqualTo("NotFound");
            assertThat(server.send("DELETE", MGMT, rpc + "?" + COMPUTE_API, token, null).statusCode())
                    .isEqualTo(200);
            assertThat(server.send("GET", MGMT, rpc + "?" + COMPUTE_API, token, null).statusCode()).isEqualTo(404);
        }
    }

    private static String confidentialVm(CoffreCore core, String sub) throws InterruptedException {
        ObjectNode body = Json.object().put("location", "uaenorth");
        ObjectNode p = body.putObject("properties");
        p.putObject("hardwareProfile").put("vmSize", "Standard_DC2as_v6");
        p.putObject("securityProfile").put("securityType", "ConfidentialVM").putObject("uefiSettings")
                .put("secureBootEnabled", true).put("vTpmEnabled", true);
        ObjectNode storage = p.putObject("storageProfile");
        storage.putObject("osDisk").put("createOption", "FromImage").put("diskSizeGB", 4).putObject("managedDisk")
                .putObject("securityProfile").put("securityEncryptionType", "DiskWithVMGuestState");
        ArrayNode dataDisks = storage.putArray("dataDisks");
        dataDisks.addObject().put("lun", 0).put("createOption", "Empty").put("diskSizeGB", 1);
        VirtualMachines.Accepted accepted = core.virtualMachines().put(core.identity().admin(), sub, "rg1", "vm1",
                body);
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!core.asyncOperations().get(accepted.operationId()).orElseThrow().isDone()
                && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(core.asyncOperations().get(accepted.operationId()).orElseThrow().status())
                .isEqualTo(AsyncOperations.Status.Succeeded);
        return accepted.resource().path("id").asText();
    }

    private static String poll(TestServer server, String token, String url) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            String status = Json.parse(get(server, token, url).body()).path("status").asText();
            if (!status.equals("InProgress") || System.nanoTime() > deadline) {
                return status;
            }
            Thread.sleep(50);
        }
    }

    private static HttpResponse<String> get(TestServer server, String token, String url) {
        return server.send(HttpRequest.newBuilder(URI.create(url)).GET().header("Authorization", "Bearer " + token));
    }
}
