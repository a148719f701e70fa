package io.coffre.compute.disk;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.UUID;
import java.util.function.LongSupplier;

/**
 * Names for the objects that seals write, registered ahead in batches. An object must be registered (durably) before
 * it is put, so that a crash cannot leave it behind unknown; registered one at a time, every seal cost a metadata
 * commit and its fsync, which concurrent page uploads then queued for. Each name is handed out once. Names left
 * unused stay registered and uncommitted, and the reclaimer's sweep removes them as abandoned after its grace period;
 * a name older than {@code maxAgeMillis} is not handed out, so a seal never gets one the sweep is close to.
 */
final class ObjectNames {
    static final int BATCH = 16;

    /** A registered name: the write id (in the object's header) and its blob key. */
    record Name(UUID writeId, String blobKey, long registeredAt) {
    }

    private final BlockObjects objects;
    private final DiskMetadata metadata;
    private final LongSupplier wallClock;
    private final long maxAgeMillis;
    private final Deque<Name> ready = new ArrayDeque<>();

    ObjectNames(BlockObjects objects, DiskMetadata metadata, LongSupplier wallClock, long maxAgeMillis) {
        this.objects = objects;
        this.metadata = metadata;
        this.wallClock = wallClock;
        this.maxAgeMillis = maxAgeMillis;
    }

    Name take() {
        synchronized (ready) {
            long oldest = wallClock.getAsLong() - maxAgeMillis;
            for (Name name; (name = ready.poll()) != null; ) {
                if (name.registeredAt() >= oldest) {
                    return name;
                }
            }
        }
        // outside the lock: callers meanwhile register batches of their own rather than wait for this commit
        long now = wallClock.getAsLong();
        List<Name> batch = new ArrayList<>(BATCH);
        for (int i = 0; i < BATCH; i++) {
            UUID writeId = objects.newWriteId();
            batch.add(new Name(writeId, BlockRef.blobKey(writeId), now));
        }
        metadata.registerObjects(batch.stream().map(Name::blobKey).toList(), now);
        synchronized (ready) {
            ready.addAll(batch.subList(1, BATCH));
        }
        return batch.get(0);
    }
}
