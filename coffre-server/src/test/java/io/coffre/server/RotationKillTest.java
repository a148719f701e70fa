package io.coffre.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.CoffreCore;
import io.coffre.Endpoints;
import io.coffre.arm.AsyncOperations;
import io.coffre.compute.Disks;
import io.coffre.compute.Disks.Kind;
import io.coffre.compute.disk.BlockDevice;
import io.coffre.compute.vm.CvmRequests;
import io.coffre.identity.Principal;
import io.coffre.json.Json;
import io.coffre.keyvault.KeyService;
import io.coffre.keyvault.KeyService.Store;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGKILLs the server (a process of its own) in the middle of a Disk Encryption Set key rotation: after the new
 * wrapping of the DES key is stored and before any copy of it is rewritten, the worst place for a crash. The
 * restarted server finishes the rotation on its own (its async operation is resumed), the old key version is then
 * disabled, and every disk and snapshot still reads back byte-identical in a freshly started server (no key cached).
 * A restore point of a running VM whose data disk uses the DES is rotated with the rest: a disk restored from it
 * afterwards reads back what the guest had written at the restore point.
 * The key service saw exactly one unwrap (old version) and one wrap (new version) for the whole rotation: the
 * resumed rotation reuses the stored wrapping instead of asking the key service again.
 */
class RotationKillTest {
    private static final String CMK = "EncryptionAtRestWithCustomerKey";
    private static final int DISKS = 200;
    private static final int DISK_BYTES = 1 << 20;
    private static final int WRITE_BYTES = 64 << 10;
    private static final Store VAULT = Store.vault("kv1");

    @TempDir
    Path dataDir;

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void aRotationKilledMidwayFinishesAfterRestartAndEveryDiskStillReads() throws Exception {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        String context = "seed " + seed;
        int port = FreePort.find("127.0.0.1");
        String kekPrefix = new Endpoints(ServerConfig.DEFAULT_DNS_SUFFIX, port).vaultUri(VAULT.name()) + "/keys/cmk";
        Map<String, byte[]> expected = new LinkedHashMap<>();
        String desId;
        String v1;
        String v2;
        long kekOperationsBefore;
        try (CoffreServer setup = CoffreServer.start(ServerConfig.defaults(dataDir).withPort(port))) {
            Fixture f = new Fixture(setup.core());
            f.vault();
            v1 = f.key();
            desId = f.des(v1);
            for (int i = 0; i < DISKS; i++) {
                f.diskWithData("d" + i, random, expected);
                if (i % 2 == 0) {
                    f.snapshotThenOverwrite("d" + i, "s" + i, random, expected);
                }
            }
            f.restorePointOfARunningVm(random, expected);
            v2 = f.key();
        }

        String statusUrl;
        try (ServerProcess held = ServerProcess.start(dataDir, port, ServerChild.HOLD_ROTATION)) {
            // counted once started: a starting server first maps the writes its disks journaled, which unwraps
            kekOperationsBefore = kekAudit(held, kekPrefix).size();
            ObjectNode body = desBody(v2);
            HttpResponse<String> put = held.arm("PUT", desId + DiskRoutesTest.V, body.toString(), 200);
            statusUrl = put.headers().firstValue("Azure-AsyncOperation").orElseThrow();
            held.awaitLine(ServerChild.HELD, Duration.ofMinutes(2));
            Thread.sleep(random.nextInt(100));
            held.kill();
        }

        try (ServerProcess resumed = ServerProcess.start(dataDir, port)) {
            JsonNode status = awaitDone(resumed, statusUrl);
            assertThat(status.path("status").asText()).as(context + ": " + status).isEqualTo("Succeeded");
            JsonNode des = Json.parse(resumed.arm("GET", desId + DiskRoutesTest.V, null, 200).body());
            assertThat(des.at("/properties/activeKey/keyUrl").asText()).isEqualTo(v2);
            assertThat(des.at("/properties/previousKeys")).isEmpty();

            List<JsonNode> rotation = kekAudit(resumed, kekPrefix);
            // newest first: the rotation's entries lead the list
            List<JsonNode> added = rotation.subList(0, (int) (rotation.size() - kekOperationsBefore));
            assertThat(added).as(context + ": key-service operations of the rotation").extracting(
                    e -> e.path("operation").asText() + " " + e.path("keyVersion").asText())
                    .containsExactly("KeyWrap " + version(v2), "KeyUnwrap " + version(v1));

            resumed.send("PATCH", URI.create(kekPrefix + "/" + version(v1) + "?api-version=7.4"),
                    "{\"attributes\":{\"enabled\":false}}", 200);
            resumed.kill();
        }

        try (CoffreServer fresh = CoffreServer.start(ServerConfig.defaults(dataDir).withPort(port))) {
            Fixture f = new Fixture(fresh.core());
            assertThat(fresh.core().keyService().getKey(f.admin, VAULT, "cmk", version(v1))
                    .at("/attributes/enabled").asBoolean()).isFalse();
            f.restoreFromTheRestorePointAndDetach();
            expected.forEach((name, content) -> assertThat(f.read(name))
                    .as("%s: %s after the rotation with the old key version disabled", context, name)
                    .isEqualTo(content));
        }
    }

    private static JsonNode awaitDone(ServerProcess server, String statusUrl) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        JsonNode status;
        do {
            status = Json.parse(server.arm("GET", statusUrl, null, 200).body());
            if (!status.path("status").asText().equals("InProgress")) {
                return status;
            }
            Thread.sleep(100);
        } while (System.nanoTime() < deadline);
        return status;
    }

    /** The key service's wraps and unwraps with the DES's key, newest first, from a server's audit log. */
    private static List<JsonNode> kekAudit(ServerProcess server, String kekPrefix) throws Exception {
        JsonNode audit = Json.parse(server.arm("GET", "/admin/audit?top=10000&prefix="
                + URLEncoder.encode(kekPrefix, StandardCharsets.UTF_8), null, 200).body()).path("value");
        return StreamSupport.stream(audit.spliterator(), false)
                .filter(e -> isKekOperation(e.path("operation").asText())).toList();
    }

    private static boolean isKekOperation(String operation) {
        return operation.equals("KeyWrap") || operation.equals("KeyUnwrap");
    }

    private static String version(String kid) {
        return kid.substring(kid.lastIndexOf('/') + 1);
    }

    private static ObjectNode desBody(String keyUrl) {
        ObjectNode body = Json.object().put("location", "uaenorth");
        body.putObject("identity").put("type", "SystemAssigned");
        body.putObject("properties").put("encryptionType", CMK).putObject("activeKey").put("keyUrl", keyUrl);
        return body;
    }

    /** Setup and read-back on a core in this process, as the admin. */
    private static final class Fixture {
        final CoffreCore core;
        final Principal admin;
        final String subscription;
        final KeyService keys;
        final Disks disks;

        Fixture(CoffreCore core) {
            this.core = core;
            this.admin = core.identity().admin();
            this.subscription = core.identity().defaultSubscriptionId();
            this.keys = core.keyService();
            this.disks = core.disks();
        }

        /** Resource group {@code rg} and a premium vault whose access policy lets the admin do everything. */
        void vault() {
            core.resourceManager().putResourceGroup(admin, subscription, "rg", "uaenorth", Map.of());
            ObjectNode vault = Json.object().put("location", "uaenorth");
            ObjectNode p = vault.putObject("properties");
            p.putObject("sku").put("family", "A").put("name", "premium");
            p.put("tenantId", core.identity().tenantId()).put("enablePurgeProtection", true);
            policy(p.putArray("accessPolicies"), admin, "all");
            keys.putStore(admin, subscription, "rg", VAULT, vault);
        }

        /** A new version of the vault's key {@code cmk}; returns its kid. */
        String key() {
            return keys.createKey(admin, VAULT, "cmk", Json.object().put("kty", "RSA")).at("/key/kid").asText();
        }

        /** The DES over {@code keyUrl}, its identity allowed to wrap and unwrap with the key; returns its id. */
        String des(String keyUrl) {
            ObjectNode des = core.diskEncryptionSets().put(admin, subscription, "rg", "des1", desBody(keyUrl))
                    .resource();
            Principal identity = core.identity().find(des.at("/identity/principalId").asText()).orElseThrow();
            ObjectNode vault = keys.getStore(admin, subscription, "rg", VAULT);
            policy((ArrayNode) vault.at("/properties/accessPolicies"), identity, "get", "wrapKey", "unwrapKey");
            keys.putStore(admin, subscription, "rg", VAULT, vault);
            return des.path("id").asText();
        }

        /** A DES-encrypted disk uploaded with random bytes at a random place. */
        void diskWithData(String name, Random random, Map<String, byte[]> expected) {
            ObjectNode body = Json.object().put("location", "uaenorth");
            ObjectNode p = body.putObject("properties");
            p.putObject("creationData").put("createOption", "Upload").put("uploadSizeBytes", DISK_BYTES);
            p.putObject("encryption").put("type", CMK).put("diskEncryptionSetId", desId());
            disks.put(admin, Kind.DISK, subscription, "rg", name, body);
            byte[] content = new byte[DISK_BYTES];
            int offset = random.nextInt((DISK_BYTES - WRITE_BYTES) / 512) * 512;
            byte[] data = new byte[WRITE_BYTES];
            random.nextBytes(data);
            System.arraycopy(data, 0, content, offset, data.length);
            Disks.Grant grant = disks.grantAccess(admin, Kind.DISK, subscription, "rg", name, "Write", 3600, false);
            disks.writeData(grant.dataId(), grant.token(), offset, data.length, data);
            disks.revokeAccess(admin, Kind.DISK, subscription, "rg", name);
            expected.put(name, content);
        }

        /** Snapshots the disk, then changes it as a guest would, so disk and snapshot differ. */
        void snapshotThenOverwrite(String disk, String snapshot, Random random, Map<String, byte[]> expected) {
            ObjectNode body = Json.object().put("location", "uaenorth");
            body.putObject("properties").putObject("creationData").put("createOption", "Copy")
                    .put("sourceResourceId", armId(Kind.DISK, disk));
            disks.put(admin, Kind.SNAPSHOT, subscription, "rg", snapshot, body);
            expected.put(snapshot, expected.get(disk).clone());
            guestWrite(disk, random, expected);
        }

        /**
         * A running confidential VM (platform key) with DES disk {@code vmdata} at LUN 0: the guest writes, a restore
         * point is taken, the guest writes again. Expected: {@code vmdata} as last written, {@code rp-lun0} (restored
         * later from the restore point) as at the restore point.
         */
        void restorePointOfARunningVm(Random random, Map<String, byte[]> expected) {
            diskWithData("vmdata", random, expected);
            ObjectNode vm = CvmRequests.confidentialVm(null);
            CvmRequests.dataDisks(vm).addObject().put("lun", 0).put("createOption", "Attach")
                    .put("deleteOption", "Detach").putObject("managedDisk").put("id", armId(Kind.DISK, "vmdata"));
            await(core.virtualMachines().put(admin, subscription, "rg", "vm1", vm).operationId());
            guestWrite("vmdata", random, expected);
            ObjectNode collection = Json.object().put("location", "uaenorth");
            collection.putObject("properties").putObject("source").put("id", "/subscriptions/" + subscription
                    + "/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1");
            core.restorePoints().putCollection(admin, subscription, "rg", "rpc1", collection);
            await(core.restorePoints().create(admin, subscription, "rg", "rpc1", "rp1", Json.object())
                    .operationId());
            expected.put("rp-lun0", expected.get("vmdata").clone());
            guestWrite("vmdata", random, expected);
        }

        /** Restores {@code rp-lun0} from the restore point and deletes the VM (detaching vmdata, so it reads). */
        void restoreFromTheRestorePointAndDetach() {
            JsonNode point = core.restorePoints().get(admin, subscription, "rg", "rpc1", "rp1", false);
            String drp = point.at("/properties/sourceMetadata/storageProfile/dataDisks/0/diskRestorePoint/id")
                    .asText();
            ObjectNode body = Json.object().put("location", "uaenorth");
            ObjectNode p = body.putObject("properties");
            p.putObject("creationData").put("createOption", "Restore").put("sourceResourceId", drp);
            p.putObject("encryption").put("type", CMK).put("diskEncryptionSetId", desId());
            disks.put(admin, Kind.DISK, subscription, "rg", "rp-lun0", body);
            await(core.virtualMachines().delete(admin, subscription, "rg", "vm1").orElseThrow());
        }

        /** A write through the running VM's disk, flushed, as a guest makes it. */
        private void guestWrite(String disk, Random random, Map<String, byte[]> expected) {
            byte[] changed = new byte[8192];
            random.nextBytes(changed);
            int offset = random.nextInt((DISK_BYTES - changed.length) / 512) * 512;
            String storeId = disks.get(admin, Kind.DISK, subscription, "rg", disk).at("/properties/uniqueId").asText();
            try (BlockDevice device = core.diskStore().open(storeId)) {
                device.write(offset, changed, 0, changed.length, true);
            }
            System.arraycopy(changed, 0, expected.get(disk), offset, changed.length);
        }

        private void await(String operationId) {
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
            AsyncOperations.Operation op = core.asyncOperations().get(operationId).orElseThrow();
            while (!op.isDone()) {
                assertThat(System.nanoTime()).as("operation " + operationId).isLessThan(deadline);
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
                op = core.asyncOperations().get(operationId).orElseThrow();
            }
            assertThat(op.status()).as(op.errorCode() + ": " + op.errorMessage())
                    .isEqualTo(AsyncOperations.Status.Succeeded);
        }

        byte[] read(String name) {
            Kind kind = name.startsWith("s") ? Kind.SNAPSHOT : Kind.DISK;
            Disks.Grant grant = disks.grantAccess(admin, kind, subscription, "rg", name, "Read", 3600, false);
            ByteArrayOutputStream out = new ByteArrayOutputStream(DISK_BYTES);
            disks.readData(grant.dataId(), grant.token(), 0, DISK_BYTES, out);
            disks.revokeAccess(admin, kind, subscription, "rg", name);
            return out.toByteArray();
        }

        String desId() {
            return "/subscriptions/" + subscription + "/resourceGroups/rg/providers/Microsoft.Compute"
                    + "/diskEncryptionSets/des1";
        }

        String armId(Kind kind, String name) {
            return "/subscriptions/" + subscription + "/resourceGroups/rg/providers/Microsoft.Compute/"
                    + kind.collection + "/" + name;
        }

        private static void policy(ArrayNode policies, Principal principal, String... permissions) {
            ArrayNode keys = policies.addObject().put("tenantId", principal.tenantId())
                    .put("objectId", principal.objectId()).putObject("permissions").putArray("keys");
            for (String permission : permissions) {
                keys.add(permission);
            }
        }
    }
}
