package io.coffre.arm;

import io.coffre.store.MetadataStore;
import io.coffre.time.CoffreClock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Persisted long-running operations (ARM's async operation pattern). A route starts one, answers 202 with the
 * polling headers ({@code Lro.accepted} in the server), and clients poll the operation until it succeeds or fails.
 * Work handed to {@link #runAsync} starts at once on a bounded pool. Operations a crash left in progress are failed
 * with {@code OperationInterrupted} by {@link #resumeInterrupted}, unless their kind has a resumer.
 */
public interface AsyncOperations extends AutoCloseable {
    enum Status { InProgress, Succeeded, Failed }

    /**
     * @param resourceId the ARM id of the resource the operation acts on (its subscription and provider name the
     *                   polling URL)
     * @param kind       what the operation does, e.g. {@code Microsoft.Compute/diskEncryptionSets/rotate}; resumers
     *                   are registered per kind
     * @param result     JSON the operation produced (the operationResults body), {@link #EMPTY_RESULT} for a 200
     *                   without a body, or null (204)
     * @param errorStatus HTTP status the failure is reported with on operationResults, or 0 while not failed
     */
    record Operation(String id, String resourceId, String kind, Status status, Instant startTime, Instant endTime,
                     String errorCode, String errorMessage, int errorStatus, String result) {
        public boolean isDone() {
            return status != Status.InProgress;
        }
    }

    /**
     * The result of an operation that ends with 200 and no body: SDK pollers of some actions (disk
     * {@code endGetAccess}) accept only 200 or 202 on the result URL, not 204.
     */
    String EMPTY_RESULT = "";

    /** @param threads the size of the pool {@link #runAsync} work runs on */
    static AsyncOperations open(MetadataStore metadata, CoffreClock clock, int threads) {
        return new JdbcAsyncOperations(metadata, clock, threads);
    }

    /**
     * Records a new operation in progress; the caller finishes it with {@link #succeed} or {@link #fail}.
     *
     * @throws ArmException 400 {@code InvalidResourceId} when {@code resourceId} is not an ARM id
     */
    Operation start(String resourceId, String kind);

    /** Marks an operation succeeded; idempotent for an operation already done. */
    void succeed(String id, String resultJsonOrNull);

    /** Marks an operation failed with a caller-facing error (reported as HTTP 400 on operationResults). */
    void fail(String id, String code, String message);

    Optional<Operation> get(String id);

    /**
     * The operations on a resource that are still in progress; at startup, before {@link #resumeInterrupted}, the
     * ones a crash interrupted.
     */
    List<Operation> inProgress(String resourceId);

    /**
     * Starts an operation and runs {@code work} on the pool at once. Its return value (JSON or null) becomes the
     * result; an {@link ArmException} becomes the failure (code, message, status); any other exception is logged
     * and recorded as {@code InternalError}.
     *
     * @throws ArmException 429 {@code TooManyRequests} when the pool's queue is full (nothing is recorded then)
     */
    Operation runAsync(String resourceId, String kind, Supplier<String> work);

    /**
     * Registers what to do with operations of {@code kind} found in progress at startup: the resumer runs on the
     * pool and must finish the operation; if it throws, the operation fails as {@link #runAsync} work would.
     */
    void registerResumer(String kind, Consumer<Operation> resumer);

    /**
     * Hands every operation left in progress by an earlier process to its kind's resumer, and fails the others with
     * {@code OperationInterrupted}. Called once at startup, after every provider registered its resumers.
     */
    void resumeInterrupted();

    /** Stops taking work and waits briefly for running work; unfinished operations are resumed on next start. */
    @Override
    void close();
}
