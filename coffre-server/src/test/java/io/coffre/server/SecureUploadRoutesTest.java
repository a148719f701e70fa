package io.coffre.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.compute.Disks;
import io.coffre.compute.vm.CvmRequests;
import io.coffre.json.Json;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A confidential OS disk uploaded with its VM guest state ({@code az disk create --upload-type
 * UploadWithSecurityData}, createOption {@code UploadPreparedSecure}): the Write grant's {@code
 * securityDataAccessSAS} takes the guest state, a confidential VM boots from the disk with it, and both read back.
 */
class SecureUploadRoutesTest {
    private static final int MIB = 1024 * 1024;
    private static final int IMAGE_BYTES = 8 * MIB + 512;

    @Test
    void aConfidentialOsDiskIsUploadedWithItsGuestStateAndAVmRunsFromIt() throws Exception {
        try (TestServer server = TestServer.start()) {
            DiskRoutesTest.Arm arm = new DiskRoutesTest.Arm(server);
            Random random = new Random(11);
            byte[] image = new byte[IMAGE_BYTES];
            random.nextBytes(image);
            byte[] guestState = new byte[Disks.GUEST_STATE_BYTES];
            random.nextBytes(guestState);

            HttpResponse<String> created = arm.send("PUT", arm.disk("os"),
                    secureUpload(IMAGE_BYTES, "ConfidentialVM_DiskEncryptedWithPlatformKey"));
            assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
            assertThat(Json.parse(created.body()).at("/properties/diskState").asText()).isEqualTo("ReadyToUpload");
            // azcopy's checks before it writes: each destination is exactly as large as its source
            JsonNode write = access(arm, "os", "{\"access\":\"Write\",\"durationInSeconds\":3600}");
            String dataSas = write.path("accessSAS").asText();
            String guestStateSas = write.path("securityDataAccessSAS").asText();
            assertThat(guestStateSas).as("a secure upload's Write grant names the guest state").isNotEmpty()
                    .isNotEqualTo(dataSas);
            assertThat(contentLength(server, dataSas)).isEqualTo(IMAGE_BYTES);
            assertThat(contentLength(server, guestStateSas)).isEqualTo(Disks.GUEST_STATE_BYTES);
            putPages(server, dataSas, image);
            putPages(server, guestStateSas, guestState);
            arm.revokeAccess(arm.disk("os"));

            ObjectNode vm = CvmRequests.confidentialVm(null);
            ObjectNode osDisk = (ObjectNode) vm.at("/properties/storageProfile/osDisk");
            osDisk.put("createOption", "Attach").with("managedDisk").put("id", arm.disk("os"));
            String vmPath = arm.group() + "/providers/Microsoft.Compute/virtualMachines/vm1";
            HttpResponse<String> vmCreated = arm.send("PUT", vmPath, vm.toString());
            assertThat(vmCreated.statusCode()).as(vmCreated.body()).isEqualTo(201);
            assertThat(VirtualMachineRoutesTest.poll(server, server.adminToken(), vmCreated)).isEqualTo("Succeeded");
            HttpResponse<String> deleted = arm.send("DELETE", vmPath, null);
            assertThat(VirtualMachineRoutesTest.poll(server, server.adminToken(), deleted)).isEqualTo("Succeeded");

            JsonNode read = access(arm, "os", "{\"access\":\"Read\",\"durationInSeconds\":3600,"
                    + "\"getSecureVMGuestStateSAS\":true}");
            assertThat(download(server, read.path("accessSAS").asText())).isEqualTo(image);
            assertThat(download(server, read.path("securityDataAccessSAS").asText()))
                    .as("the guest state the VM ran with is the uploaded one").isEqualTo(guestState);
            arm.revokeAccess(arm.disk("os"));
        }
    }

    @Test
    void secureUploadMistakesAreRefusedWithTheFixInTheMessage() {
        try (TestServer server = TestServer.start()) {
            DiskRoutesTest.Arm arm = new DiskRoutesTest.Arm(server);
            refused(arm.send("PUT", arm.disk("plain"), secureUpload(IMAGE_BYTES, null)), 400, "InvalidParameter",
                    "securityProfile.securityType", "createOption Upload");
            refused(arm.send("PUT", arm.disk("tpm"), secureUpload(IMAGE_BYTES, "ConfidentialVM_NonPersistedTPM")),
                    400, "InvalidParameter", "ConfidentialVM_NonPersistedTPM");
            assertThat(arm.send("GET", arm.disk("plain"), null).statusCode()).isEqualTo(404);
            assertThat(arm.send("PUT", arm.disk("trusted"), secureUpload(IMAGE_BYTES, "TrustedLaunch")).statusCode())
                    .as("a Trusted Launch OS disk keeps a guest state too").isEqualTo(201);

            assertThat(arm.send("PUT", arm.disk("up"), DiskRoutesTest.upload(IMAGE_BYTES)).statusCode())
                    .isEqualTo(201);
            refused(arm.send("POST", arm.disk("up") + "/beginGetAccess", "{\"access\":\"Write\","
                    + "\"durationInSeconds\":3600,\"getSecureVMGuestStateSAS\":true}"), 400, "InvalidParameter",
                    "UploadPreparedSecure", "Grant Write without it");
            assertThat(Json.parse(arm.send("GET", arm.disk("up"), null).body()).at("/properties/diskState").asText())
                    .isEqualTo("ReadyToUpload");

            assertThat(arm.send("PUT", arm.disk("cvm"), secureUpload(IMAGE_BYTES,
                    "ConfidentialVM_VMGuestStateOnlyEncryptedWithPlatformKey")).statusCode()).isEqualTo(201);
            refused(arm.send("POST", arm.disk("cvm") + "/beginGetAccess", "{\"access\":\"Read\","
                    + "\"durationInSeconds\":3600,\"getSecureVMGuestStateSAS\":true}"), 409, "OperationNotAllowed",
                    "endGetAccess");
        }
    }

    private static String secureUpload(long bytes, String securityType) {
        ObjectNode body = Json.object().put("location", "uaenorth");
        ObjectNode properties = body.putObject("properties");
        properties.putObject("creationData").put("createOption", "UploadPreparedSecure").put("uploadSizeBytes", bytes);
        if (securityType != null) {
            properties.putObject("securityProfile").put("securityType", securityType);
        }
        return body.toString();
    }

    /** beginGetAccess as the SDK polls it: the AccessUri at the Location URL. */
    private static JsonNode access(DiskRoutesTest.Arm arm, String disk, String body) {
        HttpResponse<String> started = arm.send("POST", arm.disk(disk) + "/beginGetAccess", body);
        assertThat(started.statusCode()).as(started.body()).isEqualTo(202);
        HttpResponse<String> result = arm.sendUrl("GET", started.headers().firstValue("Location").orElseThrow());
        assertThat(result.statusCode()).as(result.body()).isEqualTo(200);
        return Json.parse(result.body());
    }

    private static void refused(HttpResponse<String> r, int status, String code, String... messageParts) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        JsonNode error = Json.parse(r.body()).path("error");
        assertThat(error.path("code").asText()).isEqualTo(code);
        assertThat(error.path("message").asText()).contains(messageParts);
    }

    private static long contentLength(TestServer server, String sas) {
        HttpResponse<String> head = server.send(HttpRequest.newBuilder(URI.create(sas))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()));
        assertThat(head.statusCode()).isEqualTo(200);
        return head.headers().firstValueAsLong("Content-Length").orElse(-1);
    }

    private static void putPages(TestServer server, String sas, byte[] content) {
        for (int offset = 0; offset < content.length; offset += 4 * MIB) {
            int length = Math.min(4 * MIB, content.length - offset);
            HttpResponse<String> r = server.send(HttpRequest.newBuilder(URI.create(sas))
                    .header("x-ms-range", "bytes=" + offset + "-" + (offset + length - 1))
                    .header("x-ms-page-write", "update")
                    .PUT(HttpRequest.BodyPublishers.ofByteArray(Arrays.copyOfRange(content, offset, offset + length))));
            assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        }
    }

    private static byte[] download(TestServer server, String sas) throws Exception {
        HttpResponse<byte[]> r = server.http().send(HttpRequest.newBuilder(URI.create(sas)).GET().build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(r.statusCode()).isEqualTo(200);
        return r.body();
    }
}
