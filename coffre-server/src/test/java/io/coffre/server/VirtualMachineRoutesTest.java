package io.coffre.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.compute.nbd.NbdClient;
import io.coffre.identity.Identity;
import io.coffre.json.Json;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Microsoft.Compute/virtualMachines over HTTPS as the SDK pollers drive it, and the disks over the server's NBD. */
class VirtualMachineRoutesTest {
    private static final String MGMT = "management.coffre.localhost";
    private static final String V = "?api-version=2026-04-01";

    private static final String CVM = "{\"location\":\"uaenorth\",\"properties\":{"
            + "\"hardwareProfile\":{\"vmSize\":\"Standard_DC2as_v6\"},"
            + "\"securityProfile\":{\"securityType\":\"ConfidentialVM\","
            + "\"uefiSettings\":{\"secureBootEnabled\":true,\"vTpmEnabled\":true}},"
            + "\"storageProfile\":{\"osDisk\":{\"createOption\":\"FromImage\",\"deleteOption\":\"Delete\","
            + "\"managedDisk\":{\"storageAccountType\":\"Premium_LRS\","
            + "\"securityProfile\":{\"securityEncryptionType\":\"DiskWithVMGuestState\"}}},"
            + "\"dataDisks\":[{\"lun\":0,\"createOption\":\"Empty\",\"diskSizeGB\":1,\"deleteOption\":\"Delete\"}]},"
            + "\"osProfile\":{\"computerName\":\"cvm\",\"adminUsername\":\"azureuser\"}}}";

    @Test
    void createPollGetActAndDeleteAsTheSdkDoes() throws Exception {
        try (TestServer server = TestServer.start()) {
            Identity identity = server.server().core().identity();
            String token = server.adminToken();
            String group = "/subscriptions/" + identity.defaultSubscriptionId() + "/resourceGroups/rg1";
            server.server().core().resourceManager().putResourceGroup(identity.admin(),
                    identity.defaultSubscriptionId(), "rg1", "uaenorth", Map.of());
            String vm = group + "/providers/Microsoft.Compute/virtualMachines/vm1";

            HttpResponse<String> created = server.send("PUT", MGMT, vm + V, token, CVM);
            assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
            assertThat(Json.parse(created.body()).at("/properties/provisioningState").asText()).isEqualTo("Creating");
            assertThat(poll(server, token, created)).isEqualTo("Succeeded");

            JsonNode got = Json.parse(server.send("GET", MGMT, vm + V + "&$expand=instanceView", token, null).body());
            assertThat(got.path("type").asText()).isEqualTo("Microsoft.Compute/virtualMachines");
            assertThat(got.at("/properties/provisioningState").asText()).isEqualTo("Succeeded");
            assertThat(got.at("/properties/vmId").asText()).hasSize(36);
            assertThat(got.at("/properties/instanceView/statuses/1/code").asText()).isEqualTo("PowerState/running");
            String osDisk = got.at("/properties/storageProfile/osDisk/managedDisk/id").asText();
            JsonNode disk = Json.parse(server.send("GET", MGMT, osDisk + "?api-version=2026-03-02", token, null)
                    .body());
            assertThat(disk.at("/properties/diskState").asText()).isEqualTo("Attached");
            assertThat(disk.path("managedBy").asText()).isEqualTo(got.path("id").asText());
            assertThat(disk.at("/properties/securityProfile/securityType").asText())
                    .isEqualTo("ConfidentialVM_DiskEncryptedWithPlatformKey");

            // the server's NBD port is in server.json; the data disk is exported while the VM runs
            JsonNode info = Json.parse(Files.readString(server.dataDir().resolve(ServerInfoFile.FILE)));
            InetSocketAddress nbd = new InetSocketAddress(InetAddress.getLoopbackAddress(),
                    info.path("nbdPort").asInt());
            byte[] written = new byte[1 << 20];
            new Random(3).nextBytes(written);
            try (NbdClient client = NbdClient.connect(nbd, "rg1/vm1/lun0")) {
                client.write(0, written, 0, written.length, true);
            }

            HttpResponse<String> off = server.send("POST", MGMT, vm + "/powerOff" + V, token, "");
            assertThat(off.statusCode()).as(off.body()).isEqualTo(202);
            assertThat(poll(server, token, off)).isEqualTo("Succeeded");
            // the SDK pollers then read the Location URL and accept 200 or 202 there, not 204
            HttpResponse<String> offResult = server.send(HttpRequest.newBuilder(URI.create(
                    off.headers().firstValue("Location").orElseThrow())).GET()
                    .header("Authorization", "Bearer " + token));
            assertThat(offResult.statusCode()).as(offResult.body()).isEqualTo(200);
            JsonNode view = Json.parse(server.send("GET", MGMT, vm + "/instanceView" + V, token, null).body());
            assertThat(view.at("/statuses/1/code").asText()).isEqualTo("PowerState/stopped");
            assertThat(poll(server, token, server.send("POST", MGMT, vm + "/start" + V, token, "")))
                    .isEqualTo("Succeeded");
            byte[] read = new byte[written.length];
            try (NbdClient client = NbdClient.connect(nbd, "rg1/vm1/lun0")) {
                client.read(0, read, 0, read.length);
            }
            assertThat(read).isEqualTo(written);

            assertThat(Json.parse(server.send("GET", MGMT, group + "/providers/Microsoft.Compute/virtualMachines" + V,
                    token, null).body()).path("value")).hasSize(1);
            HttpResponse<String> bad = server.send("PUT", MGMT, group
                    + "/providers/Microsoft.Compute/virtualMachines/vm2" + V, token,
                    CVM.replace("Standard_DC2as_v6", "Standard_D2s_v5"));
            assertThat(bad.statusCode()).isEqualTo(400);
            assertThat(Json.parse(bad.body()).at("/error/code").asText()).isEqualTo("BadRequest");
            assertThat(server.send("POST", MGMT, vm + "/hibernate" + V, token, "").statusCode()).isEqualTo(404);

            // a PATCH of the data disks (as the SDKs' beginUpdate sends it) runs as an operation, like a PUT
            HttpResponse<String> patched = server.send("PATCH", MGMT, vm + V, token,
                    "{\"tags\":{\"env\":\"test\"},\"properties\":{\"storageProfile\":{\"dataDisks\":[]}}}");
            assertThat(patched.statusCode()).as(patched.body()).isEqualTo(200);
            assertThat(Json.parse(patched.body()).at("/properties/provisioningState").asText()).isEqualTo("Updating");
            assertThat(poll(server, token, patched)).isEqualTo("Succeeded");
            // where a PATCH's poller reads its result: the Location URL answers with the VM
            HttpResponse<String> result = server.send(HttpRequest.newBuilder(URI.create(
                    patched.headers().firstValue("Location").orElseThrow())).GET()
                    .header("Authorization", "Bearer " + token));
            assertThat(result.statusCode()).as(result.body()).isEqualTo(200);
            JsonNode updated = Json.parse(result.body());
            assertThat(updated.path("id").asText()).isEqualToIgnoringCase(vm);
            assertThat(updated.at("/properties/storageProfile/dataDisks")).isEmpty();
            assertThat(updated.at("/tags/env").asText()).isEqualTo("test");
            assertThatThrownBy(() -> NbdClient.connect(nbd, "rg1/vm1/lun0")).hasMessageContaining("no export");

            // az vm resize: the sizes the VM can take, then a PUT of the VM with one; running, it restarts, and what
            // the guest wrote before is there after
            HttpResponse<String> options = server.send("GET", MGMT, vm + "/vmSizes" + V, token, null);
            assertThat(options.statusCode()).as(options.body()).isEqualTo(200);
            assertThat(Json.parse(options.body()).path("value").findValuesAsText("name"))
                    .contains("Standard_DC2as_v6", "Standard_DC4as_v6").doesNotContain("Standard_DC2es_v6");
            byte[] beforeResize = new byte[1 << 20];
            new Random(4).nextBytes(beforeResize);
            try (NbdClient client = NbdClient.connect(nbd, "rg1/vm1/os")) {
                client.write(4096, beforeResize, 0, beforeResize.length, false);
            }
            JsonNode current = Json.parse(server.send("GET", MGMT, vm + V, token, null).body());
            ((ObjectNode) current.at("/properties/hardwareProfile")).put("vmSize", "Standard_DC4as_v6");
            HttpResponse<String> resized = server.send("PUT", MGMT, vm + V, token, Json.write(current));
            assertThat(resized.statusCode()).as(resized.body()).isEqualTo(200);
            assertThat(poll(server, token, resized)).isEqualTo("Succeeded");
            JsonNode after = Json.parse(server.send("GET", MGMT, vm + V + "&$expand=instanceView", token, null).body());
            assertThat(after.at("/properties/hardwareProfile/vmSize").asText()).isEqualTo("Standard_DC4as_v6");
            assertThat(after.at("/properties/instanceView/statuses/1/code").asText()).isEqualTo("PowerState/running");
            byte[] afterResize = new byte[beforeResize.length];
            try (NbdClient client = NbdClient.connect(nbd, "rg1/vm1/os")) {
                client.read(4096, afterResize, 0, afterResize.length);
            }
            assertThat(afterResize).isEqualTo(beforeResize);

            HttpResponse<String> deleted = server.send("DELETE", MGMT, vm + V, token, null);
            assertThat(deleted.statusCode()).as(deleted.body()).isEqualTo(202);
            assertThat(poll(server, token, deleted)).isEqualTo("Succeeded");
            assertThat(server.send("GET", MGMT, vm + V, token, null).statusCode()).isEqualTo(404);
            assertThat(server.send("GET", MGMT, osDisk + "?api-version=2026-03-02", token, null).statusCode())
                    .isEqualTo(404);
            assertThat(server.send("DELETE", MGMT, vm + V, token, null).statusCode()).isEqualTo(204);
        }
    }

    /** Polls Azure-AsyncOperation until the status is terminal, as @azure/core-lro does. */
    static String poll(TestServer server, String token, HttpResponse<String> initial) throws Exception {
        String url = initial.headers().firstValue("Azure-AsyncOperation").orElseThrow();
        for (int i = 0; i < 600; i++) {
            HttpResponse<String> r = server.send(HttpRequest.newBuilder(URI.create(url)).GET()
                    .header("Authorization", "Bearer " + token));
            String status = Json.parse(r.body()).path("status").asText();
            if (!status.equals("InProgress")) {
                return status;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("the operation at " + url + " did not finish");
    }
}
