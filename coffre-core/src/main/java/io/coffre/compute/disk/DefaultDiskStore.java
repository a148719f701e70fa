package io.coffre.compute.disk;

import io.coffre.arm.ArmException;
import io.coffre.compute.disk.DiskMetadata.Kind;
import io.coffre.compute.disk.DiskMetadata.MapRow;
import io.coffre.store.BlobStore;
import io.coffre.store.MetadataStore;
import java.io.IOException;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.stream.LongStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@link DiskStore} over a metadata store and a blob store; the devices it opens share one pool of flush workers. */
final class DefaultDiskStore implements DiskStore {
    private static final Logger LOG = LoggerFactory.getLogger(DefaultDiskStore.class);
    /** Largest disk: 64 TiB, above any Azure managed disk. */
    static final long MAX_SIZE_BYTES = 64L << 40;

    /** Tunables; {@link #DEFAULTS} in production, smaller values in tests. */
    record Settings(long bufferBytesPerDisk, int cachedBlocks, long uncommittedGraceMillis, int workers,
                    LongSupplier wallClock) {
    }

    /**
     * Twice as many flush workers as cores: a block put is encryption (CPU) followed by an fsync of the object and
     * its directory (waiting on the disk), so a worker per core leaves the CPU idle during every fsync.
     */
    static final Settings DEFAULTS = new Settings(64L << 20, 8, 3_600_000L,
            Math.max(4, 2 * Runtime.getRuntime().availableProcessors()), System::currentTimeMillis);

    private final DiskMetadata metadata;
    private final BlockObjects objects;
    private final Reclaimer reclaimer;
    private final ObjectNames names;
    private final DataKeyRing keys;
    private final Settings settings;
    private final ExecutorService workers;
    /**
     * How many devices released by their last holder stay loaded, flushed and idle, so that a disk opened once per
     * request (a page upload) does not re-read its whole block map each time. Only an open device changes a disk's
     * map, so an idle one stays exact; {@link #delete} drops it.
     */
    static final int IDLE_DEVICES = 16;

    /** Open disks and how many devices hold each (0: idle), in order of last release; guarded by itself. */
    private final Map<String, Shared> open = new LinkedHashMap<>();

    private static final class Shared {
        final WriteBackDevice device;
        int holders;

        Shared(WriteBackDevice device) {
            this.device = device;
        }
    }

    DefaultDiskStore(MetadataStore metadataStore, BlobStore blobs, DataKeyRing keys, SecureRandom random,
                     Settings settings) {
        this.metadata = new DiskMetadata(metadataStore);
        this.objects = new BlockObjects(blobs, keys, random, settings.cachedBlocks());
        this.reclaimer = new Reclaimer(metadata, objects, settings.wallClock(), settings.uncommittedGraceMillis());
        // an eighth of the grace: far from the half after which a flush no longer trusts a seal's name
        this.names = new ObjectNames(objects, metadata, settings.wallClock(), settings.uncommittedGraceMillis() / 8);
        this.keys = keys;
        this.settings = settings;
        AtomicInteger threads = new AtomicInteger();
        this.workers = Executors.newFixedThreadPool(settings.workers(), task -> {
            Thread thread = new Thread(task, "coffre-disk-flush-" + threads.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
    }

    @Override
    public String create(long sizeBytes, DiskSource source) {
        return create(sizeBytes, source, keys);
    }

    @Override
    public String create(long sizeBytes, DiskSource source, DataKeyRing writeKeys) {
        checkSize(sizeBytes);
        String diskId = UUID.randomUUID().toString();
        if (source instanceof DiskSource.CopyOf copy) {
            // refused before a key is made for nothing; checked again under lock below
            checkCopySize(metadata.findMap(copy.sourceId()).orElseThrow(() -> notFound(copy.sourceId())), sizeBytes);
            // a disk copied while open: what its writer acknowledged so far belongs in the copy
            settle(copy.sourceId());
        }
        UUID writeKeyId = writeKeys.newKey(diskId);
        metadata.inTransaction(h -> {
            String sourceId = null;
            if (source instanceof DiskSource.CopyOf copy) {
                sourceId = copy.sourceId();
                checkCopySize(metadata.lockMap(h, sourceId).orElseThrow(() -> notFound(copy.sourceId())), sizeBytes);
            }
            metadata.insertMap(h, new MapRow(diskId, Kind.DISK, sizeBytes, writeKeyId, sourceId), now());
            if (sourceId != null) {
                metadata.copyBlocks(h, sourceId, diskId);
            }
            return null;
        });
        return diskId;
    }

    @Override
    public BlockDevice open(String diskId) {
        synchronized (open) {
            Shared shared = open.get(diskId);
            if (shared == null) {
                MapRow row = metadata.findMap(diskId).orElseThrow(() -> notFound(diskId));
                if (row.kind() != Kind.DISK) {
                    throw ArmException.conflict("NotADisk", diskId + " is a snapshot, which cannot be opened for "
                            + "writing. Create a disk from it (a copy) and open that.");
                }
                Map<Long, List<byte[]>> journal = new HashMap<>();
                metadata.journal(diskId).forEach((index, entries) ->
                        journal.put(index, objects.openJournal(diskId, row.writeKeyId(), index, entries)));
                shared = new Shared(new WriteBackDevice(diskId, row.sizeBytes(), row.writeKeyId(),
                        metadata.blocks(diskId), metadata, objects, names, reclaimer, workers,
                        settings.bufferBytesPerDisk(), journal));
                open.put(diskId, shared);
            }
            shared.holders++;
            return new Handle(shared.device);
        }
    }

    @Override
    public List<String> snapshot(List<String> diskIds) {
        if (diskIds.isEmpty() || diskIds.stream().distinct().count() != diskIds.size()) {
            throw ArmException.badRequest("InvalidSnapshotRequest", "Name each disk to snapshot once: " + diskIds);
        }
        // a disk with journaled writes and no device (after a restart): loaded, so that the pause below maps them
        diskIds.stream().filter(this::journaledAndClosed).forEach(id -> open(id).close());
        List<WriteBackDevice> paused = new ArrayList<>();
        synchronized (open) {
            diskIds.stream().map(open::get).filter(Objects::nonNull).forEach(s -> paused.add(s.device));
        }
        // in id order, so two concurrent multi-disk snapshots take the write gates in the same order
        paused.sort(Comparator.comparing(WriteBackDevice::diskId));
        List<WriteBackDevice> pausedSoFar = new ArrayList<>();
        try {
            for (WriteBackDevice device : paused) {
                device.pauseWritesAndFlush();
                pausedSoFar.add(device);
            }
            return metadata.inTransaction(h -> {
                Map<String, String> snapshotOf = new HashMap<>();
                // rows locked in id order too, so concurrent multi-disk snapshots cannot deadlock in the database
                for (String diskId : diskIds.stream().sorted().toList()) {
                    MapRow disk = metadata.lockMap(h, diskId).orElseThrow(() -> notFound(diskId));
                    if (disk.kind() != Kind.DISK) {
                        throw ArmException.conflict("NotADisk", diskId + " is a snapshot; snapshot its disk instead,"
                                + " or use it as it is.");
                    }
                    String snapshotId = UUID.randomUUID().toString();
                    metadata.insertMap(h, new MapRow(snapshotId, Kind.SNAPSHOT, disk.sizeBytes(), null, diskId),
                            now());
                    metadata.copyBlocks(h, diskId, snapshotId);
                    snapshotOf.put(diskId, snapshotId);
                }
                return diskIds.stream().map(snapshotOf::get).toList();
            });
        } finally {
            pausedSoFar.forEach(WriteBackDevice::resumeWrites);
        }
    }

    @Override
    public long[] changedBlocks(String fromId, String toId) {
        return metadata.inTransaction(h -> {
            metadata.findMap(h, fromId).orElseThrow(() -> notFound(fromId));
            metadata.findMap(h, toId).orElseThrow(() -> notFound(toId));
            Map<Long, String> from = new HashMap<>();
            metadata.blockKeys(h, fromId).forEach(e -> from.put(e.getKey(), e.getValue()));
            LongStream.Builder changed = LongStream.builder();
            for (Map.Entry<Long, String> block : metadata.blockKeys(h, toId)) {
                if (!block.getValue().equals(from.remove(block.getKey()))) {
                    changed.add(block.getKey());
                }
            }
            from.keySet().forEach(changed::add); // mapped before, sparse now
            return changed.build().sorted().toArray();
        });
    }

    @Override
    public DiskInfo info(String id) {
        return metadata.inTransaction(h -> {
            MapRow row = metadata.findMap(h, id).orElseThrow(() -> notFound(id));
            return new DiskInfo(row.id(), row.kind() == Kind.SNAPSHOT, row.sizeBytes(),
                    Optional.ofNullable(row.writeKeyId()), metadata.dataKeyIds(h, id), metadata.blockCount(h, id));
        });
    }

    @Override
    public long sizeBytes(String id) {
        return metadata.findMap(id).orElseThrow(() -> notFound(id)).sizeBytes();
    }

    @Override
    public List<StoredBlock> storedBlocks(String id) {
        settle(id);
        metadata.findMap(id).orElseThrow(() -> notFound(id));
        return metadata.blocks(id).entrySet().stream().sorted(Map.Entry.comparingByKey())
                .map(e -> new StoredBlock(e.getKey(), e.getValue().blobKey(), e.getValue().sha256().clone(),
                        e.getValue().keyId()))
                .toList();
    }

    @Override
    public byte[] readObject(String id, String objectId) {
        BlockRef ref = metadata.findBlock(id, objectId).orElseThrow(() -> ArmException.notFound(OBJECT_NOT_FOUND,
                "No block of " + id + " is the object " + objectId + "; take object ids from the block list of the"
                        + " same source."));
        byte[] object = objects.blobs().get(objectId).orElseThrow(() -> new BlockIntegrityException("The object "
                + objectId + " of " + id + " is missing from the blob store."));
        if (!MessageDigest.isEqual(BlockObjects.sha256(object), ref.sha256())) {
            throw new BlockIntegrityException("The object " + objectId + " of " + id + " does not match the SHA-256"
                    + " recorded in its block map.");
        }
        return object;
    }

    @Override
    public String importDisk(long sizeBytes, List<StoredBlock> blocks, Function<StoredBlock, byte[]> source,
                             DataKeyRing writeKeys) {
        checkSize(sizeBytes);
        long blockCount = (sizeBytes + BLOCK_BYTES - 1) / BLOCK_BYTES;
        Map<Long, BlockRef> refs = new HashMap<>();
        for (StoredBlock block : blocks) {
            if (block.index() < 0 || block.index() >= blockCount) {
                throw mismatch(block, "its index is outside the disk's " + blockCount + " blocks");
            }
            // named afresh: an imported object must never replace one another map refers to
            BlockRef ref = new BlockRef(BlockRef.blobKey(UUID.randomUUID()), block.sha256(), block.keyId());
            if (refs.put(block.index(), ref) != null) {
                throw mismatch(block, "the manifest names this block twice");
            }
        }
        List<String> names = refs.values().stream().map(BlockRef::blobKey).toList();
        metadata.registerObjects(names, now());
        String diskId = UUID.randomUUID().toString();
        try {
            for (StoredBlock block : blocks) {
                byte[] object = source.apply(block);
                checkImported(block, object);
                objects.blobs().put(refs.get(block.index()).blobKey(), object);
            }
            UUID writeKeyId = writeKeys.newKey(diskId);
            metadata.inTransaction(h -> {
                metadata.insertMap(h, new MapRow(diskId, Kind.DISK, sizeBytes, writeKeyId, null), now());
                metadata.applyChanges(h, diskId, refs);
                return null;
            });
        } catch (RuntimeException e) {
            reclaimer.discardQuietly(names);
            throw e;
        }
        return diskId;
    }

    /** The object is the one the manifest names: same SHA-256, a block object of that index under that key. */
    private static void checkImported(StoredBlock block, byte[] object) {
        if (object == null) {
            throw mismatch(block, "the object is missing");
        }
        if (block.sha256() == null || !MessageDigest.isEqual(BlockObjects.sha256(object), block.sha256())) {
            throw mismatch(block, "its SHA-256 differs from the manifest's (altered, truncated or another object)");
        }
        BlockFormat.Header header;
        try {
            header = BlockFormat.header(object);
        } catch (BlockIntegrityException e) {
            throw mismatch(block, e.getMessage());
        }
        if (header.blockIndex() != block.index() || !header.keyId().equals(block.keyId())) {
            throw mismatch(block, "the object holds block " + header.blockIndex() + " under key " + header.keyId()
                    + ", not block " + block.index() + " under key " + block.keyId());
        }
    }

    private static ArmException mismatch(StoredBlock block, String why) {
        return ArmException.badRequest("ManifestObjectMismatch", "Block " + block.index() + " (object "
                + block.objectId() + ") cannot be restored: " + why + ". Nothing was created; restore from an"
                + " intact copy of the recovery point.");
    }

    @Override
    public void delete(String id) {
        List<String> released;
        synchronized (open) {
            Shared shared = open.get(id);
            if (shared != null && shared.holders > 0) {
                throw ArmException.conflict("DiskInUse", "The disk " + id + " is open (attached or being "
                        + "uploaded); close it before deleting it.");
            }
            released = metadata.inTransaction(h -> {
                metadata.lockMap(h, id).orElseThrow(() -> notFound(id));
                return metadata.deleteMap(h, id);
            });
            open.remove(id); // idle, flushed: nothing of it is lost
        }
        reclaimer.reclaimQuietly(released);
    }

    @Override
    public int reclaim() {
        return reclaimer.sweep();
    }

    @Override
    public void close() {
        List<Shared> devices;
        synchronized (open) {
            devices = new ArrayList<>(open.values());
            open.clear();
        }
        RuntimeException failure = null;
        for (Shared shared : devices) {
            try {
                shared.device.flush();
            } catch (RuntimeException e) {
                // flush the other disks all the same; the first failure is the one reported
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        workers.shutdown();
        if (failure != null) {
            throw failure;
        }
    }

    private static void checkSize(long sizeBytes) {
        if (sizeBytes <= 0 || sizeBytes % SECTOR_BYTES != 0 || sizeBytes > MAX_SIZE_BYTES) {
            throw ArmException.badRequest("InvalidDiskSize", "The disk size " + sizeBytes + " is not valid: use a "
                    + "positive multiple of " + SECTOR_BYTES + " bytes up to " + MAX_SIZE_BYTES + " bytes.");
        }
    }

    private static void checkCopySize(MapRow source, long sizeBytes) {
        if (sizeBytes < source.sizeBytes()) {
            throw ArmException.badRequest("InvalidDiskSize", "A copy of " + source.id() + " needs at least its "
                    + source.sizeBytes() + " bytes; " + sizeBytes + " were asked for.");
        }
    }

    /**
     * Puts every write acknowledged to a disk into its block map: those buffered by its device, if open, and those
     * in its journal, which a device opened here replays.
     */
    private void settle(String diskId) {
        Shared shared;
        synchronized (open) {
            shared = open.get(diskId);
        }
        if (shared != null) {
            shared.device.flushToBlocks();
        } else if (journaledAndClosed(diskId)) {
            try (Handle handle = (Handle) open(diskId)) {
                handle.device.flushToBlocks();
            }
        }
    }

    private boolean journaledAndClosed(String diskId) {
        synchronized (open) {
            if (open.containsKey(diskId)) {
                return false;
            }
        }
        return metadata.hasJournal(diskId);
    }

    /**
     * After a restart: puts the journaled writes of every disk into its map. A disk that cannot be settled now (its
     * key is unavailable) keeps its journal, which its next open replays.
     */
    void settleJournals() {
        for (String diskId : metadata.journaledMaps()) {
            try {
                settle(diskId);
            } catch (RuntimeException e) {
                LOG.warn("the journaled writes of disk {} stay in its journal: {}", diskId, e.getMessage());
            }
        }
    }

    /**
     * A holder out flushes what it wrote without making it durable; the last one out leaves the device idle and, as
     * every holder did so, flushed. The least recently released idle devices beyond {@link #IDLE_DEVICES} are
     * forgotten, unless they have journaled writes, which their device keeps buffered until a flush maps them. A
     * flush failure keeps the device held so the data is not dropped.
     */
    private void release(WriteBackDevice device, boolean flush) {
        if (flush) {
            device.flush();
        }
        synchronized (open) {
            Shared shared = open.get(device.diskId());
            if (shared != null && shared.device == device && --shared.holders == 0) {
                open.remove(device.diskId()); // put back last: the order is that of release
                open.put(device.diskId(), shared);
                long idle = open.values().stream().filter(s -> s.holders == 0).count();
                for (Iterator<Shared> it = open.values().iterator(); idle > IDLE_DEVICES && it.hasNext(); ) {
                    Shared candidate = it.next();
                    if (candidate.holders == 0 && !candidate.device.hasJournal()) {
                        it.remove();
                        idle--;
                    }
                }
            }
        }
    }

    private long now() {
        return settings.wallClock().getAsLong();
    }

    private static ArmException notFound(String id) {
        return ArmException.notFound("DiskNotFound", "There is no disk or snapshot " + id + ".");
    }

    /** What callers hold: one per {@link #open} call, sharing the disk's write-back buffer. */
    private final class Handle implements BlockDevice {
        private final WriteBackDevice device;
        private volatile boolean closed;
        /**
         * Whether this holder wrote or trimmed without a flush since: only then does its close flush. A page upload
         * (one write with FUA) would otherwise also wait for the blocks other uploads are still sealing.
         */
        private volatile boolean unflushed;

        Handle(WriteBackDevice device) {
            this.device = device;
        }

        @Override
        public long size() {
            return device.size();
        }

        @Override
        public void read(long offset, byte[] target, int targetOffset, int length) {
            checkOpen();
            device.read(offset, target, targetOffset, length);
        }

        @Override
        public void transferTo(long offset, long length, OutputStream out) throws IOException {
            checkOpen();
            device.transferTo(offset, length, out);
        }

        @Override
        public void write(long offset, byte[] source, int sourceOffset, int length, boolean fua) {
            write(offset, source, sourceOffset, length, fua, false);
        }

        @Override
        public void writeOwned(long offset, byte[] source, boolean fua) {
            write(offset, source, 0, source.length, fua, true);
        }

        private void write(long offset, byte[] source, int sourceOffset, int length, boolean fua, boolean owned) {
            checkOpen();
            if (!fua) {
                unflushed = true; // before the write: a flush racing with it must not clear the mark after it
            }
            try {
                device.write(offset, source, sourceOffset, length, fua, owned);
            } catch (RuntimeException | Error e) {
                unflushed = true; // a FUA write whose flush failed stays buffered: the close tries it again
                throw e;
            }
        }

        @Override
        public void flush() {
            checkOpen();
            unflushed = false; // cleared first, for the same reason: a write after this point sets it again
            try {
                device.flush();
            } catch (RuntimeException | Error e) {
                unflushed = true;
                throw e;
            }
        }

        @Override
        public void trim(long offset, long length) {
            checkOpen();
            unflushed = true;
            device.trim(offset, length);
        }

        @Override
        public synchronized void close() {
            if (!closed) {
                release(device, unflushed);
                closed = true;
            }
        }

        private void checkOpen() {
            if (closed) {
                throw new IllegalStateException("the device of disk " + device.diskId() + " is closed");
            }
        }
    }
}
