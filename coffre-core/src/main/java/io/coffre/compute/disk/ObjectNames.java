package io.coffre.compute.disk;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.UUID;
import java.util.function.LongSupplier;

/**
 * Names for the objects that seals and flushes write, registered ahead in batches. An object must be registered
 * (durably) before it is put, so that a crash cannot leave it behind unknown; registered one at a time, every seal
 * cost a metadata commit and its fsync, which concurrent page uploads then queued for, and every flush of partial
 * blocks a commit before its map's. Each name is handed out once. Names left unused stay registered and uncommitted,
 * and the reclaimer's sweep removes them as abandoned after its grace period; a name older than {@code maxAgeMillis}
 * is not handed out, so a writer never gets one the sweep is close to.
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
        return take(1).get(0);
    }

    /**
     * {@code count} names: those ready first, the rest registered in one commit with a batch to spare, so that a
     * flush of many partial blocks costs one registration commit at most and a flush of a few usually none.
     */
    List<Name> take(int count) {
        List<Name> taken = new ArrayList<>(count);
        synchronized (ready) {
            long oldest = wallClock.getAsLong() - maxAgeMillis;
            for (Name name; taken.size() < count && (name = ready.poll()) != null; ) {
                if (name.registeredAt() >= oldest) {
                    taken.add(name);
                }
            }
        }
        int missing = count - taken.size();
        if (missing == 0) {
            return taken;
        }
        // outside the lock: callers meanwhile register batches of their own rather than wait for this commit
        long now = wallClock.getAsLong();
        List<Name> batch = new ArrayList<>(missing + BATCH - 1);
        for (int i = 0; i < missing + BATCH - 1; i++) {
            UUID writeId = objects.newWriteId();
            batch.add(new Name(writeId, BlockRef.blobKey(writeId), now));
        }
        metadata.registerObjects(batch.stream().map(Name::blobKey).toList(), now);
        taken.addAll(batch.subList(0, missing));
        synchronized (ready) {
            ready.addAll(batch.subList(missing, batch.size()));
        }
        return taken;
    }
}
