package io.coffre.compute;

import static io.coffre.compute.DesFixture.rejects;
import static org.assertj.core.api.Assertions.assertThat;

import io.coffre.arm.AsyncOperations;
import io.coffre.arm.ResourceId;
import io.coffre.audit.AuditLog;
import io.coffre.compute.disk.DataKeyRing;
import io.coffre.json.Json;
import io.coffre.keyvault.KeyService.Store;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DesRotationTest {
    private static final String CMK = "EncryptionAtRestWithCustomerKey";

    @TempDir
    Path dir;
    DesFixture f;
    Store kv;
    String v1;
    String principalId;

    @BeforeEach
    void open() {
        f = new DesFixture(dir);
        kv = f.vault("kv1", "premium", true, "uaenorth");
        v1 = f.key(kv, "cmk", "RSA", false);
    }

    @AfterEach
    void close() {
        DesRotations.afterWrap = () -> { };
        f.close();
    }

    private DataKeyRing usableDes(boolean rotateToLatest) {
        principalId = f.putDes("des1", CMK, v1, rotateToLatest).resource().path("identity").path("principalId")
                .asText();
        f.grant(kv, principalId, "get", "wrapKey", "unwrapKey");
        return ring();
    }

    private DataKeyRing ring() {
        return f.core.encryptionKeys().ring(new EncryptionKeys.Setting(CMK, f.desId("des1"), "uaenorth"));
    }

    private String newVersion() {
        return f.keys.rotateKey(f.admin, kv, "cmk").path("key").path("kid").asText();
    }

    private AsyncOperations.Operation awaitDone(String operationId) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            var op = f.core.asyncOperations().get(operationId).orElseThrow();
            if (op.isDone()) {
                return op;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("operation " + operationId + " did not finish");
    }

    private String kekOfCopies() {
        List<String> keks = f.core.metadata().withHandle(h -> h.createQuery(
                "SELECT DISTINCT kek_key_id FROM compute_wrapped_des_keys WHERE des_id = :des")
                .bind("des", ResourceId.key(f.desId("des1"))).mapTo(String.class).list());
        assertThat(keks).hasSize(1);
        return keks.get(0);
    }

    private void disable(String keyId) {
        String version = keyId.substring(keyId.lastIndexOf('/') + 1);
        f.keys.updateKey(f.admin, kv, "cmk", version, Json.parse("{\"attributes\":{\"enabled\":false}}"));
    }

    private List<AuditLog.Entry> kekOperations() {
        return f.core.audit().list(f.core.endpoints().vaultUri("kv1") + "/keys/cmk", 100_000).stream()
                .filter(e -> e.operation().equals("KeyWrap") || e.operation().equals("KeyUnwrap")).toList();
    }

    @Test
    void putOfANewVersionRotatesAndTheOldVersionCanBeDisabled() throws Exception {
        DataKeyRing ring = usableDes(false);
        Map<UUID, byte[]> dataKeys = new HashMap<>();
        for (int i = 0; i < 5; i++) {
            UUID id = ring.newKey("disk" + i);
            dataKeys.put(id, ring.key(id).orElseThrow().getEncoded());
        }
        String v2 = newVersion();
        java.time.Instant start = f.clock.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
        var put = f.putDes("des1", CMK, v2, false);
        assertThat(put.rotationOperationId()).isNotNull();
        assertThat(awaitDone(put.rotationOperationId()).status()).isEqualTo(AsyncOperations.Status.Succeeded);
        assertThat(kekOfCopies()).isEqualTo(v2);
        var des = f.sets.get(f.admin, f.subscription, "rg", "des1").path("properties");
        assertThat(des.path("activeKey").path("keyUrl").asText()).isEqualTo(v2);
        assertThat(java.time.Instant.parse(des.path("lastKeyRotationTimestamp").asText()))
                .isBetween(start, f.clock.now());
        assertThat(des.path("previousKeys")).isEmpty();
        // Idempotent: the same PUT again starts nothing.
        assertThat(f.putDes("des1", CMK, v2, false).rotationOperationId()).isNull();
        disable(v1);
        f.close();
        f = new DesFixture(dir);
        DataKeyRing reopened = ring();
        dataKeys.forEach((id, key) -> assertThat(reopened.key(id).orElseThrow().getEncoded()).isEqualTo(key));
    }

    @Test
    void automaticRotationFollowsNewVersions() throws Exception {
        DataKeyRing ring = usableDes(true);
        UUID id = ring.newKey("disk1");
        byte[] key = ring.key(id).orElseThrow().getEncoded();
        String v2 = newVersion();
        String op = f.core.metadata().withHandle(h -> h.createQuery("SELECT operation_id FROM compute_des_rotations")
                .mapTo(String.class).one());
        assertThat(awaitDone(op).status()).isEqualTo(AsyncOperations.Status.Succeeded);
        assertThat(f.core.asyncOperations().get(op).orElseThrow().kind()).isEqualTo(DiskEncryptionSets.ROTATION_KIND);
        assertThat(kekOfCopies()).isEqualTo(v2);
        assertThat(f.sets.get(f.admin, f.subscription, "rg", "des1").path("properties").path("activeKey")
                .path("keyUrl").asText()).isEqualTo(v2);
        disable(v1);
        f.close();
        f = new DesFixture(dir);
        assertThat(ring().key(id).orElseThrow().getEncoded()).isEqualTo(key);
    }

    @Test
    void thousandDataKeysAndThousandCopiesRotateWithOneUnwrapAndOneWrap() throws Exception {
        DataKeyRing ring = usableDes(false);
        List<UUID> ids = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            ids.add(ring.newKey("disk" + i));
            f.sets.copyWrappedKey(f.desId("des1"), "snapshot-" + i);
        }
        byte[] first = ring.key(ids.get(0)).orElseThrow().getEncoded();
        int before = kekOperations().size();
        String v2 = newVersion();
        var put = f.putDes("des1", CMK, v2, false);
        assertThat(awaitDone(put.rotationOperationId()).status()).isEqualTo(AsyncOperations.Status.Succeeded);
        List<AuditLog.Entry> after = kekOperations();
        // The audit log lists newest first: the rotation's entries are the first ones.
        assertThat(after.subList(0, after.size() - before)).extracting(AuditLog.Entry::operation)
                .containsExactly("KeyWrap", "KeyUnwrap");
        // Every holder references the one stored wrapped DES key, now under v2; nothing still names v1.
        int holdersUnderV2 = f.core.metadata().withHandle(h -> h.createQuery("SELECT count(*) FROM"
                        + " compute_des_key_holders c JOIN compute_wrapped_des_keys k ON k.owner_id = c.des_id"
                        + " AND k.des_id = c.des_id WHERE k.kek_key_id = :v2").bind("v2", v2)
                .mapTo(Integer.class).one());
        assertThat(holdersUnderV2).isEqualTo(1000);
        assertThat(kekOfCopies()).isEqualTo(v2);
        disable(v1);
        f.close();
        f = new DesFixture(dir);
        DataKeyRing reopened = ring();
        for (UUID id : ids) {
            assertThat(reopened.key(id)).isPresent();
        }
        assertThat(reopened.key(ids.get(0)).orElseThrow().getEncoded()).isEqualTo(first);
    }

    @Test
    void aDesNeverUsedTakesANewKeyAtOnceAndItsFirstUseWrapsUnderIt() throws Exception {
        principalId = f.putDes("des1", CMK, v1, false).resource().path("identity").path("principalId").asText();
        f.grant(kv, principalId, "get", "wrapKey", "unwrapKey");
        var created = f.sets.get(f.admin, f.subscription, "rg", "des1").path("properties");
        assertThat(created.has("lastKeyRotationTimestamp")).isFalse();
        f.clock.advance(Duration.ofHours(1));
        String v2 = newVersion();
        java.time.Instant start = f.clock.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
        // Nothing is wrapped yet, so there is nothing to rewrap: the key change is complete at once.
        assertThat(f.putDes("des1", CMK, v2, false).rotationOperationId()).isNull();
        var changed = f.sets.get(f.admin, f.subscription, "rg", "des1").path("properties");
        String changedAt = changed.path("lastKeyRotationTimestamp").asText();
        assertThat(java.time.Instant.parse(changedAt)).isBetween(start, f.clock.now());
        assertThat(changed.path("previousKeys")).isEmpty();
        assertThat(changed.path("activeKey").path("keyUrl").asText()).isEqualTo(v2);
        // The same PUT again changes no key: the timestamp stays.
        f.clock.advance(Duration.ofHours(1));
        assertThat(f.putDes("des1", CMK, v2, false).rotationOperationId()).isNull();
        assertThat(f.sets.get(f.admin, f.subscription, "rg", "des1").path("properties")
                .path("lastKeyRotationTimestamp").asText()).isEqualTo(changedAt);
        disable(v1);
        UUID id = ring().newKey("disk1");
        byte[] key = ring().key(id).orElseThrow().getEncoded();
        assertThat(kekOfCopies()).isEqualTo(v2);
        assertThat(kekOperations()).extracting(AuditLog.Entry::operation, AuditLog.Entry::keyVersion)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("KeyWrap",
                        v2.substring(v2.lastIndexOf('/') + 1)));
        f.close();
        f = new DesFixture(dir);
        assertThat(ring().key(id).orElseThrow().getEncoded()).isEqualTo(key);
    }

    @Test
    void aCrashAfterTheWrapIsFinishedByTheResumerAfterRestart() throws Exception {
        DataKeyRing ring = usableDes(false);
        UUID id = ring.newKey("disk1");
        byte[] key = ring.key(id).orElseThrow().getEncoded();
        f.sets.copyWrappedKey(f.desId("des1"), "snapshot-1");
        String v2 = newVersion();
        CountDownLatch crashed = new CountDownLatch(1);
        DesRotations.afterWrap = () -> {
            crashed.countDown();
            throw new SimulatedCrash();
        };
        String op = f.putDes("des1", CMK, v2, false).rotationOperationId();
        assertThat(crashed.await(30, TimeUnit.SECONDS)).isTrue();
        assertThat(f.core.asyncOperations().get(op).orElseThrow().isDone()).isFalse();
        assertThat(kekOfCopies()).isEqualTo(v1);
        DesRotations.afterWrap = () -> { };
        f.close();
        int before;
        f = new DesFixture(dir);
        assertThat(awaitDone(op).status()).isEqualTo(AsyncOperations.Status.Succeeded);
        assertThat(kekOfCopies()).isEqualTo(v2);
        before = kekOperations().size();
        // Idempotent: advancing a finished rotation again does nothing.
        f.close();
        f = new DesFixture(dir);
        assertThat(kekOperations()).hasSize(before);
        disable(v1);
        assertThat(ring().key(id).orElseThrow().getEncoded()).isEqualTo(key);
    }

    @Test
    void aRefusedNewKeyIsVisibleAsAutoKeyRotationErrorAndTheOldKeyStillServes() throws Exception {
        DataKeyRing ring = usableDes(false);
        UUID id = ring.newKey("disk1");
        Store other = f.vault("kv2", "premium", true, "uaenorth");
        String foreign = f.key(other, "cmk2", "RSA", false);
        String op = f.putDes("des1", CMK, foreign, false).rotationOperationId();
        var done = awaitDone(op);
        assertThat(done.status()).isEqualTo(AsyncOperations.Status.Failed);
        assertThat(done.errorCode()).isEqualTo("KeyVaultAccessForbidden");
        var error = f.sets.get(f.admin, f.subscription, "rg", "des1").path("properties").path("autoKeyRotationError");
        assertThat(error.path("message").asText()).contains("az keyvault set-policy -n kv2 --object-id "
                + principalId);
        assertThat(kekOfCopies()).isEqualTo(v1);
        assertThat(ring.key(id)).isPresent();
        // Granted, the same PUT retries and clears the error.
        f.grant(other, principalId, "get", "wrapKey", "unwrapKey");
        String retry = f.putDes("des1", CMK, foreign, false).rotationOperationId();
        assertThat(awaitDone(retry).status()).isEqualTo(AsyncOperations.Status.Succeeded);
        assertThat(f.sets.get(f.admin, f.subscription, "rg", "des1").path("properties").has("autoKeyRotationError"))
                .isFalse();
        assertThat(kekOfCopies()).isEqualTo(foreign);
    }

    @Test
    void aRotationCompletesOnlyWhenEveryConsumerAcknowledged() throws Exception {
        usableDes(false);
        ring().newKey("disk1");
        List<DiskEncryptionSets.RotationEvent> seen = new ArrayList<>();
        f.sets.registerRotationConsumer("backup", event -> {
            seen.add(event);
            return false;
        });
        String v2 = newVersion();
        String op = f.putDes("des1", CMK, v2, false).rotationOperationId();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (seen.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(seen).hasSize(1);
        assertThat(seen.get(0).oldKeyUrl()).isEqualTo(v1);
        assertThat(seen.get(0).newKeyUrl()).isEqualTo(v2);
        assertThat(f.core.asyncOperations().get(op).orElseThrow().isDone()).isFalse();
        f.sets.acknowledge(seen.get(0).id(), "backup");
        f.sets.acknowledge(seen.get(0).id(), "backup");
        assertThat(awaitDone(op).status()).isEqualTo(AsyncOperations.Status.Succeeded);
    }

    @Test
    void anUnacknowledgedRotationIsDeliveredAgainAfterRestart() throws Exception {
        usableDes(false);
        ring().newKey("disk1");
        f.sets.registerRotationConsumer("backup", event -> false);
        String op = f.putDes("des1", CMK, newVersion(), false).rotationOperationId();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline && !f.core.metadata().withHandle(h -> h.createQuery(
                "SELECT state FROM compute_des_rotations").mapTo(String.class).one()).equals("Published")) {
            Thread.sleep(20);
        }
        f.close();
        f = new DesFixture(dir);
        List<DiskEncryptionSets.RotationEvent> redelivered = new java.util.concurrent.CopyOnWriteArrayList<>();
        Thread.sleep(200);
        // Startup resumed the rotation before the consumer registered again: it waits for it, then delivers.
        assertThat(f.core.asyncOperations().get(op).orElseThrow().isDone()).isFalse();
        f.sets.registerRotationConsumer("backup", event -> redelivered.add(event));
        assertThat(awaitDone(op).status()).isEqualTo(AsyncOperations.Status.Succeeded);
        assertThat(redelivered).extracting(DiskEncryptionSets.RotationEvent::id).containsExactly(op);
    }

    @Test
    void badPatchLeavesTheDesAsItWas() {
        usableDes(false);
        var before = f.sets.get(f.admin, f.subscription, "rg", "des1");
        rejects(() -> f.sets.patch(f.admin, f.subscription, "rg", "des1",
                Json.parse("{\"properties\":{\"encryptionType\":\"" + DesService.CVM_TYPE + "\"}}")), 400,
                "PropertyChangeNotAllowed");
        assertThat(f.sets.get(f.admin, f.subscription, "rg", "des1")).isEqualTo(before);
        var patched = f.sets.patch(f.admin, f.subscription, "rg", "des1",
                Json.parse("{\"properties\":{\"rotationToLatestKeyVersionEnabled\":true},\"tags\":{\"a\":\"b\"}}"));
        assertThat(patched.resource().path("properties").path("rotationToLatestKeyVersionEnabled").asBoolean())
                .isTrue();
        assertThat(patched.resource().path("tags").path("a").asText()).isEqualTo("b");
    }

    /** Stands for the process dying: an Error, so nothing after it runs and the operation stays in progress. */
    private static final class SimulatedCrash extends Error {
        SimulatedCrash() {
            super("simulated crash after the wrap");
        }
    }
}
