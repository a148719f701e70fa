package io.coffre.compute;

import static org.assertj.core.api.Assertions.assertThat;

import io.coffre.arm.AsyncOperations;
import io.coffre.compute.disk.BlockDevice;
import io.coffre.compute.disk.DiskSource;
import io.coffre.compute.disk.DiskStore;
import io.coffre.compute.disk.DiskStores;
import io.coffre.json.Json;
import io.coffre.keyvault.KeyService.Store;
import io.coffre.store.StorageScanner;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real disks over a DES ring: written, snapshotted, rotated, old version disabled, read back identical. */
class EncryptedDiskRotationTest {
    private static final String CMK = "EncryptionAtRestWithCustomerKey";

    @TempDir
    Path dir;

    @Test
    void disksAndSnapshotsReadBackAfterRotationWithTheOldVersionDisabled() throws Exception {
        byte[] pattern = new byte[3 * 1024 * 1024];
        new SecureRandom().nextBytes(pattern);
        String diskId;
        String snapshotId;
        String v1;
        String v2;
        try (DesFixture f = new DesFixture(dir)) {
            Store kv = f.vault("kv1", "premium", true, "uaenorth");
            v1 = f.key(kv, "cmk", "RSA", false);
            String principal = f.putDes("des1", CMK, v1, false).resource().path("identity").path("principalId")
                    .asText();
            f.grant(kv, principal, "get", "wrapKey", "unwrapKey");
            EncryptionKeys.Setting setting = new EncryptionKeys.Setting(CMK, f.desId("des1"), "uaenorth");
            f.core.encryptionKeys().check(f.admin, setting);
            try (DiskStore disks = DiskStores.open(f.core.metadata(), f.core.blobs(),
                    f.core.encryptionKeys().ring(setting))) {
                diskId = disks.create(8L * 1024 * 1024, DiskSource.empty());
                BlockDevice device = disks.open(diskId);
                device.write(4096, pattern, 0, pattern.length, true);
                device.flush();
                device.close();
                snapshotId = disks.snapshot(diskId);
            }
            f.sets.copyWrappedKey(f.desId("des1"), snapshotId);
            assertThat(StorageScanner.findBytes(f.core.metadata(), f.core.blobs(), pattern, 64)).isEmpty();
            v2 = f.keys.rotateKey(f.admin, kv, "cmk").path("key").path("kid").asText();
            String op = f.putDes("des1", CMK, v2, false).rotationOperationId();
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (!f.core.asyncOperations().get(op).orElseThrow().isDone() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(f.core.asyncOperations().get(op).orElseThrow().status())
                    .isEqualTo(AsyncOperations.Status.Succeeded);
            f.keys.updateKey(f.admin, kv, "cmk", v1.substring(v1.lastIndexOf('/') + 1),
                    Json.parse("{\"attributes\":{\"enabled\":false}}"));
        }
        try (DesFixture f = new DesFixture(dir)) {
            EncryptionKeys.Setting setting = new EncryptionKeys.Setting(CMK, f.desId("des1"), "uaenorth");
            try (DiskStore disks = DiskStores.open(f.core.metadata(), f.core.blobs(),
                    f.core.encryptionKeys().ring(setting))) {
                // A snapshot is read through a copy of it, which reads its inherited blocks under inherited keys.
                String restored = disks.create(8L * 1024 * 1024, DiskSource.copyOf(snapshotId));
                for (String id : new String[] {diskId, restored}) {
                    byte[] read = new byte[pattern.length];
                    BlockDevice device = disks.open(id);
                    device.read(4096, read, 0, read.length);
                    device.close();
                    assertThat(read).as(id).isEqualTo(pattern);
                }
            }
            java.util.List<String> keks = f.core.metadata().withHandle(h -> h.createQuery(
                    "SELECT DISTINCT kek_key_id FROM compute_wrapped_des_keys").mapTo(String.class).list());
            assertThat(keks).containsExactly(v2);
        }
    }
}
