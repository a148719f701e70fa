package io.coffre.compute;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.arm.ArmException;
import io.coffre.arm.AsyncOperations;
import io.coffre.compute.DiskEncryptionSets.RotationConsumer;
import io.coffre.compute.DiskEncryptionSets.RotationEvent;
import io.coffre.identity.Principal;
import io.coffre.json.Json;
import io.coffre.store.MetadataStore;
import io.coffre.time.CoffreClock;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Key rotation of a DES as a persisted, resumable state machine ({@code compute_des_rotations}), one async operation
 * each: Started → (one unwrap with the old KEK version, one wrap with the new) Wrapped → (the one stored wrapped DES
 * key is rewritten, DES metadata, the event is published: one transaction) Published → (every registered consumer
 * acknowledged) Completed. Each step is idempotent, so the resumer simply continues from the stored state. Snapshots,
 * restore points and recovery points hold a reference to the stored wrapped key ({@code compute_des_key_holders}),
 * so a rotation costs the same with 100,000 of them as with none.
 */
final class DesRotations implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DesRotations.class);

    /**
     * Test seam: runs right after the new wrapping is stored and before any copy is updated. A test makes it throw
     * an {@link Error} to stop the rotation there as a crash would (nothing after it runs, the operation stays in
     * progress) and then reopens the core to see the resumer finish.
     */
    static volatile Runnable afterWrap = () -> { };

    private final MetadataStore metadata;
    private final KeyHierarchy hierarchy;
    private final DesAccess access;
    private final AsyncOperations operations;
    private final CoffreClock clock;
    private final Function<String, Principal> desPrincipal;
    private final Function<String, Optional<ObjectNode>> desResource;
    private final Map<String, RotationConsumer> consumers = new ConcurrentHashMap<>();
    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "coffre-des-rotation");
        t.setDaemon(true);
        return t;
    });

    /**
     * @param desPrincipal the managed identity of a DES, by its lower-case id
     * @param desResource  the ARM resource of a DES, by its lower-case id: a finished rotation's result, which the
     *                     SDK pollers of a PATCH read from the Location URL as the updated DES
     */
    DesRotations(MetadataStore metadata, KeyHierarchy hierarchy, DesAccess access, AsyncOperations operations,
                 CoffreClock clock, Function<String, Principal> desPrincipal,
                 Function<String, Optional<ObjectNode>> desResource) {
        this.metadata = metadata;
        this.hierarchy = hierarchy;
        this.access = access;
        this.operations = operations;
        this.clock = clock;
        this.desPrincipal = desPrincipal;
        this.desResource = desResource;
        operations.registerResumer(DiskEncryptionSets.ROTATION_KIND, op -> advance(op.id()));
    }

    /**
     * Starts rotating the DES key from {@code oldKeyUrl} (the active key until now) to {@code newKeyUrl} unless it is
     * already wrapped by it. A DES never used has no DES key yet: nothing to rewrap, its first use wraps under the new
     * key; its key change completes at once (lastKeyRotationTimestamp is when the active key was updated, and
     * previousKeys stays empty as no rotation is in progress).
     *
     * @return the operation id, or null when there is nothing to rewrap
     */
    String start(String desKey, String armId, String oldKeyUrl, String newKeyUrl) {
        Optional<KeyHierarchy.Wrapped> own = hierarchy.ownCopy(desKey);
        if (own.isEmpty()) {
            if (!oldKeyUrl.equalsIgnoreCase(newKeyUrl)) {
                metadata.inTransaction(h -> h.createUpdate("UPDATE compute_disk_encryption_sets SET"
                                + " last_rotation_at = :now WHERE des_key = :des")
                        .bind("now", clock.now().getEpochSecond()).bind("des", desKey).execute());
            }
            return null;
        }
        if (own.get().kekKeyId().equalsIgnoreCase(newKeyUrl)) {
            return null;
        }
        String operationId = metadata.inTransaction(h -> {
            AsyncOperations.Operation op = operations.start(armId, DiskEncryptionSets.ROTATION_KIND);
            h.createUpdate("INSERT INTO compute_des_rotations (operation_id, des_id, old_key_url, new_key_url, state,"
                            + " started_at) VALUES (:op, :des, :old, :new, 'Started', :now)")
                    .bind("op", op.id()).bind("des", desKey).bind("old", own.get().kekKeyId())
                    .bind("new", newKeyUrl).bind("now", clock.now().getEpochSecond()).execute();
            h.createUpdate("UPDATE compute_disk_encryption_sets SET previous_keys = :previous WHERE des_key = :des")
                    .bind("previous", Json.write(List.of(own.get().kekKeyId()))).bind("des", desKey).execute();
            return op.id();
        });
        worker.execute(() -> advance(operationId));
        return operationId;
    }

    /** Remembers the consumer for good, and hands it the published rotations it has not acknowledged yet. */
    void register(String name, RotationConsumer consumer) {
        metadata.inTransaction(h -> h.createUpdate("INSERT INTO compute_rotation_consumers (consumer, registered_at)"
                        + " SELECT :name, :now WHERE NOT EXISTS (SELECT 1 FROM compute_rotation_consumers"
                        + " WHERE consumer = :name)")
                .bind("name", name).bind("now", clock.now().getEpochSecond()).execute());
        consumers.put(name, consumer);
        List<String> published = metadata.withHandle(h -> h.createQuery("SELECT operation_id FROM"
                + " compute_des_rotations WHERE state = 'Published'").mapTo(String.class).list());
        published.forEach(op -> worker.execute(() -> advance(op)));
    }

    void acknowledge(String eventId, String consumer) {
        metadata.inTransaction(h -> h.createUpdate("INSERT INTO compute_rotation_acks (event_id, consumer, acked_at)"
                        + " SELECT :event, :consumer, :now WHERE NOT EXISTS (SELECT 1 FROM compute_rotation_acks"
                        + " WHERE event_id = :event AND consumer = :consumer)")
                .bind("event", eventId).bind("consumer", consumer).bind("now", clock.now().getEpochSecond())
                .execute());
        advance(eventId);
    }

    private record Rotation(String operationId, String desId, String newKeyUrl, byte[] newWrapped, String state) {
    }

    /** Continues a rotation from its stored state; safe to call any number of times. */
    synchronized void advance(String operationId) {
        Optional<Rotation> found = load(operationId);
        if (found.isEmpty()) {
            return;
        }
        Rotation r = found.get();
        try {
            if (r.state().equals("Started")) {
                wrapUnderNewVersion(r);
                afterWrap.run();
                r = load(operationId).orElseThrow();
            }
            if (r.state().equals("Wrapped")) {
                updateCopiesAndPublish(r);
                r = load(operationId).orElseThrow();
            }
            if (r.state().equals("Published")) {
                deliver(r);
            }
        } catch (ArmException e) {
            fail(r, e);
        } catch (RuntimeException e) {
            LOG.error("rotation {} of {} failed", operationId, r.desId(), e);
            fail(r, new ArmException(500, "InternalError", "The key rotation failed unexpectedly: " + e));
        }
    }

    private Optional<Rotation> load(String operationId) {
        return metadata.withHandle(h -> h.createQuery("SELECT * FROM compute_des_rotations WHERE operation_id = :op")
                .bind("op", operationId).map((rs, ctx) -> new Rotation(rs.getString("operation_id"),
                        rs.getString("des_id"), rs.getString("new_key_url"), rs.getBytes("new_wrapped"),
                        rs.getString("state"))).findOne());
    }

    /** The only key-service work: one unwrap with the KEK version that wraps it now, one wrap with the new one. */
    private void wrapUnderNewVersion(Rotation r) {
        KeyHierarchy.Wrapped own = hierarchy.ownCopy(r.desId()).orElseThrow(() ->
                ArmException.conflict("DiskEncryptionSetNotFound", "The disk encryption set was deleted during"
                        + " its key rotation."));
        byte[] newWrapped;
        if (own.kekKeyId().equalsIgnoreCase(r.newKeyUrl())) {
            newWrapped = own.wrapped();
        } else {
            Principal principal = desPrincipal.apply(r.desId());
            byte[] raw = access.asDes(() -> hierarchy.unwrapWithKek(principal, own.kekKeyId(), own.wrapped()),
                    principal, own.kekKeyId());
            try {
                newWrapped = access.asDes(() -> hierarchy.wrapWithKek(principal, r.newKeyUrl(), raw),
                        principal, r.newKeyUrl());
            } finally {
                Arrays.fill(raw, (byte) 0);
            }
        }
        metadata.inTransaction(h -> h.createUpdate("UPDATE compute_des_rotations SET new_wrapped = :wrapped,"
                        + " state = 'Wrapped' WHERE operation_id = :op AND state = 'Started'")
                .bind("wrapped", newWrapped).bind("op", r.operationId()).execute());
    }

    private void updateCopiesAndPublish(Rotation r) {
        long now = clock.now().getEpochSecond();
        metadata.inTransaction(h -> {
            String old = h.createQuery("SELECT kek_key_id FROM compute_wrapped_des_keys WHERE owner_id = :des"
                    + " AND des_id = :des").bind("des", r.desId()).mapTo(String.class).findOne().orElse(null);
            // The one stored wrapped DES key: snapshots, restore points ... reference it, so they follow.
            h.createUpdate("UPDATE compute_wrapped_des_keys SET kek_key_id = :kek, wrapped = :wrapped"
                            + " WHERE owner_id = :des AND des_id = :des")
                    .bind("kek", r.newKeyUrl()).bind("wrapped", r.newWrapped()).bind("des", r.desId()).execute();
            h.createUpdate("UPDATE compute_disk_encryption_sets SET previous_keys = '[]', last_rotation_at = :now,"
                            + " auto_rotation_error = NULL WHERE des_key = :des")
                    .bind("now", now).bind("des", r.desId()).execute();
            h.createUpdate("INSERT INTO compute_rotation_events (event_id, des_id, old_key_url, new_key_url,"
                            + " published_at) VALUES (:op, :des, :old, :new, :now)")
                    .bind("op", r.operationId()).bind("des", r.desId()).bind("old", old)
                    .bind("new", r.newKeyUrl()).bind("now", now).execute();
            h.createUpdate("UPDATE compute_des_rotations SET state = 'Published', new_wrapped = NULL"
                    + " WHERE operation_id = :op").bind("op", r.operationId()).execute();
            return null;
        });
    }

    private void deliver(Rotation r) {
        RotationEvent event = metadata.withHandle(h -> h.createQuery(
                        "SELECT * FROM compute_rotation_events WHERE event_id = :id").bind("id", r.operationId())
                .map((rs, ctx) -> new RotationEvent(rs.getString("event_id"), rs.getString("des_id"),
                        rs.getString("old_key_url"), rs.getString("new_key_url"),
                        Instant.ofEpochSecond(rs.getLong("published_at")))).one());
        for (Map.Entry<String, RotationConsumer> consumer : consumers.entrySet()) {
            if (!acknowledged(event.id()).contains(consumer.getKey()) && consumer.getValue().onRotation(event)) {
                metadata.inTransaction(h -> h.createUpdate("INSERT INTO compute_rotation_acks (event_id, consumer,"
                                + " acked_at) VALUES (:event, :consumer, :now)").bind("event", event.id())
                        .bind("consumer", consumer.getKey()).bind("now", clock.now().getEpochSecond()).execute());
            }
        }
        List<String> required = metadata.withHandle(h -> h.createQuery("SELECT consumer FROM"
                + " compute_rotation_consumers").mapTo(String.class).list());
        if (acknowledged(event.id()).containsAll(required)) {
            metadata.inTransaction(h -> h.createUpdate("UPDATE compute_des_rotations SET state = 'Completed'"
                    + " WHERE operation_id = :op").bind("op", r.operationId()).execute());
            operations.succeed(r.operationId(), desResource.apply(event.desId()).map(Json::write).orElse(null));
        }
    }

    private List<String> acknowledged(String eventId) {
        return metadata.withHandle(h -> h.createQuery("SELECT consumer FROM compute_rotation_acks"
                + " WHERE event_id = :id").bind("id", eventId).mapTo(String.class).list());
    }

    /** Visible on the DES as {@code autoKeyRotationError}; the DES key stays wrapped by the old version. */
    private void fail(Rotation r, ArmException e) {
        metadata.inTransaction(h -> {
            h.createUpdate("UPDATE compute_disk_encryption_sets SET auto_rotation_error = :error WHERE des_key = :des")
                    .bind("error", Json.write(Json.object().put("code", e.code()).put("message", e.getMessage())))
                    .bind("des", r.desId()).execute();
            h.createUpdate("UPDATE compute_des_rotations SET state = 'Failed', new_wrapped = NULL"
                    + " WHERE operation_id = :op").bind("op", r.operationId()).execute();
            return null;
        });
        operations.fail(r.operationId(), e.code(), e.getMessage());
    }

    @Override
    public void close() {
        worker.shutdown();
        try {
            worker.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
