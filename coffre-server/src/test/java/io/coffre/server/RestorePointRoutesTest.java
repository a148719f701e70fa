package io.coffre.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.CoffreCore;
import io.coffre.arm.AsyncOperations;
import io.coffre.compute.disk.BlockDevice;
import io.coffre.compute.vm.CvmRequests;
import io.coffre.compute.vm.VirtualMachines;
import io.coffre.compute.vm.VirtualMachines.DiskRole;
import io.coffre.compute.vm.VirtualMachines.VmDisk;
import io.coffre.identity.Identity;
import io.coffre.json.Json;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
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
            String sub = core.identity().defaultSubscriptionId();
            String vmId = confidentialVm(core);
            VmDisk data = vmDisk(core, vmId, DiskRole.DATA);
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

    /**
     * getSecureVMGuestStateSAS, as {@code az disk grant-access --secure-vm-guest-state-sas} asks for it: a confidential
     * VM's OS disk restore point, and a disk restored from it, hand out a second URL that reads the VM guest state
     * frozen with it, under the grant's token, read only, until endGetAccess. A disk without one refuses the flag.
     */
    @Test
    void aConfidentialOsDiskGrantsItsGuestStateToo() throws Exception {
        try (TestServer server = TestServer.start()) {
            CoffreCore core = server.server().core();
            String vmId = confidentialVm(core);
            VmDisk vmgs = vmDisk(core, vmId, DiskRole.VMGS);
            byte[] guestState;
            try (BlockDevice device = core.diskStore().open(vmgs.storeId())) {
                guestState = new byte[(int) device.size()];
                device.read(0, guestState, 0, guestState.length);
            }
            assertThat(new String(guestState, 0, 11, StandardCharsets.US_ASCII)).isEqualTo("COFFRE-VMGS");
            String token = server.adminToken();
            String group = vmId.substring(0, vmId.indexOf("/virtualMachines/"));
            String rpc = group + "/restorePointCollections/rpc1";
            assertThat(server.send("PUT", MGMT, rpc + "?" + COMPUTE_API, token, "{\"location\":\"uaenorth\","
                    + "\"properties\":{\"source\":{\"id\":\"" + vmId + "\"}}}").statusCode()).isEqualTo(201);
            HttpResponse<String> created = server.send("PUT", MGMT, rpc + "/restorePoints/rp1?" + COMPUTE_API, token,
                    "{}");
            assertThat(poll(server, token, created.headers().firstValue("Azure-AsyncOperation").orElseThrow()))
                    .isEqualTo("Succeeded");
            JsonNode profile = Json.parse(server.send("GET", MGMT, rpc + "/restorePoints/rp1?" + COMPUTE_API, token,
                    null).body()).at("/properties/sourceMetadata/storageProfile");
            String osPoint = profile.at("/osDisk/diskRestorePoint/id").asText();
            String dataPoint = profile.at("/dataDisks/0/diskRestorePoint/id").asText();

            assertError(beginGetAccess(server, token, dataPoint, "Read", true), 400, "InvalidParameter");
            JsonNode access = accessUri(server, token, osPoint);
            String securitySas = access.path("securityDataAccessSAS").asText();
            assertThat(securitySas).startsWith("https://" + MGMT + ":" + server.port() + "/_data/disks/")
                    .isNotEqualTo(access.path("accessSAS").asText());
            assertThat(read(server, securitySas)).isEqualTo(guestState);
            HttpResponse<String> write = server.send(HttpRequest.newBuilder(URI.create(securitySas))
                    .PUT(HttpRequest.BodyPublishers.ofByteArray(new byte[512])).header("x-ms-range", "bytes=0-511"));
            assertThat(write.statusCode()).isEqualTo(403);
            assertThat(write.headers().firstValue("x-ms-error-code")).contains("AuthorizationPermissionMismatch");
            endGetAccess(server, token, osPoint);
            assertThat(status(server, securitySas)).as("revoked with the grant").isEqualTo(403);

            for (String[] restore : new String[][] {{"restoredOs", osPoint}, {"restoredData", dataPoint}}) {
                HttpResponse<String> restored = server.send("PUT", MGMT, group + "/disks/" + restore[0] + "?"
                        + DISK_API, token, "{\"location\":\"uaenorth\",\"properties\":{\"creationData\":{"
                        + "\"createOption\":\"Restore\",\"sourceResourceId\":\"" + restore[1] + "\"}}}");
                assertThat(restored.statusCode()).as(restored.body()).isEqualTo(201);
            }
            String restoredOs = group + "/disks/restoredOs";
            assertError(beginGetAccess(server, token, group + "/disks/restoredData", "Read", true), 400,
                    "InvalidParameter");
            assertError(beginGetAccess(server, token, restoredOs, "Write", true), 400, "InvalidParameter");
            JsonNode diskAccess = accessUri(server, token, restoredOs);
            assertThat(read(server, diskAccess.path("securityDataAccessSAS").asText()))
                    .as("the restored OS disk's guest state is the one frozen in the restore point")
                    .isEqualTo(guestState);
            endGetAccess(server, token, restoredOs);
            assertThat(status(server, diskAccess.path("securityDataAccessSAS").asText())).isEqualTo(403);
            assertThat(server.send("DELETE", MGMT, restoredOs + "?" + DISK_API, token, null).statusCode())
                    .as("the guest state copy went with the grant; the disk deletes").isEqualTo(200);
        }
    }

    private static HttpResponse<String> beginGetAccess(TestServer server, String token, String resource,
                                                       String access, boolean guestState) {
        String api = resource.contains("/diskRestorePoints/") ? COMPUTE_API : DISK_API;
        return server.send("POST", MGMT, resource + "/beginGetAccess?" + api, token, "{\"access\":\"" + access
                + "\",\"durationInSeconds\":600,\"getSecureVMGuestStateSAS\":" + guestState + "}");
    }

    /** The AccessUri of a Read grant with getSecureVMGuestStateSAS, as the SDK's poller reads it. */
    private static JsonNode accessUri(TestServer server, String token, String resource) {
        HttpResponse<String> grant = beginGetAccess(server, token, resource, "Read", true);
        assertThat(grant.statusCode()).as(grant.body()).isEqualTo(202);
        return Json.parse(get(server, token, grant.headers().firstValue("Location").orElseThrow()).body());
    }

    private static void endGetAccess(TestServer server, String token, String resource) {
        String api = resource.contains("/diskRestorePoints/") ? COMPUTE_API : DISK_API;
        assertThat(server.send("POST", MGMT, resource + "/endGetAccess?" + api, token, "{}").statusCode())
                .isEqualTo(202);
    }

    private static byte[] read(TestServer server, String sas) throws Exception {
        HttpResponse<byte[]> r = server.http().send(HttpRequest.newBuilder(URI.create(sas)).GET().build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(r.statusCode()).isEqualTo(200);
        return r.body();
    }

    private static int status(TestServer server, String sas) throws Exception {
        return server.http().send(HttpRequest.newBuilder(URI.create(sas)).GET().build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    private static void assertError(HttpResponse<String> r, int status, String code) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        assertThat(Json.parse(r.body()).at("/error/code").asText()).isEqualTo(code);
    }

    private static VmDisk vmDisk(CoffreCore core, String vmId, DiskRole role) {
        return core.virtualMachines().find(vmId).orElseThrow().disks().stream().filter(d -> d.role() == role)
                .findFirst().orElseThrow();
    }

    /** Resource group rg1 and, in it, the running confidential VM vm1 with one data disk; returns the VM's id. */
    private static String confidentialVm(CoffreCore core) throws InterruptedException {
        Identity identity = core.identity();
        String sub = identity.defaultSubscriptionId();
        core.resourceManager().putResourceGroup(identity.admin(), sub, "rg1", "uaenorth", Map.of());
        ObjectNode body = CvmRequests.confidentialVm(4);
        CvmRequests.dataDisks(body).addObject().put("lun", 0).put("createOption", "Empty").put("diskSizeGB", 1);
        VirtualMachines.Accepted accepted = core.virtualMachines().put(identity.admin(), sub, "rg1", "vm1", body);
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
