package io.coffre.arm;

import io.coffre.store.MetadataStore;
import io.coffre.time.CoffreClock;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Operations in table {@code async_operations}; work on a fixed pool with a bounded queue. */
final class JdbcAsyncOperations implements AsyncOperations {
    private static final Logger LOG = LoggerFactory.getLogger(JdbcAsyncOperations.class);
    private static final int QUEUE_CAPACITY = 10_000;
    private static final long CLOSE_WAIT_SECONDS = 10;
    private static final int CALLER_ERROR_STATUS = 400;
    private static final int SERVER_ERROR_STATUS = 500;

    private final MetadataStore metadata;
    private final CoffreClock clock;
    private final ThreadPoolExecutor pool;
    private final Map<String, Consumer<Operation>> resumers = new ConcurrentHashMap<>();

    JdbcAsyncOperations(MetadataStore metadata, CoffreClock clock, int threads) {
        this.metadata = metadata;
        this.clock = clock;
        this.pool = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS,
                new ArrayBlockingQueue<>(QUEUE_CAPACITY), daemonThreads());
    }

    private static ThreadFactory daemonThreads() {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, "coffre-async-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    @Override
    public Operation start(String resourceId, String kind) {
        String canonical = ResourceId.parse(resourceId).toString();
        String id = UUID.randomUUID().toString();
        long now = clock.now().toEpochMilli();
        metadata.withHandle(h -> h.createUpdate("INSERT INTO async_operations (operation_id, resource_id, kind, status,"
                        + " started_at) VALUES (:id, :rid, :kind, :status, :now)")
                .bind("id", id).bind("rid", canonical).bind("kind", kind).bind("status", Status.InProgress.name())
                .bind("now", now).execute());
        return new Operation(id, canonical, kind, Status.InProgress, Instant.ofEpochMilli(now), null, null, null, 0,
                null);
    }

    @Override
    public void succeed(String id, String resultJsonOrNull) {
        finish(id, Status.Succeeded, null, null, 0, resultJsonOrNull);
    }

    @Override
    public void fail(String id, String code, String message) {
        finish(id, Status.Failed, code, message, CALLER_ERROR_STATUS, null);
    }

    private void finish(String id, Status status, String code, String message, int errorStatus, String result) {
        int updated = metadata.withHandle(h -> h.createUpdate("UPDATE async_operations SET status = :status,"
                        + " ended_at = :now, error_code = :code, error_message = :message, error_status = :errorStatus,"
                        + " result = :result WHERE operation_id = :id AND status = :inProgress")
                .bind("status", status.name()).bind("now", clock.now().toEpochMilli()).bind("code", code)
                .bind("message", message).bind("errorStatus", errorStatus == 0 ? null : errorStatus)
                .bind("result", result).bind("id", id).bind("inProgress", Status.InProgress.name()).execute());
        if (updated == 0 && get(id).isEmpty()) {
            throw new IllegalArgumentException("no async operation " + id);
        }
    }

    @Override
    public Optional<Operation> get(String id) {
        return metadata.withHandle(h -> h.createQuery("SELECT * FROM async_operations WHERE operation_id = :id")
                .bind("id", id).map((rs, ctx) -> toOperation(rs)).findOne());
    }

    @Override
    public List<Operation> inProgress(String resourceId) {
        // ARM ids are case-insensitive
        return metadata.withHandle(h -> h.createQuery("SELECT * FROM async_operations WHERE lower(resource_id) = :rid"
                        + " AND status = :s ORDER BY started_at")
                .bind("rid", ResourceId.parse(resourceId).toString().toLowerCase(Locale.ROOT))
                .bind("s", Status.InProgress.name()).map((rs, ctx) -> toOperation(rs)).list());
    }

    @Override
    public Operation runAsync(String resourceId, String kind, Supplier<String> work) {
        Operation op = start(resourceId, kind);
        try {
            pool.execute(() -> run(op, () -> succeed(op.id(), work.get())));
        } catch (RejectedExecutionException e) {
            metadata.withHandle(h -> h.createUpdate("DELETE FROM async_operations WHERE operation_id = :id")
                    .bind("id", op.id()).execute());
            throw new ArmException(429, "TooManyRequests", "Coffre is running " + QUEUE_CAPACITY
                    + " queued operations already; retry in a few seconds.");
        }
        return op;
    }

    /** Runs a step of {@code op} and records its failure the way callers poll for it. */
    private void run(Operation op, Runnable step) {
        try {
            step.run();
        } catch (ArmException e) {
            finish(op.id(), Status.Failed, e.code(), e.getMessage(), e.status(), null);
        } catch (RuntimeException | Error e) {
            LOG.error("async operation {} ({} on {}) failed", op.id(), op.kind(), op.resourceId(), e);
            finish(op.id(), Status.Failed, "InternalError",
                    "Coffre hit an internal error running this operation; the server log has the details.",
                    SERVER_ERROR_STATUS, null);
        }
    }

    @Override
    public void registerResumer(String kind, Consumer<Operation> resumer) {
        if (resumers.putIfAbsent(kind, resumer) != null) {
            throw new IllegalStateException("a resumer for " + kind + " is registered already");
        }
    }

    @Override
    public void resumeInterrupted() {
        List<Operation> interrupted = metadata.withHandle(h -> h.createQuery(
                        "SELECT * FROM async_operations WHERE status = :s ORDER BY started_at")
                .bind("s", Status.InProgress.name()).map((rs, ctx) -> toOperation(rs)).list());
        for (Operation op : interrupted) {
            Consumer<Operation> resumer = resumers.get(op.kind());
            if (resumer == null) {
                finish(op.id(), Status.Failed, "OperationInterrupted", "The operation was interrupted by a restart of"
                        + " Coffre before it finished and cannot be resumed; start it again.", SERVER_ERROR_STATUS,
                        null);
            } else {
                LOG.info("resuming async operation {} ({} on {})", op.id(), op.kind(), op.resourceId());
                pool.execute(() -> run(op, () -> resumer.accept(op)));
            }
        }
    }

    @Override
    public void close() {
        pool.shutdown();
        try {
            if (!pool.awaitTermination(CLOSE_WAIT_SECONDS, TimeUnit.SECONDS)) {
                pool.shutdownNow();
            }
        } catch (InterruptedException e) {
            pool.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }

    private static Operation toOperation(java.sql.ResultSet rs) throws java.sql.SQLException {
        long ended = rs.getLong("ended_at");
        Instant endTime = rs.wasNull() ? null : Instant.ofEpochMilli(ended);
        return new Operation(rs.getString("operation_id"), rs.getString("resource_id"), rs.getString("kind"),
                Status.valueOf(rs.getString("status")), Instant.ofEpochMilli(rs.getLong("started_at")), endTime,
                rs.getString("error_code"), rs.getString("error_message"), rs.getInt("error_status"),
                rs.getString("result"));
    }
}
