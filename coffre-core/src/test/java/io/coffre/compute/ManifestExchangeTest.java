package io.coffre.compute;

import static io.coffre.compute.DesFixture.rejects;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.compute.RestorePointExports.Block;
import io.coffre.compute.RestorePointExports.Manifest;
import io.coffre.compute.RestorePointExports.Target;
import io.coffre.compute.disk.BlockDevice;
import io.coffre.json.Json;
import io.coffre.keyvault.KeyService.Store;
import io.coffre.store.BlobStore;
import io.coffre.store.InMemoryBlobStore;
import io.coffre.store.StorageScanner;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The two calls between compute and backup: a snapshot of a disk with known data is exported, its objects copied into
 * a separate blob store (the vault's), and disks are created from the manifest under another DES in another group.
 */
class ManifestExchangeTest {
    private static final String CMK = "EncryptionAtRestWithCustomerKey";
    private static final long MIB = 1L << 20;

    @TempDir
    Path dir;

    private DesFixture f;
    private RestorePointExports exports;
    private Store kv;
    private final byte[] first = new byte[(int) (5 * MIB)];
    private final byte[] second = new byte[3000];
    private String snapshotId;
    private String des2Principal;

    @BeforeEach
    void snapshotOfADiskWithKnownData() {
        f = new DesFixture(dir);
        exports = f.core.restorePointExports();
        new SecureRandom().nextBytes(first);
        new SecureRandom().nextBytes(second);
        kv = f.vault("kv1", "premium", true, "uaenorth");
        String v1 = f.key(kv, "cmk", "RSA", false);
        f.grant(kv, f.putDes("des1", CMK, v1, false).resource().path("identity").path("principalId").asText(),
                "get", "wrapKey", "unwrapKey");
        f.core.resourceManager().putResourceGroup(f.admin, f.subscription, "rg2", "uaenorth", Map.of());
        String v2 = f.key(kv, "cmk2", "RSA", false);
        des2Principal = f.sets.put(f.admin, f.subscription, "rg2", "des2", f.desBody(CMK, v2, false)).resource()
                .path("identity").path("principalId").asText();

        ObjectNode disk = f.core.disks().put(f.admin, Disks.Kind.DISK, f.subscription, "rg", "d1",
                diskBody(f.desId("des1"))).resource();
        try (BlockDevice device = f.core.diskStore().open(disk.path("properties").path("uniqueId").asText())) {
            device.write(MIB, first, 0, first.length, false);
            device.write(600 * MIB + 512, second, 0, second.length, false);
        }
        ObjectNode snapshot = Json.object().put("location", "uaenorth");
        snapshot.putObject("properties").putObject("creationData").put("createOption", "Copy")
                .put("sourceResourceId", disk.path("id").asText());
        snapshotId = f.core.disks().put(f.admin, Disks.Kind.SNAPSHOT, f.subscription, "rg", "s1", snapshot)
                .resource().path("id").asText();
        // written after the snapshot: the export must not see it
        try (BlockDevice device = f.core.diskStore().open(disk.path("properties").path("uniqueId").asText())) {
            device.write(MIB, new byte[4096], 0, 4096, false);
        }
    }

    @AfterEach
    void close() {
        f.close();
    }

    @Test
    void disksCreatedFromAnExportedSnapshotUnderAnotherDesReadTheSnapshotBytes() throws Exception {
        Manifest manifest = Manifest.fromJson(Json.parse(Json.write(exports.export(f.admin, snapshotId).toJson())));
        assertThat(manifest.disks()).hasSize(1);
        assertThat(manifest.disks().get(0).blocks()).extracting(Block::index).containsExactly(0L, 1L, 150L);
        assertThat(manifest.keys()).singleElement().satisfies(k -> {
            assertThat(k.domainId()).isEqualTo(f.desId("des1").toLowerCase());
            assertThat(k.kekKeyUrl()).contains("/keys/cmk/");
        });
        BlobStore vault = new InMemoryBlobStore();
        Map<String, String> chunkOf = copyIntoVault(manifest, vault);
        String des2 = "/subscriptions/" + f.subscription + "/resourceGroups/rg2/providers/Microsoft.Compute"
                + "/diskEncryptionSets/des2";
        Target target = new Target(f.subscription, "rg2", new EncryptionKeys.Setting(CMK, des2, "uaenorth"),
                List.of("restored"));

        String denied = rejects(() -> exports.createDisks(f.admin, manifest,
                id -> vault.get(chunkOf.get(id)).orElse(null), target), 400, "KeyVaultAccessForbidden").getMessage();
        assertThat(denied).contains("az keyvault set-policy -n kv1 --object-id " + des2Principal);
        assertThat(f.core.disks().list(f.admin, Disks.Kind.DISK, f.subscription, "rg2")).isEmpty();

        f.grant(kv, des2Principal, "get", "wrapKey", "unwrapKey");
        List<ObjectNode> created = exports.createDisks(f.admin, manifest,
                id -> vault.get(chunkOf.get(id)).orElse(null), target);
        assertThat(created).singleElement().satisfies(d -> {
            assertThat(d.path("properties").path("diskState").asText()).isEqualTo("Unattached");
            assertThat(d.path("properties").path("encryption").path("diskEncryptionSetId").asText())
                    .isEqualTo(des2);
            assertThat(d.path("properties").path("creationData").path("createOption").asText()).isEqualTo("Restore");
        });
        assertThat(f.sets.associatedResources(f.admin, f.subscription, "rg2", "des2"))
                .containsExactly(created.get(0).path("id").asText());

        // The restored disk no longer needs the source: delete the disk, the snapshot and their DES.
        f.core.disks().delete(f.admin, Disks.Kind.SNAPSHOT, f.subscription, "rg", "s1");
        f.core.disks().delete(f.admin, Disks.Kind.DISK, f.subscription, "rg", "d1");
        f.sets.delete(f.admin, f.subscription, "rg", "des1");
        String storeId = created.get(0).path("properties").path("uniqueId").asText();
        try (BlockDevice device = f.core.diskStore().open(storeId)) {
            assertThat(sha256(read(device, MIB, first.length))).isEqualTo(sha256(first));
            assertThat(sha256(read(device, 600 * MIB + 512, second.length))).isEqualTo(sha256(second));
            assertThat(read(device, 0, (int) MIB)).isEqualTo(new byte[(int) MIB]);
        }
    }

    @Test
    void aDiskRestoredUnderAnotherDesStopsReadingWhenThatDesKeyIsDisabledThoughItsSourceStillReads()
            throws Exception {
        Manifest manifest = exports.export(f.admin, snapshotId);
        BlobStore vault = new InMemoryBlobStore();
        Map<String, String> chunkOf = copyIntoVault(manifest, vault);
        String des2 = "/subscriptions/" + f.subscription + "/resourceGroups/rg2/providers/Microsoft.Compute"
                + "/diskEncryptionSets/des2";
        f.grant(kv, des2Principal, "get", "wrapKey", "unwrapKey");
        String restored = exports.createDisks(f.admin, manifest, id -> vault.get(chunkOf.get(id)).orElse(null),
                new Target(f.subscription, "rg2", new EncryptionKeys.Setting(CMK, des2, "uaenorth"),
                        List.of("restored"))).get(0).path("properties").path("uniqueId").asText();
        // the snapshot's source disk shares the data key of the block at 600 MiB
        String source = f.core.disks().get(f.admin, Disks.Kind.DISK, f.subscription, "rg", "d1")
                .path("properties").path("uniqueId").asText();
        // both read, the source first, so the key is cached from the source's DES
        for (String storeId : List.of(source, restored)) {
            try (BlockDevice device = f.core.diskStore().open(storeId)) {
                assertThat(sha256(read(device, 600 * MIB + 512, second.length))).isEqualTo(sha256(second));
            }
        }

        String kid2 = f.sets.get(f.admin, f.subscription, "rg2", "des2").path("properties").path("activeKey")
                .path("keyUrl").asText();
        f.keys.updateKey(f.admin, kv, "cmk2", kid2.substring(kid2.lastIndexOf('/') + 1),
                Json.parse("{\"attributes\":{\"enabled\":false}}"));
        f.clock.advance(KeyHierarchy.REVALIDATE_AFTER.plusSeconds(1));
        // past the revalidation: the restored disk stops reading, its source goes on
        try (BlockDevice device = f.core.diskStore().open(restored)) {
            rejects(() -> read(device, MIB, first.length), 409,
                    io.coffre.compute.disk.DiskKeyUnavailableException.CODE);
        }
        try (BlockDevice device = f.core.diskStore().open(source)) {
            assertThat(read(device, MIB + 4096, first.length - 4096))
                    .isEqualTo(Arrays.copyOfRange(first, 4096, first.length));
        }
    }

    @Test
    void aTamperedObjectFailsTheWholeCallAndLeavesNothing() {
        Manifest manifest = exports.export(f.admin, snapshotId);
        BlobStore vault = new InMemoryBlobStore();
        Map<String, String> chunkOf = copyIntoVault(manifest, vault);
        f.grant(kv, des2Principal, "get", "wrapKey", "unwrapKey");
        // the last block: the others were already copied into compute's store when it is read
        List<Block> blocks = manifest.disks().get(0).blocks();
        String tampered = chunkOf.get(blocks.get(blocks.size() - 1).objectId());
        byte[] object = vault.get(tampered).orElseThrow();
        object[object.length - 100] ^= 1;
        vault.put(tampered, object);
        long maps = count("disk_maps");
        long objects = count("disk_objects");
        List<String> blobs = new ArrayList<>();
        f.core.blobs().list("disk-blocks/", blobs::add);
        String des2 = "/subscriptions/" + f.subscription + "/resourceGroups/rg2/providers/Microsoft.Compute"
                + "/diskEncryptionSets/des2";

        rejects(() -> exports.createDisks(f.admin, manifest, id -> vault.get(chunkOf.get(id)).orElse(null),
                new Target(f.subscription, "rg2", new EncryptionKeys.Setting(CMK, des2, "uaenorth"),
                        List.of("restored"))), 400, "ManifestObjectMismatch");

        assertThat(f.core.disks().list(f.admin, Disks.Kind.DISK, f.subscription, "rg2")).isEmpty();
        assertThat(count("disk_maps")).isEqualTo(maps);
        assertThat(count("disk_objects")).isEqualTo(objects);
        List<String> after = new ArrayList<>();
        f.core.blobs().list("disk-blocks/", after::add);
        assertThat(after).containsExactlyInAnyOrderElementsOf(blobs);
        assertThat(f.sets.associatedResources(f.admin, f.subscription, "rg2", "des2")).isEmpty();
    }

    @Test
    void theManifestCarriesNoPlaintextKeyAndObjectsOnlyOfItsSource() {
        Manifest manifest = exports.export(f.admin, snapshotId);
        byte[] json = Json.write(manifest.toJson()).getBytes(StandardCharsets.UTF_8);
        EncryptionKeys.Setting des1 = new EncryptionKeys.Setting(CMK, f.desId("des1"), "uaenorth");
        List<UUID> keyIds = manifest.keys().stream().flatMap(k -> k.dataKeys().stream())
                .map(RestorePointExports.DataKey::keyId).toList();
        assertThat(keyIds).isNotEmpty();
        for (UUID keyId : keyIds) {
            byte[] raw = f.core.encryptionKeys().ring(des1).key(keyId).orElseThrow().getEncoded();
            assertThat(StorageScanner.findBytes(json, "manifest", raw, 16)).isEmpty();
        }
        // a slice of the plaintext keeps the scanner's window index small
        byte[] plaintext = Arrays.copyOfRange(first, (int) MIB, (int) MIB + 16384);
        for (Block block : manifest.disks().get(0).blocks()) {
            byte[] object = exports.readObject(f.admin, snapshotId, block.objectId());
            assertThat(StorageScanner.findBytes(object, block.objectId(), plaintext, 64)).isEmpty();
        }
        rejects(() -> exports.readObject(f.admin, snapshotId, "disk-blocks/00/not-an-object"), 404,
                "BlockObjectNotFound");
    }

    /** Content-addressed, as the vault keeps chunks: returns object id → chunk name. */
    private Map<String, String> copyIntoVault(Manifest manifest, BlobStore vault) {
        Map<String, String> chunkOf = new HashMap<>();
        for (Block block : manifest.disks().get(0).blocks()) {
            String chunk = "chunks/" + HexFormat.of().formatHex(block.sha256());
            vault.put(chunk, exports.readObject(f.admin, snapshotId, block.objectId()));
            chunkOf.put(block.objectId(), chunk);
        }
        return chunkOf;
    }

    private long count(String table) {
        return f.core.metadata().withHandle(h -> h.createQuery("SELECT count(*) FROM " + table).mapTo(Long.class)
                .one());
    }

    private ObjectNode diskBody(String desId) {
        ObjectNode body = Json.object().put("location", "uaenorth");
        ObjectNode p = body.putObject("properties").put("diskSizeGB", 1);
        p.putObject("creationData").put("createOption", "Empty");
        p.putObject("encryption").put("type", CMK).put("diskEncryptionSetId", desId);
        return body;
    }

    private static byte[] read(BlockDevice device, long offset, int length) {
        byte[] out = new byte[length];
        device.read(offset, out, 0, length);
        return out;
    }

    private static byte[] sha256(byte[] data) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(data);
    }
}
