package io.coffre.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.CoffreCore;
import io.coffre.compute.disk.BlockDevice;
import io.coffre.identity.Identity;
import io.coffre.identity.Principal;
import io.coffre.keyvault.KeyService;
import io.coffre.keyvault.KeyService.Store;
import io.coffre.json.Json;
import io.coffre.store.StorageScanner;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Microsoft.Compute disks and snapshots over HTTPS, and the direct upload / export data path. */
class DiskRoutesTest {
    static final String MGMT = "management.coffre.localhost";
    static final String V = "?api-version=2026-03-02";
    static final int MIB = 1024 * 1024;
    static final int IMAGE_BYTES = 16 * MIB + 512;

    @Test
    void emptyDiskLifecycle() {
        try (TestServer server = TestServer.start()) {
            Arm arm = new Arm(server);
            HttpResponse<String> created = arm.send("PUT", arm.disk("d1"), "{\"location\":\"UAE North\","
                    + "\"sku\":{\"name\":\"Premium_LRS\"},\"properties\":{\"creationData\":"
                    + "{\"createOption\":\"Empty\"},\"diskSizeGB\":4,\"securityProfile\":"
                    + "{\"securityType\":\"ConfidentialVM_DiskEncryptedWithPlatformKey\"}}}");
            assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
            assertThat(created.headers().firstValue("Azure-AsyncOperation")).isPresent();
            JsonNode status = Json.parse(arm.sendUrl("GET", created.headers().firstValue("Azure-AsyncOperation")
                    .orElseThrow()).body());
            assertThat(status.path("status").asText()).isEqualTo("Succeeded");

            JsonNode disk = Json.parse(arm.send("GET", arm.disk("d1"), null).body());
            assertThat(disk.path("type").asText()).isEqualTo("Microsoft.Compute/disks");
            assertThat(disk.path("location").asText()).isEqualTo("uaenorth");
            assertThat(disk.at("/properties/diskSizeBytes").asLong()).isEqualTo(4L << 30);
            assertThat(disk.at("/properties/diskState").asText()).isEqualTo("Unattached");
            assertThat(disk.at("/properties/provisioningState").asText()).isEqualTo("Succeeded");
            assertThat(java.time.Instant.parse(disk.at("/properties/timeCreated").asText()))
                    .isBeforeOrEqualTo(server.server().core().clock().now());
            assertThat(disk.at("/properties/encryption/type").asText()).isEqualTo("EncryptionAtRestWithPlatformKey");
            assertThat(disk.at("/properties/securityProfile/securityType").asText())
                    .isEqualTo("ConfidentialVM_DiskEncryptedWithPlatformKey");
            assertThat(disk.at("/sku/name").asText()).isEqualTo("Premium_LRS");

            HttpResponse<String> again = arm.send("PUT", arm.disk("d1"), disk.toString());
            assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
            HttpResponse<String> patched = arm.send("PATCH", arm.disk("d1"), "{\"tags\":{\"env\":\"test\"}}");
            assertThat(Json.parse(patched.body()).at("/tags/env").asText()).isEqualTo("test");
            assertThat(Json.parse(arm.send("GET", arm.group() + "/providers/Microsoft.Compute/disks", null).body())
                    .path("value")).hasSize(1);
            assertThat(Json.parse(arm.send("GET", arm.subscription() + "/providers/Microsoft.Compute/disks", null)
                    .body()).path("value")).hasSize(1);
            assertThat(server.server().core().resourceIndex().get(disk.path("id").asText())).isPresent();

            assertThat(arm.send("DELETE", arm.disk("d1"), null).statusCode()).isEqualTo(200);
            assertThat(arm.send("GET", arm.disk("d1"), null).statusCode()).isEqualTo(404);
            assertThat(arm.send("DELETE", arm.disk("d1"), null).statusCode()).isEqualTo(204);
            assertThat(server.server().core().resourceIndex().get(disk.path("id").asText())).isEmpty();
        }
    }

    @Test
    void badDiskRequestsAreRefusedAndLeaveNothing() {
        try (TestServer server = TestServer.start()) {
            Arm arm = new Arm(server);
            assertError(arm.send("PUT", arm.disk("u"), upload(IMAGE_BYTES + 100)), 400, "InvalidParameter");
            assertError(arm.send("PUT", arm.disk("e"), "{\"location\":\"uaenorth\",\"properties\":{\"creationData\":"
                    + "{\"createOption\":\"Empty\"}}}"), 400, "InvalidParameter");
            assertError(arm.send("PUT", arm.disk("i"), "{\"location\":\"uaenorth\",\"properties\":{\"creationData\":"
                    + "{\"createOption\":\"FromImage\"}}}"), 400, "InvalidParameter");
            assertError(arm.send("PUT", arm.disk("c"), copy("Copy", arm.disk("missing"))), 404, "NotFound");
            assertError(arm.send("PUT", arm.disk("x"), "{\"location\":\"uaenorth\",\"properties\":{\"creationData\":"
                    + "{\"createOption\":\"Empty\"},\"diskSizeGB\":1,\"securityProfile\":"
                    + "{\"securityType\":\"Bogus\"}}}"),
                    400, "InvalidParameter");
            assertError(arm.send("PUT", arm.subscription() + "/resourceGroups/nogroup/providers/Microsoft.Compute"
                    + "/disks/d", empty(1)), 404, "ResourceGroupNotFound");
            assertThat(Json.parse(arm.send("GET", arm.subscription() + "/providers/Microsoft.Compute/disks", null)
                    .body()).path("value")).isEmpty();

            assertThat(arm.send("PUT", arm.disk("plain"), empty(1)).statusCode()).isEqualTo(201);
            assertError(arm.send("PUT", arm.disk("r"), copy("Restore", arm.disk("plain"))), 400, "InvalidParameter");
            assertError(arm.send("POST", arm.disk("plain") + "/beginGetAccess", grant("Write")), 409,
                    "OperationNotAllowed");
            assertError(arm.send("POST", arm.disk("plain") + "/beginGetAccess", grant("Sideways")), 400,
                    "InvalidParameter");
            String sas = arm.grantAccess(arm.disk("plain"), "Read");
            assertError(arm.send("DELETE", arm.disk("plain"), null), 409, "OperationNotAllowed");
            arm.revokeAccess(arm.disk("plain"));
            assertThat(dataRequest(server, "GET", sas, null, null).statusCode()).isEqualTo(403);

            // A VM attach (the VM work sets the state); uploads and grants to an attached disk are refused.
            assertThat(arm.send("PUT", arm.disk("attached"), upload(MIB)).statusCode()).isEqualTo(201);
            server.server().core().metadata().withHandle(h -> h.createUpdate(
                    "UPDATE compute_disks SET disk_state = 'Attached' WHERE resource_id LIKE '%/attached'").execute());
            assertError(arm.send("POST", arm.disk("attached") + "/beginGetAccess", grant("Write")), 409,
                    "OperationNotAllowed");
            assertError(arm.send("DELETE", arm.disk("attached"), null), 409, "OperationNotAllowed");
        }
    }

    @Test
    void anExpiredGrantStopsWorking() {
        try (TestServer server = TestServer.start(true)) {
            Arm arm = new Arm(server);
            assertThat(arm.send("PUT", arm.disk("up"), upload(MIB)).statusCode()).isEqualTo(201);
            HttpResponse<String> r = arm.send("POST", arm.disk("up") + "/beginGetAccess",
                    "{\"access\":\"Write\",\"durationInSeconds\":60}");
            String sas = Json.parse(arm.sendUrl("GET", r.headers().firstValue("Location").orElseThrow()).body())
                    .path("accessSAS").asText();
            assertThat(dataRequest(server, "PUT", sas, "bytes=0-511", new byte[512]).statusCode()).isEqualTo(201);
            HttpResponse<String> advanced = server.send("POST", MGMT, "/admin/clock/advance", server.adminToken(),
                    "{\"duration\":\"PT61S\"}");
            assertThat(advanced.statusCode()).as(advanced.body()).isEqualTo(200);
            assertStorageError(dataRequest(server, "PUT", sas, "bytes=0-511", new byte[512]), 403,
                    "AuthenticationFailed");
        }
    }

    @Test
    void concurrentCreatesOfOneDiskMakeOneDisk() throws Exception {
        try (TestServer server = TestServer.start()) {
            Arm arm = new Arm(server);
            List<CompletableFuture<HttpResponse<String>>> puts = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                puts.add(server.http().sendAsync(HttpRequest.newBuilder(URI.create(server.url(MGMT) + arm.disk("race")
                        + V)).header("Authorization", "Bearer " + server.adminToken())
                        .header("Content-Type", "application/json")
                        .PUT(HttpRequest.BodyPublishers.ofString(empty(1))).build(),
                        HttpResponse.BodyHandlers.ofString()));
            }
            List<Integer> statuses = new ArrayList<>();
            for (CompletableFuture<HttpResponse<String>> put : puts) {
                statuses.add(put.get().statusCode());
            }
            assertThat(statuses).as(statuses.toString()).containsOnly(200, 201).contains(201);
            assertThat(Json.parse(arm.send("GET", arm.group() + "/providers/Microsoft.Compute/disks", null).body())
                    .path("value")).hasSize(1);
        }
    }

    @Test
    void uploadDownloadSnapshotAndRestoreAreByteIdentical() throws Exception {
        try (TestServer server = TestServer.start()) {
            Arm arm = new Arm(server);
            CoffreCore core = server.server().core();
            byte[] image = new byte[IMAGE_BYTES];
            new Random(7).nextBytes(image);
            byte[] pattern = new byte[4096];
            Arrays.fill(pattern, (byte) 0x5A);
            for (int i = 0; i < pattern.length; i += 64) {
                pattern[i] = (byte) i;
            }
            System.arraycopy(pattern, 0, image, 3 * MIB + 512, pattern.length);

            HttpResponse<String> created = arm.send("PUT", arm.disk("up"), upload(IMAGE_BYTES));
            assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
            assertThat(Json.parse(created.body()).at("/properties/diskState").asText()).isEqualTo("ReadyToUpload");
            String writeSas = arm.grantAccess(arm.disk("up"), "Write");
            assertThat(Json.parse(arm.send("GET", arm.disk("up"), null).body()).at("/properties/diskState").asText())
                    .isEqualTo("ActiveUpload");
            HttpResponse<String> head = dataRequest(server, "HEAD", writeSas, null, null);
            assertThat(head.headers().firstValueAsLong("Content-Length").orElse(-1)).isEqualTo(IMAGE_BYTES);

            // Chunks of several aligned sizes, sent out of order, several in flight.
            List<long[]> chunks = new ArrayList<>();
            int[] sizes = {512, 64 * 1024, MIB + 512, 4 * MIB, 3 * 512, 2 * MIB};
            for (long offset = 0, i = 0; offset < IMAGE_BYTES; i++) {
                long length = Math.min(sizes[(int) (i % sizes.length)], IMAGE_BYTES - offset);
                chunks.add(new long[] {offset, length});
                offset += length;
            }
            Collections.shuffle(chunks, new Random(3));
            List<CompletableFuture<HttpResponse<String>>> inFlight = new ArrayList<>();
            for (long[] chunk : chunks) {
                byte[] body = Arrays.copyOfRange(image, (int) chunk[0], (int) (chunk[0] + chunk[1]));
                inFlight.add(server.http().sendAsync(HttpRequest.newBuilder(URI.create(writeSas))
                        .header("x-ms-range", "bytes=" + chunk[0] + "-" + (chunk[0] + chunk[1] - 1))
                        .header("x-ms-page-write", "update").header("x-ms-blob-type", "PageBlob")
                        .PUT(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                        HttpResponse.BodyHandlers.ofString()));
            }
            for (CompletableFuture<HttpResponse<String>> f : inFlight) {
                assertThat(f.get().statusCode()).as(f.get().body()).isEqualTo(201);
            }

            // Page-write errors, each in the Storage dialect.
            byte[] sector = new byte[512];
            assertStorageError(dataRequest(server, "PUT", writeSas, "bytes=100-611", sector), 400, "InvalidPageRange");
            assertStorageError(dataRequest(server, "PUT", writeSas, "bytes=0-99", new byte[100]), 400,
                    "InvalidPageRange");
            assertStorageError(dataRequest(server, "PUT", writeSas, "bytes=" + IMAGE_BYTES + "-" + (IMAGE_BYTES + 511),
                    sector), 416, "InvalidRange");
            assertStorageError(dataRequest(server, "PUT", writeSas, "bytes=0-1023", sector), 400, "InvalidHeaderValue");
            assertStorageError(dataRequest(server, "PUT", writeSas, "bytes=0-" + (4 * MIB + 511),
                    new byte[4 * MIB + 512]), 413, "RequestBodyTooLarge");
            assertStorageError(dataRequest(server, "PUT", writeSas.replaceAll("sig=.*", "sig=forged"), "bytes=0-511",
                    sector), 403, "AuthenticationFailed");
            assertStorageError(dataRequest(server, "PUT", writeSas.replaceAll("\\?sig=.*", ""), "bytes=0-511",
                    sector), 403, "AuthenticationFailed");
            arm.revokeAccess(arm.disk("up"));
            assertStorageError(dataRequest(server, "PUT", writeSas, "bytes=0-511", sector), 403,
                    "AuthenticationFailed");
            assertThat(Json.parse(arm.send("GET", arm.disk("up"), null).body()).at("/properties/diskState").asText())
                    .isEqualTo("Unattached");

            String readSas = arm.grantAccess(arm.disk("up"), "Read");
            assertThat(sha256(download(server, readSas, IMAGE_BYTES))).isEqualTo(sha256(image));
            HttpResponse<byte[]> ranged = server.http().send(HttpRequest.newBuilder(URI.create(readSas))
                    .header("Range", "bytes=1000-1999").GET().build(), HttpResponse.BodyHandlers.ofByteArray());
            assertThat(ranged.statusCode()).isEqualTo(206);
            assertThat(ranged.body()).isEqualTo(Arrays.copyOfRange(image, 1000, 2000));
            assertStorageError(dataRequest(server, "PUT", readSas, "bytes=0-511", sector), 403,
                    "AuthorizationPermissionMismatch");
            assertStorageError(dataRequest(server, "GET", readSas, "bytes=" + IMAGE_BYTES + "-", null), 416,
                    "InvalidRange");
            arm.revokeAccess(arm.disk("up"));

            assertThat(StorageScanner.findBytes(core.metadata(), core.blobs(), pattern, 64)).isEmpty();

            // Snapshot, overwrite the disk (as a VM's guest would), restore: the old bytes come back.
            HttpResponse<String> snap = arm.send("PUT", arm.snapshot("s1"), "{\"location\":\"uaenorth\",\"properties\":"
                    + "{\"creationData\":{\"createOption\":\"Copy\",\"sourceResourceId\":\"" + arm.disk("up")
                    + "\"},\"incremental\":true}}");
            assertThat(snap.statusCode()).as(snap.body()).isEqualTo(201);
            assertThat(Json.parse(snap.body()).at("/properties/incremental").asBoolean()).isTrue();
            String storeId = Json.parse(arm.send("GET", arm.disk("up"), null).body()).at("/properties/uniqueId")
                    .asText();
            byte[] overwrite = new byte[2 * MIB];
            new Random(11).nextBytes(overwrite);
            try (BlockDevice device = core.diskStore().open(storeId)) {
                device.write(MIB, overwrite, 0, overwrite.length, true);
            }
            byte[] changed = image.clone();
            System.arraycopy(overwrite, 0, changed, MIB, overwrite.length);
            assertThat(sha256(download(server, arm.grantAccess(arm.disk("up"), "Read"), IMAGE_BYTES)))
                    .isEqualTo(sha256(changed));
            arm.revokeAccess(arm.disk("up"));

            assertThat(arm.send("PUT", arm.disk("restored"), copy("Restore", arm.snapshot("s1"))).statusCode())
                    .isEqualTo(201);
            assertThat(arm.send("PUT", arm.disk("copied"), copy("Copy", arm.snapshot("s1"))).statusCode())
                    .isEqualTo(201);
            assertThat(arm.send("PUT", arm.disk("clone"), copy("Copy", arm.disk("up"))).statusCode()).isEqualTo(201);
            assertThat(sha256(download(server, arm.grantAccess(arm.disk("restored"), "Read"), IMAGE_BYTES)))
                    .isEqualTo(sha256(image));
            assertThat(sha256(download(server, arm.grantAccess(arm.disk("copied"), "Read"), IMAGE_BYTES)))
                    .isEqualTo(sha256(image));
            assertThat(sha256(download(server, arm.grantAccess(arm.snapshot("s1"), "Read"), IMAGE_BYTES)))
                    .isEqualTo(sha256(image));
            assertThat(sha256(download(server, arm.grantAccess(arm.disk("clone"), "Read"), IMAGE_BYTES)))
                    .isEqualTo(sha256(changed));

            assertThat(Json.parse(arm.send("GET", arm.group() + "/providers/Microsoft.Compute/snapshots", null)
                    .body()).path("value")).hasSize(1);
            assertError(arm.send("PUT", arm.snapshot("s2"), "{\"location\":\"uaenorth\",\"properties\":"
                    + "{\"creationData\":{\"createOption\":\"Copy\",\"sourceResourceId\":\"" + arm.snapshot("s1")
                    + "\"}}}"), 400, "InvalidParameter");
            arm.revokeAccess(arm.snapshot("s1"));
            assertThat(arm.send("DELETE", arm.snapshot("s1"), null).statusCode()).isEqualTo(200);
            arm.revokeAccess(arm.disk("restored"));
            assertThat(sha256(download(server, arm.grantAccess(arm.disk("restored"), "Read"), IMAGE_BYTES)))
                    .as("a disk restored from a snapshot keeps its content when the snapshot is deleted")
                    .isEqualTo(sha256(image));
        }
    }

    /**
     * A ranged GET over an object altered in storage gets the integrity error, not a response cut short or wrong
     * bytes: a range within a block's length is read whole before its response starts. A longer one that fails
     * after its first block went out is cut short, which the client sees as a failed transfer.
     */
    @Test
    void aRangedReadOverAnAlteredBlockFailsBeforeItsResponseStarts() throws Exception {
        try (TestServer server = TestServer.start()) {
            Arm arm = new Arm(server);
            CoffreCore core = server.server().core();
            byte[] image = new byte[8 * MIB];
            new Random(8).nextBytes(image);
            assertThat(arm.send("PUT", arm.disk("altered"), upload(image.length)).statusCode()).isEqualTo(201);
            String writeSas = arm.grantAccess(arm.disk("altered"), "Write");
            for (int offset = 0; offset < image.length; offset += 4 * MIB) {
                HttpResponse<String> put = dataRequest(server, "PUT", writeSas, "bytes=" + offset + "-"
                        + (offset + 4 * MIB - 1), Arrays.copyOfRange(image, offset, offset + 4 * MIB));
                assertThat(put.statusCode()).as(put.body()).isEqualTo(201);
            }
            arm.revokeAccess(arm.disk("altered"));
            String storeId = Json.parse(arm.send("GET", arm.disk("altered"), null).body())
                    .at("/properties/uniqueId").asText();
            String secondBlock = core.diskStore().storedBlocks(storeId).stream().filter(b -> b.index() == 1)
                    .findFirst().orElseThrow().objectId();
            byte[] object = core.blobs().get(secondBlock).orElseThrow();
            object[object.length / 2] ^= 1;
            core.blobs().put(secondBlock, object);

            String readSas = arm.grantAccess(arm.disk("altered"), "Read");
            HttpResponse<byte[]> intact = server.http().send(HttpRequest.newBuilder(URI.create(readSas))
                    .header("Range", "bytes=0-4095").GET().build(), HttpResponse.BodyHandlers.ofByteArray());
            assertThat(intact.statusCode()).isEqualTo(206);
            assertThat(intact.body()).isEqualTo(Arrays.copyOf(image, 4096));
            assertStorageError(dataRequest(server, "GET", readSas, "bytes=" + (4 * MIB - 4096) + "-"
                    + (4 * MIB + 4095), null), 500, "DiskDataIntegrityError");
            // the whole disk goes out a block at a time: the first had been sent when the second failed
            assertThatThrownBy(() -> server.http().send(HttpRequest.newBuilder(URI.create(readSas)).GET().build(),
                    HttpResponse.BodyHandlers.ofByteArray())).isInstanceOf(IOException.class);
        }
    }

    /**
     * Get Page Ranges, as azcopy asks for it before an upload (to know where zeros must still be written) and before
     * a download (to skip what was never written): whole blocks that hold data, merged, cut at the disk's end.
     */
    @Test
    void thePageListNamesTheBlocksThatHoldData() {
        try (TestServer server = TestServer.start()) {
            Arm arm = new Arm(server);
            assertThat(arm.send("PUT", arm.disk("sparse"), upload(IMAGE_BYTES)).statusCode()).isEqualTo(201);
            String sas = arm.grantAccess(arm.disk("sparse"), "Write");
            String pageList = sas + "&comp=pagelist";
            HttpResponse<String> empty = dataRequest(server, "GET", pageList, null, null);
            assertThat(empty.statusCode()).as(empty.body()).isEqualTo(200);
            assertThat(empty.headers().firstValue("Content-Type").orElse("")).startsWith("application/xml");
            assertThat(empty.headers().firstValueAsLong("x-ms-blob-content-length")).hasValue(IMAGE_BYTES);
            assertThat(empty.body()).isEqualTo("<?xml version=\"1.0\" encoding=\"utf-8\"?><PageList></PageList>");

            byte[] sector = new byte[512];
            sector[7] = 1;
            long tail = 4L * 4 * MIB; // the 5th block: 512 bytes long
            for (long offset : new long[] {512, 2L * 4 * MIB, 3L * 4 * MIB + 4096, tail}) {
                assertThat(dataRequest(server, "PUT", sas + "&comp=page", "bytes=" + offset + "-" + (offset + 511),
                        sector).statusCode()).isEqualTo(201);
            }
            assertThat(ranges(dataRequest(server, "GET", pageList, null, null)))
                    .containsExactly(List.of(0L, 4L * MIB - 1), List.of(8L * MIB, IMAGE_BYTES - 1L));
            assertThat(ranges(dataRequest(server, "GET", pageList, "bytes=" + 4 * MIB + "-" + (10 * MIB - 1), null)))
                    .as("cut to the range asked for").containsExactly(List.of(8L * MIB, 10L * MIB - 1));

            HttpRequest.Builder clear = HttpRequest.newBuilder(URI.create(sas))
                    .PUT(HttpRequest.BodyPublishers.noBody()).header("x-ms-page-write", "clear")
                    .header("x-ms-range", "bytes=" + 12 * MIB + "-" + (16 * MIB - 1));
            assertThat(server.send(clear).statusCode()).isEqualTo(201);
            assertThat(ranges(dataRequest(server, "GET", pageList, null, null))).as("a cleared block is sparse again")
                    .containsExactly(List.of(0L, 4L * MIB - 1), List.of(8L * MIB, 12L * MIB - 1),
                            List.of(tail, IMAGE_BYTES - 1L));

            assertStorageError(dataRequest(server, "GET", sas + "&comp=blocklist", null, null), 400,
                    "InvalidQueryParameterValue");
            assertStorageError(dataRequest(server, "PUT", sas + "&comp=block", "bytes=0-511", sector), 400,
                    "InvalidQueryParameterValue");
            assertStorageError(dataRequest(server, "GET", pageList.replaceAll("sig=[^&]*", "sig=forged"), null, null),
                    403, "AuthenticationFailed");
            assertStorageError(dataRequest(server, "GET", pageList, "bytes=" + IMAGE_BYTES + "-", null), 416,
                    "InvalidRange");
            arm.revokeAccess(arm.disk("sparse"));
            String readSas = arm.grantAccess(arm.disk("sparse"), "Read");
            assertThat(ranges(dataRequest(server, "GET", readSas + "&comp=pagelist", null, null)))
                    .as("read access lists the same ranges").hasSize(3);
        }
    }

    /** The [start, end] pairs of a page list. */
    private static List<List<Long>> ranges(HttpResponse<String> pageList) {
        assertThat(pageList.statusCode()).as(pageList.body()).isEqualTo(200);
        List<List<Long>> ranges = new ArrayList<>();
        Matcher m = Pattern.compile("<PageRange><Start>(\\d+)</Start><End>(\\d+)</End></PageRange>")
                .matcher(pageList.body());
        while (m.find()) {
            ranges.add(List.of(Long.parseLong(m.group(1)), Long.parseLong(m.group(2))));
        }
        return ranges;
    }

    @Test
    void customerKeyDiskUsesItsDesAndHoldsNoPlaintext() throws Exception {
        try (TestServer server = TestServer.start()) {
            Arm arm = new Arm(server);
            CoffreCore core = server.server().core();
            Principal admin = core.identity().admin();
            String subscription = core.identity().defaultSubscriptionId();
            KeyService keys = core.keyService();
            ObjectNode vault = Json.object().put("location", "uaenorth");
            ObjectNode p = vault.putObject("properties");
            p.putObject("sku").put("family", "A").put("name", "premium");
            p.put("tenantId", core.identity().tenantId()).put("enablePurgeProtection", true);
            p.putArray("accessPolicies").addObject().put("tenantId", core.identity().tenantId())
                    .put("objectId", admin.objectId()).putObject("permissions").putArray("keys").add("all");
            keys.putStore(admin, subscription, "rg1", Store.vault("kv1"), vault);
            String kid = keys.createKey(admin, Store.vault("kv1"), "k1", Json.object().put("kty", "RSA"))
                    .path("key").path("kid").asText();
            String des = arm.group() + "/providers/Microsoft.Compute/diskEncryptionSets/des1";
            HttpResponse<String> desCreated = arm.send("PUT", des, "{\"location\":\"uaenorth\",\"identity\":"
                    + "{\"type\":\"SystemAssigned\"},\"properties\":{\"encryptionType\":"
                    + "\"EncryptionAtRestWithCustomerKey\",\"activeKey\":{\"keyUrl\":\"" + kid + "\"}}}");
            assertThat(desCreated.statusCode()).as(desCreated.body()).isIn(200, 201);
            String principalId = Json.parse(desCreated.body()).at("/identity/principalId").asText();
            String cmk = "{\"location\":\"uaenorth\",\"properties\":{\"creationData\":{\"createOption\":"
                    + "\"Upload\",\"uploadSizeBytes\":" + (4 * MIB) + "},\"encryption\":{\"type\":"
                    + "\"EncryptionAtRestWithCustomerKey\",\"diskEncryptionSetId\":\"" + des + "\"}}}";

            // The DES identity is not granted on its key yet: refused, and nothing is left behind.
            HttpResponse<String> refused = arm.send("PUT", arm.disk("cmk"), cmk);
            assertError(refused, 400, "KeyVaultAccessForbidden");
            assertThat(Json.parse(refused.body()).at("/error/message").asText()).contains(principalId)
                    .contains("wrapKey");
            assertThat(arm.send("GET", arm.disk("cmk"), null).statusCode()).isEqualTo(404);

            ObjectNode withPolicy = keys.getStore(admin, subscription, "rg1", Store.vault("kv1"));
            ((ArrayNode) withPolicy.at("/properties/accessPolicies")).addObject()
                    .put("tenantId", core.identity().tenantId()).put("objectId", principalId)
                    .putObject("permissions").putArray("keys").add("get").add("wrapKey").add("unwrapKey");
            keys.putStore(admin, subscription, "rg1", Store.vault("kv1"), withPolicy);
            HttpResponse<String> created = arm.send("PUT", arm.disk("cmk"), cmk);
            assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
            assertThat(Json.parse(created.body()).at("/properties/encryption/diskEncryptionSetId").asText())
                    .isEqualToIgnoringCase(des);

            byte[] image = new byte[4 * MIB];
            for (int i = 0; i < image.length; i++) {
                image[i] = (byte) (i * 31 + (i >>> 9));
            }
            String sas = arm.grantAccess(arm.disk("cmk"), "Write");
            assertThat(dataRequest(server, "PUT", sas, "bytes=0-" + (image.length - 1), image).statusCode())
                    .isEqualTo(201);
            arm.revokeAccess(arm.disk("cmk"));
            assertThat(arm.send("PUT", arm.snapshot("cmksnap"), "{\"location\":\"uaenorth\",\"properties\":"
                    + "{\"creationData\":{\"createOption\":\"Copy\",\"sourceResourceId\":\"" + arm.disk("cmk")
                    + "\"}}}").statusCode()).isEqualTo(201);
            assertThat(arm.send("PUT", arm.disk("cmkcopy"), copy("Restore", arm.snapshot("cmksnap"))).statusCode())
                    .isEqualTo(201);
            assertThat(sha256(download(server, arm.grantAccess(arm.disk("cmkcopy"), "Read"), image.length)))
                    .isEqualTo(sha256(image));
            assertThat(Json.parse(arm.send("GET", des + "/associatedResources", null).body()).toString())
                    .containsIgnoringCase(arm.disk("cmk")).containsIgnoringCase(arm.snapshot("cmksnap"));
            HttpResponse<String> inUse = arm.send("DELETE", des, null);
            assertError(inUse, 409, "DiskEncryptionSetInUse");
            assertThat(StorageScanner.findBytes(core.metadata(), core.blobs(), Arrays.copyOfRange(image, 0, 4096), 64))
                    .isEmpty();
        }
    }

    private static byte[] download(TestServer server, String sas, int size) throws Exception {
        HttpResponse<byte[]> r = server.http().send(HttpRequest.newBuilder(URI.create(sas)).GET().build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).hasSize(size);
        return r.body();
    }

    private static HttpResponse<String> dataRequest(TestServer server, String method, String sas, String range,
                                                    byte[] body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(sas)).method(method,
                body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        if (range != null) {
            b.header("x-ms-range", range);
        }
        return server.send(b);
    }

    private static void assertStorageError(HttpResponse<String> r, int status, String code) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        assertThat(r.headers().firstValue("x-ms-error-code")).contains(code);
        assertThat(r.body()).contains("<Code>" + code + "</Code>");
    }

    private static void assertError(HttpResponse<String> r, int status, String code) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        assertThat(Json.parse(r.body()).at("/error/code").asText()).isEqualTo(code);
    }

    private static String sha256(byte[] data) throws Exception {
        return Json.b64url(MessageDigest.getInstance("SHA-256").digest(data));
    }

    static String empty(int sizeGb) {
        return "{\"location\":\"uaenorth\",\"properties\":{\"creationData\":{\"createOption\":\"Empty\"},"
                + "\"diskSizeGB\":" + sizeGb + "}}";
    }

    static String upload(long bytes) {
        return "{\"location\":\"uaenorth\",\"properties\":{\"creationData\":{\"createOption\":\"Upload\","
                + "\"uploadSizeBytes\":" + bytes + "}}}";
    }

    static String copy(String option, String sourceId) {
        return "{\"location\":\"uaenorth\",\"properties\":{\"creationData\":{\"createOption\":\"" + option
                + "\",\"sourceResourceId\":\"" + sourceId + "\"}}}";
    }

    static String grant(String access) {
        return "{\"access\":\"" + access + "\",\"durationInSeconds\":3600}";
    }

    /** The administrator on the management host, with resource group rg1. */
    static final class Arm {
        private final TestServer server;
        private final String token;
        private final String subscriptionId;

        Arm(TestServer server) {
            this.server = server;
            this.token = server.adminToken();
            Identity identity = server.server().core().identity();
            this.subscriptionId = identity.defaultSubscriptionId();
            server.server().core().resourceManager().putResourceGroup(identity.admin(), subscriptionId, "rg1",
                    "uaenorth", Map.of());
        }

        String subscription() {
            return "/subscriptions/" + subscriptionId;
        }

        String group() {
            return subscription() + "/resourceGroups/rg1";
        }

        String disk(String name) {
            return group() + "/providers/Microsoft.Compute/disks/" + name;
        }

        String snapshot(String name) {
            return group() + "/providers/Microsoft.Compute/snapshots/" + name;
        }

        HttpResponse<String> send(String method, String path, String body) {
            return server.send(method, MGMT, path + V, token, body);
        }

        HttpResponse<String> sendUrl(String method, String url) {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).method(method,
                    HttpRequest.BodyPublishers.noBody()).header("Authorization", "Bearer " + token);
            return server.send(b);
        }

        /** beginGetAccess as the SDK polls it: the result is at the Location URL. */
        String grantAccess(String path, String access) {
            HttpResponse<String> r = send("POST", path + "/beginGetAccess", grant(access));
            assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
            HttpResponse<String> result = sendUrl("GET", r.headers().firstValue("Location").orElseThrow());
            assertThat(result.statusCode()).as(result.body()).isEqualTo(200);
            String sas = Json.parse(result.body()).path("accessSAS").asText();
            assertThat(sas).startsWith("https://" + MGMT + ":" + server.port() + "/_data/disks/");
            return sas;
        }

        /** endGetAccess; its result URL answers 200 (the SDK pollers accept only 200 or 202 there). */
        void revokeAccess(String path) {
            HttpResponse<String> r = send("POST", path + "/endGetAccess", null);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
            HttpResponse<String> result = sendUrl("GET", r.headers().firstValue("Location").orElseThrow());
            assertThat(result.statusCode()).as(result.body()).isEqualTo(200);
        }
    }
}
