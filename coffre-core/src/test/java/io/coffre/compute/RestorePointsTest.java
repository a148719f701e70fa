package io.coffre.compute;

import static io.coffre.compute.DesFixture.rejects;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.arm.AsyncOperations;
import io.coffre.catalog.SupportMatrix;
import io.coffre.compute.disk.BlockDevice;
import io.coffre.compute.vm.CvmRequests;
import io.coffre.compute.vm.VirtualMachines;
import io.coffre.compute.vm.VirtualMachines.DiskRole;
import io.coffre.compute.vm.VirtualMachines.VmDisk;
import io.coffre.json.Json;
import io.coffre.keyvault.KeyService.Store;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Restore points of a confidential VM (PMK OS disk with VMGS, a data disk under the platform key and one under a
 * CMK DES): taken, restored from, crash-consistent across disks while written, rotated, and refused for bad input.
 */
class RestorePointsTest {
    private static final String CMK = "EncryptionAtRestWithCustomerKey";
    private static final long MIB = 1L << 20;
    private static final int DATA_BYTES = (int) (3 * MIB);

    @TempDir
    Path dir;

    private DesFixture f;
    private RestorePoints points;
    private Store kv;
    private String v1;
    private String vmId;

    @AfterEach
    void close() {
        if (f != null) {
            f.close();
        }
    }

    @Test
    void disksRestoredFromEachDiskRestorePointReadTheRestorePointTimeBytes() throws Exception {
        start("default");
        VirtualMachines.VmFacts vm = f.core.virtualMachines().find(vmId).orElseThrow();
        assertThat(vm.disks()).extracting(VmDisk::role)
                .containsExactlyInAnyOrder(DiskRole.OS, DiskRole.VMGS, DiskRole.DATA, DiskRole.DATA);
        Map<String, byte[]> written = new HashMap<>();
        for (VmDisk disk : vm.disks()) {
            byte[] data = random(disk.role() == DiskRole.VMGS ? 4096 : DATA_BYTES);
            write(disk.storeId(), MIB - 4096, data);
            written.put(key(disk), data);
        }
        putCollection("rpc1", "uaenorth");
        String rpId = take("rpc1", "rp1", Json.object());
        for (VmDisk disk : vm.disks()) {
            write(disk.storeId(), MIB - 4096, random(written.get(key(disk)).length)); // overwritten afterwards
        }

        ObjectNode rp = points.get(f.admin, f.subscription, "rg", "rpc1", "rp1", true);
        JsonNode properties = rp.path("properties");
        assertThat(properties.path("provisioningState").asText()).isEqualTo("Succeeded");
        assertThat(properties.path("consistencyMode").asText()).isEqualTo("ApplicationConsistent");
        JsonNode metadata = properties.path("sourceMetadata");
        assertThat(metadata.path("vmId").asText()).isEqualTo(vm.vmId());
        assertThat(metadata.path("location").asText()).isEqualTo("uaenorth");
        assertThat(metadata.path("hardwareProfile").path("vmSize").asText()).isEqualTo("Standard_DC2as_v6");
        assertThat(metadata.path("securityProfile").path("securityType").asText()).isEqualTo("ConfidentialVM");
        assertThat(metadata.path("storageProfile").path("dataDisks")).hasSize(2);
        assertThat(metadata.path("storageProfile").path("dataDisks").get(1).path("diskRestorePoint")
                .path("encryption").path("diskEncryptionSet").path("id").asText()).isEqualTo(f.desId("des1"));
        assertThat(properties.path("instanceView").path("diskRestorePoints")).hasSize(3);
        assertThat(points.getCollection(f.admin, f.subscription, "rg", "rpc1", true).path("properties")
                .path("restorePoints").get(0).path("id").asText()).isEqualTo(rpId);

        List<JsonNode> osAndData = new ArrayList<>();
        osAndData.add(metadata.path("storageProfile").path("osDisk"));
        metadata.path("storageProfile").path("dataDisks").forEach(osAndData::add);
        for (JsonNode disk : osAndData) {
            String drpId = disk.path("diskRestorePoint").path("id").asText();
            VmDisk source = vm.disks().stream().filter(d -> d.role() != DiskRole.VMGS
                    && d.diskResourceId().equals(disk.path("managedDisk").path("id").asText())).findFirst()
                    .orElseThrow();
            String restored = restoreDisk("restored-" + disk.path("name").asText(), drpId, source);
            assertThat(sha256(read(storeIdOf(restored), MIB - 4096, DATA_BYTES)))
                    .as(drpId).isEqualTo(sha256(written.get(key(source))));
            if (source.role() == DiskRole.OS) {
                String guestState = f.core.virtualMachines().guestState(restored).orElseThrow();
                VmDisk vmgs = vm.disks().stream().filter(d -> d.role() == DiskRole.VMGS).findFirst().orElseThrow();
                assertThat(read(guestState, MIB - 4096, 4096)).isEqualTo(written.get(key(vmgs)));
            }
        }

        // the export of the restore point carries all four disks, the VMGS included
        RestorePointExports.Manifest manifest = f.core.restorePointExports().export(f.admin, rpId);
        assertThat(manifest.disks()).extracting(RestorePointExports.DiskManifest::role)
                .containsExactly("OS", "VMGS", "Data", "Data");
        createDisksFromTheManifest(rpId, manifest, vm, written);

        String firstDrp = osAndData.get(1).path("diskRestorePoint").path("id").asText();
        assertThat(points.delete(f.admin, f.subscription, "rg", "rpc1", "rp1")).isTrue();
        VmDisk dataDisk = vm.disks().stream().filter(d -> d.role() == DiskRole.DATA).findFirst().orElseThrow();
        rejects(() -> restoreDisk("from-deleted", firstDrp, dataDisk), 404, "NotFound");
        assertThat(f.sets.associatedResources(f.admin, f.subscription, "rg", "des1"))
                .noneMatch(id -> id.contains("diskRestorePoints"));
    }

    /**
     * The restore point's manifest restores into three disks under the platform key, the VMGS becoming the guest
     * state of the restored OS disk; with one object of the last disk altered, nothing at all is created.
     */
    private void createDisksFromTheManifest(String rpId, RestorePointExports.Manifest manifest,
                                            VirtualMachines.VmFacts vm, Map<String, byte[]> written) throws Exception {
        RestorePointExports exports = f.core.restorePointExports();
        RestorePointExports.Target target = new RestorePointExports.Target(f.subscription, "rg",
                new EncryptionKeys.Setting("EncryptionAtRestWithPlatformKey", null, "uaenorth"),
                List.of("m-os", "m-data0", "m-data1"));
        List<RestorePointExports.Block> last = manifest.disks().get(3).blocks();
        String tampered = last.get(last.size() - 1).objectId();
        Map<String, Long> before = counts();
        rejects(() -> exports.createDisks(f.admin, manifest, id -> {
            byte[] object = exports.readObject(f.admin, rpId, id);
            if (id.equals(tampered)) {
                object[object.length / 2] ^= 1;
            }
            return object;
        }, target), 400, "ManifestObjectMismatch");
        assertThat(counts()).isEqualTo(before);

        List<ObjectNode> created = exports.createDisks(f.admin, manifest, id -> exports.readObject(f.admin, rpId, id),
                target);
        assertThat(created).hasSize(3);
        VmDisk vmgs = vm.disks().stream().filter(d -> d.role() == DiskRole.VMGS).findFirst().orElseThrow();
        String guestState = f.core.virtualMachines().guestState(created.get(0).path("id").asText()).orElseThrow();
        assertThat(read(guestState, MIB - 4096, 4096)).isEqualTo(written.get(key(vmgs)));
        VmDisk os = osOf(vm.disks());
        assertThat(sha256(read(storeIdOf(created.get(0).path("id").asText()), MIB - 4096, DATA_BYTES)))
                .isEqualTo(sha256(written.get(key(os))));
    }

    private Map<String, Long> counts() {
        Map<String, Long> counts = new HashMap<>();
        for (String table : List.of("compute_disks", "compute_data_keys", "disk_maps", "disk_objects",
                "compute_vm_guest_states")) {
            counts.put(table, f.core.metadata().withHandle(h -> h.createQuery("SELECT count(*) FROM " + table)
                    .mapTo(Long.class).one()));
        }
        return counts;
    }

    @Test
    void crashConsistencyIsRefusedUnderTheDefaultMatrix() {
        start("default");
        putCollection("rpc1", "uaenorth");
        ObjectNode body = Json.object();
        body.putObject("properties").put("consistencyMode", "CrashConsistent");
        rejects(() -> points.create(f.admin, f.subscription, "rg", "rpc1", "rp1", body), 400,
                "CrashConsistentRestorePointsNotSupported");
        rejects(() -> points.get(f.admin, f.subscription, "rg", "rpc1", "rp1", false), 404, "ResourceNotFound");
    }

    /**
     * A writer writes sequence number N to every disk (VMGS included) in a fixed order, then N + 1 ... A restore
     * point taken at one instant sees, in that order, N on a prefix of the disks and N - 1 on the rest; disks frozen
     * one after another while the writer runs would show numbers further apart or out of order.
     */
    @Test
    void crashConsistentRestorePointsFreezeAllDisksAtOneInstantWhileWritesContinue() throws Exception {
        start("extended");
        VirtualMachines.VmFacts vm = f.core.virtualMachines().find(vmId).orElseThrow();
        List<VmDisk> order = vm.disks();
        List<BlockDevice> devices = new ArrayList<>();
        for (VmDisk disk : order) {
            devices.add(f.core.diskStore().open(disk.storeId()));
        }
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong sequence = new AtomicLong();
        Thread writer = new Thread(() -> {
            byte[] sector = new byte[512];
            while (!stop.get()) {
                long n = sequence.incrementAndGet();
                ByteBuffer.wrap(sector).putLong(0, n);
                for (BlockDevice device : devices) {
                    device.write(0, sector, 0, sector.length, false);
                }
            }
        });
        writer.start();
        putCollection("rpc1", "uaenorth");
        List<Long> firsts = new ArrayList<>();
        try {
            for (int i = 0; i < 4; i++) {
                ObjectNode body = Json.object();
                body.putObject("properties").put("consistencyMode", "CrashConsistent");
                String rpId = take("rpc1", "rp" + i, body);
                RestorePointExports.Manifest manifest = f.core.restorePointExports().export(f.admin, rpId);
                List<Long> seen = sequenceNumbers(rpId, manifest, order);
                long first = seen.get(0);
                assertThat(first).as("writer started").isPositive();
                for (int d = 1; d < seen.size(); d++) {
                    assertThat(seen.get(d)).as("disk %d of %s in %s", d, seen, rpId)
                            .isBetween(first - 1, seen.get(d - 1));
                }
                firsts.add(first);
                Thread.sleep(50);
            }
        } finally {
            stop.set(true);
            writer.join();
            devices.forEach(BlockDevice::close);
        }
        assertThat(firsts).as("writes continued between restore points").doesNotHaveDuplicates();
    }

    @Test
    void rotationOfTheDesReachesRestorePoints() throws Exception {
        start("default");
        VirtualMachines.VmFacts vm = f.core.virtualMachines().find(vmId).orElseThrow();
        VmDisk cmkDisk = vm.disks().stream().filter(d -> d.encryption().diskEncryptionSetId() != null).findFirst()
                .orElseThrow();
        byte[] data = random(DATA_BYTES);
        write(cmkDisk.storeId(), 0, data);
        putCollection("rpc1", "uaenorth");
        String rpId = take("rpc1", "rp1", Json.object());
        assertThat(kekOf(rpId)).isEqualTo(v1);

        String v2 = f.keys.rotateKey(f.admin, kv, "cmk").path("key").path("kid").asText();
        String op = f.putDes("des1", CMK, v2, false).rotationOperationId();
        await(op);
        f.keys.updateKey(f.admin, kv, "cmk", v1.substring(v1.lastIndexOf('/') + 1),
                Json.parse("{\"attributes\":{\"enabled\":false}}"));
        // past the revalidation of the unwrapped DES key: the next read unwraps it again, under v2 only
        f.clock.advance(KeyHierarchy.REVALIDATE_AFTER.plusMinutes(1));
        assertThat(kekOf(rpId)).isEqualTo(v2);
        assertThat(f.core.restorePointExports().export(f.admin, rpId).keys())
                .filteredOn(k -> k.domainId().equalsIgnoreCase(f.desId("des1")))
                .singleElement().satisfies(k -> assertThat(k.kekKeyUrl()).isEqualTo(v2));

        JsonNode dataDisks = points.get(f.admin, f.subscription, "rg", "rpc1", "rp1", false).path("properties")
                .path("sourceMetadata").path("storageProfile").path("dataDisks");
        String drpId = dataDisks.get(1).path("diskRestorePoint").path("id").asText();
        String restored = restoreDisk("restored", drpId, cmkDisk);
        assertThat(sha256(read(storeIdOf(restored), 0, DATA_BYTES))).isEqualTo(sha256(data));
    }

    @Test
    void badInputIsRefusedWithStableCodes() {
        start("default");
        rejects(() -> putCollection("rpc-korea", "koreacentral"), 400, "SourceVmInAnotherRegion");
        ObjectNode unknown = Json.object().put("location", "uaenorth");
        unknown.putObject("properties").putObject("source").put("id", vmId.replace("/vm1", "/nope"));
        rejects(() -> points.putCollection(f.admin, f.subscription, "rg", "rpc2", unknown), 404,
                "ResourceNotFound");
        putCollection("rpc1", "uaenorth");
        ObjectNode excluded = Json.object();
        ArrayNode excludeDisks = excluded.putObject("properties").putArray("excludeDisks");
        excludeDisks.addObject().put("id", "/subscriptions/" + f.subscription
                + "/resourceGroups/rg/providers/Microsoft.Compute/disks/not-on-the-vm");
        rejects(() -> points.create(f.admin, f.subscription, "rg", "rpc1", "rp1", excluded), 400,
                "ExcludedDiskNotAttached");
        ObjectNode mode = Json.object();
        mode.putObject("properties").put("consistencyMode", "Sometimes");
        rejects(() -> points.create(f.admin, f.subscription, "rg", "rpc1", "rp1", mode), 400, "InvalidParameter");
        rejects(() -> points.create(f.admin, f.subscription, "rg", "nope", "rp1", Json.object()), 404,
                "ResourceNotFound");
        // excluding a data disk leaves it out of the restore point
        VmDisk data = f.core.virtualMachines().find(vmId).orElseThrow().disks().stream()
                .filter(d -> d.role() == DiskRole.DATA).findFirst().orElseThrow();
        ObjectNode one = Json.object();
        one.putObject("properties").putArray("excludeDisks").addObject().put("id", data.diskResourceId());
        take("rpc1", "rp1", one);
        assertThat(points.listDiskRestorePoints(f.admin, f.subscription, "rg", "rpc1", "rp1")).hasSize(2)
                .noneMatch(d -> d.path("properties").path("sourceResourceId").asText()
                        .equals(data.diskResourceId()));
    }

    // ---- fixture ----

    /** A core with the matrix, a CMK DES, and a running confidential VM (PMK OS disk) with two data disks. */
    private void start(String matrix) {
        f = new DesFixture(dir, SupportMatrix.load(matrix));
        points = f.core.restorePoints();
        kv = f.vault("kv1", "premium", true, "uaenorth");
        v1 = f.key(kv, "cmk", "RSA", false);
        f.grant(kv, f.putDes("des1", CMK, v1, false).resource().path("identity").path("principalId").asText(),
                "get", "wrapKey", "unwrapKey");
        ObjectNode body = CvmRequests.confidentialVm(4);
        ArrayNode dataDisks = CvmRequests.dataDisks(body);
        dataDisks.addObject().put("lun", 0).put("createOption", "Empty").put("diskSizeGB", 1);
        dataDisks.addObject().put("lun", 1).put("createOption", "Empty").put("diskSizeGB", 1)
                .putObject("managedDisk").putObject("diskEncryptionSet").put("id", f.desId("des1"));
        VirtualMachines.Accepted accepted = f.core.virtualMachines().put(f.admin, f.subscription, "rg", "vm1", body);
        await(accepted.operationId());
        vmId = accepted.resource().path("id").asText();
    }

    private void putCollection(String name, String location) {
        ObjectNode body = Json.object().put("location", location);
        body.putObject("properties").putObject("source").put("id", vmId);
        points.putCollection(f.admin, f.subscription, "rg", name, body);
    }

    private String take(String collection, String name, ObjectNode body) {
        RestorePoints.Accepted accepted = points.create(f.admin, f.subscription, "rg", collection, name, body);
        await(accepted.operationId());
        return accepted.resource().path("id").asText();
    }

    /** A disk PUT with createOption Restore from a disk restore point, encrypted as its source disk. */
    private String restoreDisk(String name, String drpId, VmDisk source) {
        ObjectNode body = Json.object().put("location", "uaenorth");
        ObjectNode p = body.putObject("properties");
        p.putObject("creationData").put("createOption", "Restore").put("sourceResourceId", drpId);
        if (source.encryption().diskEncryptionSetId() != null) {
            p.putObject("encryption").put("type", CMK).put("diskEncryptionSetId",
                    source.encryption().diskEncryptionSetId());
        }
        if (source.role() == DiskRole.OS) {
            p.putObject("securityProfile").put("securityType", "ConfidentialVM_DiskEncryptedWithPlatformKey");
        }
        return f.core.disks().put(f.admin, Disks.Kind.DISK, f.subscription, "rg", name, body).resource()
                .path("id").asText();
    }

    /** The sequence number at offset 0 of each disk in the order given, read from disks restored from the point. */
    private List<Long> sequenceNumbers(String rpId, RestorePointExports.Manifest manifest, List<VmDisk> order) {
        JsonNode storage = points.get(f.admin, f.subscription, "rg", ResourceIdName.collection(rpId),
                ResourceIdName.name(rpId), false).path("properties").path("sourceMetadata").path("storageProfile");
        List<Long> seen = new ArrayList<>();
        String restoredOs = null;
        for (VmDisk disk : order) {
            if (disk.role() == DiskRole.VMGS) {
                if (restoredOs == null) {
                    restoredOs = restoreDisk("os-" + ResourceIdName.name(rpId),
                            storage.path("osDisk").path("diskRestorePoint").path("id").asText(), osOf(order));
                }
                seen.add(ByteBuffer.wrap(read(f.core.virtualMachines().guestState(restoredOs).orElseThrow(), 0, 8))
                        .getLong());
                continue;
            }
            JsonNode entry = disk.role() == DiskRole.OS ? storage.path("osDisk")
                    : dataDiskEntry(storage, disk.lun());
            String restored = disk.role() == DiskRole.OS && restoredOs != null ? restoredOs
                    : restoreDisk(disk.role() + "-" + disk.lun() + "-" + ResourceIdName.name(rpId),
                    entry.path("diskRestorePoint").path("id").asText(), disk);
            if (disk.role() == DiskRole.OS) {
                restoredOs = restored;
            }
            seen.add(ByteBuffer.wrap(read(storeIdOf(restored), 0, 8)).getLong());
        }
        assertThat(manifest.disks()).hasSize(order.size());
        return seen;
    }

    private static VmDisk osOf(List<VmDisk> disks) {
        return disks.stream().filter(d -> d.role() == DiskRole.OS).findFirst().orElseThrow();
    }

    private static JsonNode dataDiskEntry(JsonNode storage, Integer lun) {
        for (JsonNode d : storage.path("dataDisks")) {
            if (d.path("lun").asInt() == lun) {
                return d;
            }
        }
        throw new AssertionError("no data disk with LUN " + lun + " in " + storage);
    }

    /** Names in a restore point id. */
    private static final class ResourceIdName {
        static String name(String id) {
            return id.substring(id.lastIndexOf('/') + 1);
        }

        static String collection(String rpId) {
            String collection = rpId.substring(0, rpId.lastIndexOf("/restorePoints/"));
            return collection.substring(collection.lastIndexOf('/') + 1);
        }
    }

    /** The KEK version of the stored DES key the restore point holds a reference to. */
    private String kekOf(String ownerId) {
        return f.core.metadata().withHandle(h -> h.createQuery("SELECT w.kek_key_id FROM compute_des_key_holders k"
                + " JOIN compute_wrapped_des_keys w ON w.owner_id = k.des_id AND w.des_id = k.des_id"
                + " WHERE k.owner_id = :o").bind("o", ownerId).mapTo(String.class).one());
    }

    private String storeIdOf(String diskId) {
        return f.core.disks().facts(diskId).orElseThrow().storeId();
    }

    private void await(String operationId) {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        AsyncOperations.Operation op = f.core.asyncOperations().get(operationId).orElseThrow();
        while (!op.isDone() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            op = f.core.asyncOperations().get(operationId).orElseThrow();
        }
        assertThat(op.status()).as(op.errorCode() + ": " + op.errorMessage())
                .isEqualTo(AsyncOperations.Status.Succeeded);
    }

    private void write(String storeId, long offset, byte[] data) {
        try (BlockDevice device = f.core.diskStore().open(storeId)) {
            device.write(offset, data, 0, data.length, false);
        }
    }

    private byte[] read(String storeId, long offset, int length) {
        byte[] out = new byte[length];
        try (BlockDevice device = f.core.diskStore().open(storeId)) {
            device.read(offset, out, 0, length);
        }
        return out;
    }

    private static String key(VmDisk disk) {
        return disk.role() + "/" + disk.lun();
    }

    private static byte[] random(int length) {
        byte[] data = new byte[length];
        new SecureRandom().nextBytes(data);
        return data;
    }

    private static byte[] sha256(byte[] data) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(data);
    }
}
