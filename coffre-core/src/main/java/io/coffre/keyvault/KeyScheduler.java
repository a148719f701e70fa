package io.coffre.keyvault;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The key service's timed work: rotating keys whose rotation policy has a due Rotate action, and purging soft-deleted
 * keys and stores past their scheduled purge date. It runs every few seconds of real time and at once when the
 * clock is advanced. A run is idempotent: a rotation is added only if the key's latest version is still the one the
 * due date was computed from (checked in the writing transaction, and by the unique version sequence across nodes),
 * so concurrent runs never rotate a key twice for one due date.
 */
final class KeyScheduler implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(KeyScheduler.class);
    static final Duration PERIOD = Duration.ofSeconds(5);

    private final Services services;
    private final KeyDataPlane keys;
    private final KeyBundles bundles;
    private final Purges purges;
    private final ScheduledExecutorService executor;
    private volatile boolean closed;

    KeyScheduler(Services services, KeyDataPlane keys, KeyBundles bundles, Purges purges) {
        this.services = services;
        this.keys = keys;
        this.bundles = bundles;
        this.purges = purges;
        this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "coffre-keyvault-scheduler");
            t.setDaemon(true);
            return t;
        });
    }

    void start() {
        services.clock().onAdvance(this::runDue);
        executor.scheduleWithFixedDelay(this::runDue, PERIOD.toMillis(), PERIOD.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** One pass over due rotations and purges; failures of one key are logged and do not stop the others. */
    synchronized void runDue() {
        if (closed) {
            return;
        }
        try {
            rotateDueKeys();
            purges.purgeDue();
        } catch (RuntimeException e) {
            LOG.warn("scheduled key-service work failed; it is retried on the next run", e);
        }
    }

    private void rotateDueKeys() {
        Instant now = services.clock().now();
        for (KeyRecord key : services.metadata().withHandle(KeyRepository::withRotationPolicy)) {
            try {
                rotateIfDue(key, now);
            } catch (RuntimeException e) {
                LOG.warn("automatic rotation of key {} failed; it is retried on the next run", key.name(), e);
            }
        }
    }

    private void rotateIfDue(KeyRecord key, Instant now) {
        record State(StoreRecord store, KeyVersion latest) {
        }
        Optional<State> state = services.metadata().withHandle(h -> StoreRepository.findById(h, key.storeId())
                .flatMap(store -> KeyRepository.latest(h, store.storeId(), key.nameLower())
                        .map(latest -> new State(store, latest))));
        if (state.isEmpty()) {
            return;
        }
        Optional<Instant> due = RotationPolicies.rotationDue(key.rotationPolicy(), state.get().latest());
        if (due.isEmpty() || now.isBefore(due.get())) {
            return;
        }
        StoreRecord store = state.get().store();
        keys.rotateNow(store, key.name(), state.get().latest().seq()).ifPresent(written ->
                services.audit().record(Purges.SYSTEM_PRINCIPAL, "KeyRotate", bundles.keyId(store, written.key()),
                        written.version().version(), true, "rotation policy: Rotate action due at " + due.get()));
    }

    @Override
    public void close() {
        synchronized (this) {
            // Taking the lock waits for a run in progress, so nothing touches storage after this returns.
            closed = true;
        }
        executor.shutdownNow();
        try {
            executor.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
