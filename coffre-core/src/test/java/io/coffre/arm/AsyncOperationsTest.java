package io.coffre.arm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.coffre.CoffreCore;
import io.coffre.TestCores;
import io.coffre.store.MetadataStore;
import io.coffre.store.MetadataStores;
import io.coffre.time.ManualClock;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AsyncOperationsTest {
    private static final String VAULT = "/subscriptions/22222222-aaaa-bbbb-cccc-000000000001/resourceGroups/rg1"
            + "/providers/Microsoft.RecoveryServices/vaults/rsv1";

    @TempDir
    Path dir;

    @Test
    void workStartsAtOnceAndItsResultIsRecorded() throws Exception {
        try (CoffreCore core = TestCores.open(dir)) {
            AsyncOperations ops = core.asyncOperations();
            CountDownLatch release = new CountDownLatch(1);
            CountDownLatch started = new CountDownLatch(1);
            AsyncOperations.Operation op = ops.runAsync(VAULT, "test/backup", () -> {
                started.countDown();
                await(release);
                return "{\"jobId\":\"j1\"}";
            });
            assertThat(op.status()).isEqualTo(AsyncOperations.Status.InProgress);
            assertThat(started.await(5, TimeUnit.SECONDS)).as("no polling delay before the work runs").isTrue();
            assertThat(ops.get(op.id()).orElseThrow().isDone()).isFalse();
            release.countDown();
            AsyncOperations.Operation done = awaitDone(ops, op.id());
            assertThat(done.status()).isEqualTo(AsyncOperations.Status.Succeeded);
            assertThat(done.result()).isEqualTo("{\"jobId\":\"j1\"}");
            assertThat(done.endTime()).isAfterOrEqualTo(done.startTime());
            assertThat(done.resourceId()).isEqualTo(VAULT);
        }
    }

    @Test
    void inProgressListsTheResourcesUnfinishedOperationsOnly() {
        try (CoffreCore core = TestCores.open(dir)) {
            AsyncOperations ops = core.asyncOperations();
            AsyncOperations.Operation open = ops.start(VAULT, "test/backup");
            ops.succeed(ops.start(VAULT, "test/backup").id(), null);
            ops.start(VAULT.replace("rsv1", "rsv2"), "test/backup");
            assertThat(ops.inProgress(VAULT.toUpperCase(java.util.Locale.ROOT).replace("/SUBSCRIPTIONS/",
                    "/subscriptions/"))).extracting(AsyncOperations.Operation::id).containsExactly(open.id());
            ops.fail(open.id(), "Gone", "gone");
            assertThat(ops.inProgress(VAULT)).isEmpty();
        }
    }

    @Test
    void failuresKeepTheirArmErrorAndInternalFaultsBecomeInternalError() {
        try (CoffreCore core = TestCores.open(dir)) {
            AsyncOperations ops = core.asyncOperations();
            String armFailure = ops.runAsync(VAULT, "test/backup", () -> {
                throw ArmException.badRequest("UserErrorKeyVaultPermissionsNotConfigured", "Grant keys/backup.");
            }).id();
            String internal = ops.runAsync(VAULT, "test/backup", () -> {
                throw new IllegalStateException("boom");
            }).id();
            AsyncOperations.Operation a = awaitDone(ops, armFailure);
            assertThat(a.status()).isEqualTo(AsyncOperations.Status.Failed);
            assertThat(a.errorCode()).isEqualTo("UserErrorKeyVaultPermissionsNotConfigured");
            assertThat(a.errorMessage()).isEqualTo("Grant keys/backup.");
            assertThat(a.errorStatus()).isEqualTo(400);
            AsyncOperations.Operation b = awaitDone(ops, internal);
            assertThat(b.errorCode()).isEqualTo("InternalError");
            assertThat(b.errorMessage()).doesNotContain("boom");
            assertThat(b.errorStatus()).isEqualTo(500);
        }
    }

    @Test
    void operationsAreFinishedExplicitlyAndOnlyOnce() {
        try (CoffreCore core = TestCores.open(dir)) {
            AsyncOperations ops = core.asyncOperations();
            AsyncOperations.Operation op = ops.start(VAULT, "test/manual");
            ops.fail(op.id(), "Conflict", "no");
            ops.succeed(op.id(), "{}");
            assertThat(ops.get(op.id()).orElseThrow().status()).isEqualTo(AsyncOperations.Status.Failed);
            assertThat(ops.get("no-such-operation")).isEmpty();
            assertThatThrownBy(() -> ops.start("/not/an/id", "x")).isInstanceOfSatisfying(ArmException.class,
                    e -> assertThat(e.code()).isEqualTo("InvalidResourceId"));
            assertThatThrownBy(() -> ops.succeed("no-such-operation", null))
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void aRestartFailsOperationsLeftInProgress() {
        String id;
        try (CoffreCore core = TestCores.open(dir)) {
            id = core.asyncOperations().start(VAULT, "test/unresumable").id();
        }
        try (CoffreCore core = TestCores.open(dir)) {
            AsyncOperations.Operation op = core.asyncOperations().get(id).orElseThrow();
            assertThat(op.status()).isEqualTo(AsyncOperations.Status.Failed);
            assertThat(op.errorCode()).isEqualTo("OperationInterrupted");
            assertThat(op.errorMessage()).contains("start it again");
        }
    }

    @Test
    void aRegisteredResumerPicksUpItsKind() {
        String resumable;
        String other;
        ManualClock clock = new ManualClock();
        try (MetadataStore store = MetadataStores.h2(dir.resolve("db"));
             AsyncOperations ops = AsyncOperations.open(store, clock, 2)) {
            resumable = ops.start(VAULT, "test/rotate").id();
            other = ops.start(VAULT, "test/other").id();
        }
        try (MetadataStore store = MetadataStores.h2(dir.resolve("db"));
             AsyncOperations ops = AsyncOperations.open(store, clock, 2)) {
            ops.registerResumer("test/rotate", op -> ops.succeed(op.id(), "{\"resumed\":\"" + op.id() + "\"}"));
            assertThatThrownBy(() -> ops.registerResumer("test/rotate", op -> { }))
                    .isInstanceOf(IllegalStateException.class);
            ops.resumeInterrupted();
            assertThat(awaitDone(ops, resumable).result()).isEqualTo("{\"resumed\":\"" + resumable + "\"}");
            assertThat(ops.get(other).orElseThrow().errorCode()).isEqualTo("OperationInterrupted");
        }
    }

    static AsyncOperations.Operation awaitDone(AsyncOperations ops, String id) {
        Instant deadline = Instant.now().plus(Duration.ofSeconds(10));
        while (Instant.now().isBefore(deadline)) {
            AsyncOperations.Operation op = ops.get(id).orElseThrow();
            if (op.isDone()) {
                return op;
            }
            sleep(10);
        }
        throw new AssertionError("operation " + id + " did not finish");
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
