package io.coffre.compute.disk;

import io.coffre.arm.ArmException;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.LongConsumer;
import java.util.stream.LongStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The write-back layer of one open disk. Writes land in per-block buffers ({@link DirtyBlock}), so the many small
 * writes an NBD client keeps in flight become one new object per block. A block that a write completes is sealed
 * at once on the workers (registered, encrypted and put, as below), so the encryption and the object's fsync of
 * many blocks overlap each other and the writes still arriving, instead of queueing behind one flush at a time.
 * A flush, requested or forced by a full buffer, turns the buffered blocks into objects and commits them:
 * <ol>
 *   <li>it waits for the seals under way; a block sealed and not changed since needs nothing more;</li>
 *   <li>blocks written only in part are completed from their stored content (read-modify-write, once per flush);</li>
 *   <li>the other new objects take names registered ahead ({@link ObjectNames}) and are encrypted and put, in
 *   parallel; each put is durable when it returns;</li>
 *   <li>one metadata transaction points the block map at all of them (all-zero blocks lose their entry);</li>
 *   <li>objects the map no longer refers to are reclaimed, if no snapshot or copy holds them.</li>
 * </ol>
 * A crash before step 4 commits leaves the previous map, whose objects are untouched: every block is old or new
 * as a whole, and every earlier flush is intact. One write is always buffered in one step, so a flush takes all of
 * it or none of it. A sealed object is only a candidate until a flush maps it: a later write to its block makes
 * it stale and it is discarded, as are the objects of a crash, which stay uncommitted. A write with FUA (every page
 * upload) commits only the blocks it wrote, with any others whose seals are ready: NBD asks no more of it. Blocks
 * that share a buffered write (one that crosses a block boundary) are committed together, so that a commit of
 * part of the blocks never leaves a write half durable.
 *
 * <p>A flush or FUA write does not rewrite a block written only in small part (a guest's fsync of a few KiB): it
 * <em>journals</em> it instead, adding an encrypted entry of the ranges changed since the block's last entry
 * ({@link DirtyBlock#journalRecord}) in the same metadata transaction, and the block stays buffered. Such blocks go
 * into the map, their entries deleted in the same transaction, when their entries would exceed
 * {@link #JOURNAL_BYTES_PER_BLOCK}, when the buffer is full, or when a caller needs the map itself
 * ({@link #flushToBlocks}: a snapshot, a copy, an export). A device opened on a disk with entries starts with them
 * replayed into its buffer, so a restart loses no journaled write.
 *
 * <p>Layers, newest first: the blocks being written ({@code dirty}), those being flushed ({@code flushing}), the
 * stored map. Reads merge them; a read that needs a stored block decrypts it outside the lock and retries if a
 * flush committed meanwhile.
 */
final class WriteBackDevice {
    private static final Logger LOG = LoggerFactory.getLogger(WriteBackDevice.class);

    private final String diskId;
    private final long size;
    private final UUID writeKeyId;
    private final DiskMetadata metadata;
    private final BlockObjects objects;
    private final ObjectNames names;
    private final Reclaimer reclaimer;
    private final ExecutorService workers;
    private final long bufferBudget;
    /**
     * What the journal entries of one block may hold in all: a flush that would go past it rewrites the block whole,
     * which then costs about as much as journaling and leaves no entry behind.
     */
    static final int JOURNAL_BYTES_PER_BLOCK = 256 << 10;

    /** Guards the three layers and the counters below. */
    private final Object lock = new Object();
    private Map<Long, DirtyBlock> dirty = new HashMap<>();
    private Map<Long, DirtyBlock> flushing = Map.of();
    private final Map<Long, BlockRef> stored;
    private long storedVersion;
    private long bufferedBytes;
    /** Buffered blocks that have journal entries: how many, and their records' bytes in all. */
    private final Map<Long, JournalUse> journaled = new HashMap<>();

    private record JournalUse(int entries, int bytes) {
        static final JournalUse NONE = new JournalUse(0, 0);

        JournalUse plus(int recordBytes) {
            return new JournalUse(entries + 1, bytes + recordBytes);
        }
    }

    /** One flush at a time; it alone changes {@code stored}. */
    private final ReentrantLock flushLock = new ReentrantLock();
    /** Writes hold it shared; a crash-consistent snapshot holds it exclusively to stop time on this disk. */
    private final ReentrantReadWriteLock writeGate = new ReentrantReadWriteLock();

    WriteBackDevice(String diskId, long size, UUID writeKeyId, Map<Long, BlockRef> stored, DiskMetadata metadata,
                    BlockObjects objects, ObjectNames names, Reclaimer reclaimer, ExecutorService workers,
                    long bufferBudget, Map<Long, List<byte[]>> journalRecords) {
        this.diskId = diskId;
        this.size = size;
        this.writeKeyId = writeKeyId;
        this.stored = new HashMap<>(stored);
        this.metadata = metadata;
        this.objects = objects;
        this.names = names;
        this.reclaimer = reclaimer;
        this.workers = workers;
        this.bufferBudget = bufferBudget;
        journalRecords.forEach((index, records) -> {
            if (index < 0 || index * BlockFormat.BLOCK_BYTES >= size) {
                throw new BlockIntegrityException("The journal of disk " + diskId + " has entries for block " + index
                        + ", outside the disk.");
            }
            dirty.put(index, DirtyBlock.fromJournal(blockLength(index), records));
            journaled.put(index, new JournalUse(records.size(), records.stream().mapToInt(r -> r.length).sum()));
        });
        recountBuffered();
    }

    String diskId() {
        return diskId;
    }

    long size() {
        return size;
    }

    void read(long offset, byte[] target, int targetOffset, int length) {
        Objects.checkFromIndexSize(targetOffset, length, target.length);
        checkRange(offset, length);
        requireKey();
        forEachPiece(offset, length, (index, blockOffset, position, n) ->
                readPiece(index, blockOffset, target, targetOffset + (int) position, n));
    }

    /**
     * As {@link BlockDevice#transferTo}: a piece of a stored block with nothing buffered over it goes out straight
     * from the block's verified plaintext (immutable once read, so it needs no lock while it is written out); any
     * other piece is merged into a buffer as {@link #read} merges it. The range goes out a block's length at a time,
     * every piece of which is read before any is written: a read that fails within the first block's length fails
     * before anything was sent, as a read into a buffer of that size would.
     */
    void transferTo(long offset, long length, OutputStream out) throws IOException {
        checkRange(offset, length);
        requireKey();
        byte[][] merged = {null}; // allocated on the first piece that needs it
        List<Piece> pieces = new ArrayList<>(2);
        for (long window = 0; window < length; window += BlockFormat.BLOCK_BYTES) {
            pieces.clear();
            forEachPiece(offset + window, Math.min(BlockFormat.BLOCK_BYTES, length - window),
                    (index, blockOffset, position, n) -> {
                        byte[] stored = unbufferedPlaintext(index);
                        if (stored != null && stored.length >= blockOffset + n) {
                            pieces.add(new Piece(stored, blockOffset, n));
                            return;
                        }
                        if (merged[0] == null) {
                            merged[0] = new byte[(int) Math.min(length, BlockFormat.BLOCK_BYTES)];
                        }
                        readPiece(index, blockOffset, merged[0], (int) position, n);
                        pieces.add(new Piece(merged[0], (int) position, n));
                    });
            for (Piece piece : pieces) {
                out.write(piece.array(), piece.offset(), piece.length());
            }
        }
    }

    private record Piece(byte[] array, int offset, int length) {
    }

    /**
     * A read served from the buffer (journaled writes stay there for a while) asks the key ring as a read of a stored
     * block does, so that a key disabled upstream stops every read of the disk at once.
     */
    private void requireKey() {
        objects.requireKey(writeKeyId, diskId);
    }

    /** The plaintext of stored block {@code index} as the map has it now, or null if any of it is buffered. */
    private byte[] unbufferedPlaintext(long index) {
        while (true) {
            BlockRef ref;
            long version;
            synchronized (lock) {
                ref = stored.get(index);
                if (ref == null || dirty.containsKey(index) || flushing.containsKey(index)) {
                    return null;
                }
                version = storedVersion;
            }
            byte[] plaintext = objects.read(diskId, index, ref);
            synchronized (lock) {
                if (version == storedVersion) {
                    return dirty.containsKey(index) || flushing.containsKey(index) ? null : plaintext;
                }
            }
        }
    }

    /** @param owned whether the caller hands {@code source} over: a whole block's array is then kept, not copied */
    void write(long offset, byte[] source, int sourceOffset, int length, boolean fua, boolean owned) {
        Objects.checkFromIndexSize(sourceOffset, length, source.length);
        checkRange(offset, length);
        List<Sealing> completed = new ArrayList<>();
        List<String> stale = new ArrayList<>();
        writeGate.readLock().lock();
        try {
            while (!tryBuffer(offset, source, sourceOffset, length, owned, completed, stale)) {
                flushToBlocks(); // a journaled block stays buffered: only the map frees the buffer
            }
        } finally {
            writeGate.readLock().unlock();
            // even after a failure part-way, a block marked for sealing must be sealed or released, or flushes wait
            completed.forEach(this::sealAhead);
        }
        discard(stale);
        if (fua) {
            flushRange(offset, length);
        }
    }

    void trim(long offset, long length) {
        checkRange(offset, length);
        List<String> stale = new ArrayList<>();
        writeGate.readLock().lock();
        try {
            synchronized (lock) {
                forEachPiece(offset, length, (index, blockOffset, position, n) -> {
                    int blockLength = blockLength(index);
                    if (n < blockLength) {
                        DirtyBlock block = dirty.computeIfAbsent(index, i -> new DirtyBlock(blockLength));
                        dropSeal(block, stale);
                        block.zero(blockOffset, n);
                    } else if (stored.containsKey(index) || flushing.containsKey(index) || dirty.containsKey(index)) {
                        DirtyBlock zeroed = new DirtyBlock(blockLength);
                        zeroed.zero(0, blockLength);
                        DirtyBlock replaced = dirty.put(index, zeroed);
                        if (replaced != null) {
                            if (replaced.joinedToNext()) {
                                zeroed.joinNext(); // the write it joined to the next block still counts
                            }
                            dropSeal(replaced, stale);
                            bufferedBytes -= replaced.allocatedBytes();
                        }
                    } // else: a whole block that is zero already (a full-disk discard must not fill the buffer)
                });
            }
        } finally {
            writeGate.readLock().unlock();
        }
        discard(stale);
    }

    /** Makes every write acknowledged so far durable; blocks written in small part go to the journal. */
    void flush() {
        flush(true);
    }

    /** Makes every write acknowledged so far part of the block map, and leaves the disk's journal empty. */
    void flushToBlocks() {
        flush(false);
    }

    /** Whether some of this disk's durable writes are in its journal, not yet in its block map. */
    boolean hasJournal() {
        synchronized (lock) {
            return !journaled.isEmpty();
        }
    }

    private void flush(boolean journalSmallWrites) {
        flushLock.lock();
        try {
            Map<Long, DirtyBlock> batch;
            synchronized (lock) {
                if (journalSmallWrites ? dirty.values().stream().allMatch(DirtyBlock::isJournaled) : dirty.isEmpty()) {
                    return;
                }
                batch = dirty;
                flushing = batch;
                dirty = new HashMap<>();
            }
            persist(batch, journalSmallWrites);
        } finally {
            flushLock.unlock();
        }
    }

    /**
     * Makes the writes to {@code [offset, offset + length)} durable, with the blocks that share a buffered write with
     * the range's (which may be partial and so read, completed and encrypted here), and with them every other run of
     * joined blocks whose seals are all ready. Unlike {@link #flush} it waits only for the seals of the blocks it
     * commits, and for the range's own before it takes the flush lock: concurrent page uploads each commit their block
     * as soon as it is sealed, instead of each waiting for the seals of blocks that other uploads completed a moment
     * later.
     */
    private void flushRange(long offset, long length) {
        if (length == 0) {
            return;
        }
        long first = offset / BlockFormat.BLOCK_BYTES;
        long last = (offset + length - 1) / BlockFormat.BLOCK_BYTES;
        awaitSealing(first, last);
        flushLock.lock();
        try {
            Map<Long, DirtyBlock> batch = new HashMap<>();
            synchronized (lock) {
                Set<Long> chosen = new HashSet<>();
                for (long index = first; index <= last; index++) {
                    if (dirty.containsKey(index)) {
                        chosen.addAll(joinedRun(index));
                    }
                }
                for (long index : dirty.keySet()) {
                    if (!chosen.contains(index)) {
                        List<Long> run = joinedRun(index);
                        if (run.stream().allMatch(i -> dirty.get(i).hasReadySeal())) {
                            chosen.addAll(run);
                        }
                    }
                }
                chosen.forEach(index -> batch.put(index, dirty.remove(index)));
                if (batch.isEmpty()) {
                    return; // another flush committed the range meanwhile
                }
                flushing = batch;
            }
            persist(batch, true);
        } finally {
            flushLock.unlock();
        }
    }

    /**
     * Buffered block {@code index} and those that share a buffered write with it, transitively: a run of adjacent
     * blocks that a flush commits together, so that no write is left half committed.
     */
    private List<Long> joinedRun(long index) {
        long low = index;
        for (DirtyBlock before; (before = dirty.get(low - 1)) != null && before.joinedToNext(); ) {
            low--;
        }
        long high = index;
        while (dirty.get(high).joinedToNext() && dirty.containsKey(high + 1)) {
            high++;
        }
        return LongStream.rangeClosed(low, high).boxed().toList();
    }

    /** Waits until no buffered block with an index in {@code [first, last]} is being sealed. */
    private void awaitSealing(long first, long last) {
        synchronized (lock) {
            for (long index = first; index <= last; index++) {
                DirtyBlock block;
                while ((block = dirty.get(index)) != null && block.isSealing()) {
                    waitForSeal();
                }
            }
        }
    }

    /** Stops writes to this disk and flushes it into its map; the caller must {@link #resumeWrites} on this thread. */
    void pauseWritesAndFlush() {
        writeGate.writeLock().lock();
        try {
            flushToBlocks();
        } catch (RuntimeException | Error e) {
            writeGate.writeLock().unlock();
            throw e;
        }
    }

    void resumeWrites() {
        writeGate.writeLock().unlock();
    }

    /**
     * Buffers the whole write in one step, or returns false if the buffer must be flushed to make room. Blocks it
     * completes go to {@code completed} (to be sealed), objects it makes stale to {@code stale}.
     */
    private boolean tryBuffer(long offset, byte[] source, int sourceOffset, int length, boolean owned,
                              List<Sealing> completed, List<String> stale) {
        synchronized (lock) {
            long[] needed = {0};
            forEachPiece(offset, length, (index, blockOffset, position, n) -> {
                DirtyBlock block = dirty.get(index);
                if (block == null || block.allocatedBytes() == 0) {
                    needed[0] += blockLength(index);
                }
            });
            // an empty buffer takes any write, so a write larger than the budget still makes progress
            if (bufferedBytes > 0 && bufferedBytes + needed[0] > bufferBudget) {
                return false;
            }
            forEachPiece(offset, length, (index, blockOffset, position, n) -> {
                DirtyBlock block = dirty.computeIfAbsent(index, i -> new DirtyBlock(blockLength(i)));
                int before = block.allocatedBytes();
                boolean wasComplete = block.isComplete();
                dropSeal(block, stale);
                if (owned && sourceOffset == 0 && n == source.length && n == block.length()) {
                    block.adopt(source); // the source is exactly this block
                } else {
                    block.write(blockOffset, source, sourceOffset + (int) position, n);
                }
                bufferedBytes += block.allocatedBytes() - before;
                if (position + n < length) {
                    block.joinNext();
                }
                // sealed once, when it completes: a block rewritten in place is left to the flush
                if (!wasComplete && block.isComplete() && block.buffer() != null) {
                    block.startSealing();
                    completed.add(new Sealing(index, block, block.modifications()));
                }
            });
            return true;
        }
    }

    private void readPiece(long index, int blockOffset, byte[] target, int targetOffset, int n) {
        while (true) {
            BlockRef ref;
            long version;
            synchronized (lock) {
                DirtyBlock newest = dirty.get(index);
                DirtyBlock older = flushing.get(index);
                ref = stored.get(index);
                boolean buffered = newest != null && newest.covers(blockOffset, n)
                        || older != null && older.covers(blockOffset, n);
                if (ref == null || buffered) {
                    Arrays.fill(target, targetOffset, targetOffset + n, (byte) 0);
                    overlayBuffered(index, blockOffset, target, targetOffset, n);
                    return;
                }
                version = storedVersion;
            }
            byte[] base = objects.read(diskId, index, ref);
            synchronized (lock) {
                if (version != storedVersion) {
                    continue; // a flush committed while we decrypted: start over from the new map
                }
                int fromBase = Math.max(0, Math.min(n, base.length - blockOffset));
                System.arraycopy(base, blockOffset, target, targetOffset, fromBase);
                Arrays.fill(target, targetOffset + fromBase, targetOffset + n, (byte) 0);
                overlayBuffered(index, blockOffset, target, targetOffset, n);
                return;
            }
        }
    }

    private void overlayBuffered(long index, int blockOffset, byte[] target, int targetOffset, int n) {
        DirtyBlock older = flushing.get(index);
        if (older != null) {
            older.overlay(blockOffset, target, targetOffset, n);
        }
        DirtyBlock newest = dirty.get(index);
        if (newest != null) {
            newest.overlay(blockOffset, target, targetOffset, n);
        }
    }

    /**
     * Writes a batch into the map, except, if {@code journalSmallWrites}, its blocks written in small part, which are
     * journaled and then buffered again. One transaction commits both and deletes the entries of the mapped blocks.
     */
    private void persist(Map<Long, DirtyBlock> batch, boolean journalSmallWrites) {
        List<String> written = new ArrayList<>();
        Map<Long, BlockRef> changes = new HashMap<>();
        Map<Long, DirtyBlock> kept = new HashMap<>();
        Map<Long, DirtyBlock> toMap = new HashMap<>(batch);
        Set<Long> entriesToDelete = new HashSet<>(); // of the blocks that go into the map
        Map<Long, JournalUse> used = new HashMap<>();
        synchronized (lock) {
            if (journalSmallWrites) {
                batch.forEach((index, block) -> {
                    JournalUse use = journaled.getOrDefault(index, JournalUse.NONE);
                    if (!block.isComplete()
                            && use.bytes() + block.journalRecordLength() <= JOURNAL_BYTES_PER_BLOCK) {
                        kept.put(index, block);
                        used.put(index, use);
                    }
                });
                toMap.keySet().removeAll(kept.keySet());
            }
            toMap.keySet().stream().filter(journaled::containsKey).forEach(entriesToDelete::add);
        }
        Map<Long, Integer> addedBytes = new HashMap<>();
        try {
            // writers never touch a block being flushed, so a kept block's changes stay what they are journaled as
            Map<Long, DiskMetadata.JournalEntry> entries = new HashMap<>();
            kept.forEach((index, block) -> {
                if (!block.isJournaled()) {
                    byte[] record = block.journalRecord();
                    int seq = used.get(index).entries();
                    entries.put(index, new DiskMetadata.JournalEntry(seq,
                            objects.sealJournal(writeKeyId, index, seq, record)));
                    addedBytes.put(index, record.length);
                }
            });
            Map<Long, BlockRef> sealed = awaitSeals(toMap);
            List<Long> unsealed = new ArrayList<>(toMap.keySet());
            unsealed.removeAll(sealed.keySet());
            Map<Long, byte[]> contents = new ConcurrentHashMap<>();
            inParallel(unsealed, index -> {
                byte[] content = complete(index, toMap.get(index));
                if (content != null) {
                    contents.put(index, content);
                }
            });
            for (long index : unsealed) {
                if (!contents.containsKey(index) && stored.containsKey(index)) {
                    changes.put(index, null); // zeroed: the entry goes, the block is sparse again
                }
            }
            // names registered ahead, as seals take them: a flush of a few partial blocks commits only its map
            Map<Long, UUID> writeIds = new HashMap<>();
            Iterator<ObjectNames.Name> taken = names.take(contents.size()).iterator();
            for (long index : contents.keySet()) {
                ObjectNames.Name name = taken.next();
                writeIds.put(index, name.writeId());
                written.add(name.blobKey());
            }
            Map<Long, BlockRef> refs = new ConcurrentHashMap<>();
            inParallel(writeIds.keySet(), index -> refs.put(index, objects.put(writeKeyId, writeIds.get(index), index,
                    contents.get(index), toMap.get(index).length())));
            changes.putAll(refs);
            changes.putAll(sealed);
            if (!changes.isEmpty() || !entries.isEmpty() || !entriesToDelete.isEmpty()) {
                metadata.inTransaction(h -> {
                    if (metadata.lockMap(h, diskId).isEmpty()) {
                        throw ArmException.notFound("DiskNotFound", "The disk " + diskId + " was deleted while "
                                + "open; its unflushed writes are lost.");
                    }
                    metadata.applyChanges(h, diskId, changes);
                    metadata.updateJournal(h, diskId, entries, entriesToDelete);
                    return null;
                });
            }
        } catch (RuntimeException | Error e) {
            synchronized (lock) {
                for (Map.Entry<Long, DirtyBlock> block : batch.entrySet()) {
                    // the commit may have raced a sweep: the seals go too, and the next flush writes afresh
                    dropSeal(block.getValue(), written);
                    DirtyBlock newer = dirty.putIfAbsent(block.getKey(), block.getValue());
                    if (newer != null) {
                        dropSeal(newer, written);
                        newer.underlay(block.getValue());
                    }
                }
                flushing = Map.of();
                recountBuffered();
            }
            reclaimer.discardQuietly(written);
            throw e;
        }
        List<String> replaced = new ArrayList<>();
        synchronized (lock) {
            for (Map.Entry<Long, BlockRef> change : changes.entrySet()) {
                BlockRef old = change.getValue() == null ? stored.remove(change.getKey())
                        : stored.put(change.getKey(), change.getValue());
                if (old != null) {
                    replaced.add(old.blobKey());
                }
            }
            storedVersion++;
            journaled.keySet().removeAll(entriesToDelete);
            addedBytes.forEach((index, bytes) -> journaled.put(index, used.get(index).plus(bytes)));
            kept.forEach((index, block) -> {
                block.markJournaled();
                DirtyBlock newer = dirty.putIfAbsent(index, block);
                if (newer != null) {
                    newer.underlay(block); // written meanwhile: the next flush journals those changes
                }
            });
            flushing = Map.of();
            recountBuffered();
        }
        reclaimer.reclaimQuietly(replaced);
    }

    /** A block that a write completed, and its modification count then: a seal of any other state is stale. */
    private record Sealing(long index, DirtyBlock block, int modifications) {
    }

    /** Seals a completed block on the workers, or leaves it to the flush if they take no more work. */
    private void sealAhead(Sealing sealing) {
        try {
            workers.execute(() -> seal(sealing));
        } catch (RejectedExecutionException e) {
            endSealing(sealing, null, 0);
        }
    }

    /**
     * Registers, encrypts and puts a block's content as a write completed it. The buffer is read outside the lock:
     * a write racing with this one changes the modification count, and then the object is discarded.
     */
    private void seal(Sealing sealing) {
        DirtyBlock block = sealing.block();
        long registeredAt = 0;
        BlockRef ref = null;
        String key = null;
        try {
            byte[] content = block.buffer();
            if (!DirtyBlock.isZero(content, 0, block.length())) {
                ObjectNames.Name name = names.take();
                key = name.blobKey();
                registeredAt = name.registeredAt();
                ref = objects.put(writeKeyId, name.writeId(), sealing.index(), content, block.length());
            }
        } catch (RuntimeException e) {
            // nothing is lost: the flush writes the block itself and reports what fails then
            LOG.debug("sealing block {} of {} ahead of the flush failed: {}", sealing.index(), diskId, e.toString());
        } finally {
            if (!endSealing(sealing, ref, registeredAt) && key != null) {
                discard(List.of(key));
            }
        }
    }

    /** @return whether {@code ref} was kept as the block's seal */
    private boolean endSealing(Sealing sealing, BlockRef ref, long registeredAt) {
        synchronized (lock) {
            DirtyBlock block = sealing.block();
            boolean current = ref != null && block.modifications() == sealing.modifications()
                    && (dirty.get(sealing.index()) == block || flushing.get(sealing.index()) == block);
            block.endSealing(current ? ref : null, registeredAt);
            lock.notifyAll();
            return current;
        }
    }

    /**
     * Waits until no block of the batch is being sealed; returns the seals the flush can map as they are. A seal
     * registered long ago is dropped, so that a commit never races the sweep of abandoned objects.
     */
    private Map<Long, BlockRef> awaitSeals(Map<Long, DirtyBlock> batch) {
        Map<Long, BlockRef> sealed = new HashMap<>();
        List<String> old = new ArrayList<>();
        long trustedSince = reclaimer.trustedSince();
        synchronized (lock) {
            for (Map.Entry<Long, DirtyBlock> entry : batch.entrySet()) {
                DirtyBlock block = entry.getValue();
                while (block.isSealing()) {
                    waitForSeal();
                }
                if (block.seal() != null && block.sealRegisteredAt() < trustedSince) {
                    dropSeal(block, old);
                } else if (block.seal() != null) {
                    sealed.put(entry.getKey(), block.seal());
                }
            }
        }
        discard(old);
        return sealed;
    }

    /** Waits, holding {@code lock}, until a seal ends (every seal ends with a notify on it). */
    private void waitForSeal() {
        try {
            lock.wait();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("flush of disk " + diskId + " interrupted", e);
        }
    }

    /** Before a block changes: the object sealed from its old content is stale. */
    private static void dropSeal(DirtyBlock block, List<String> stale) {
        BlockRef dropped = block.unseal();
        if (dropped != null) {
            stale.add(dropped.blobKey());
        }
    }

    private void discard(List<String> keys) {
        if (!keys.isEmpty()) {
            reclaimer.discardQuietly(keys);
        }
    }

    /**
     * Read-modify-write of a block written in part (the rest comes from its stored content, read once), then its
     * content: {@code null} when all zero. Writers never touch a block being flushed, so only this thread changes it.
     */
    private byte[] complete(long index, DirtyBlock block) {
        BlockRef ref;
        synchronized (lock) {
            ref = block.isComplete() ? null : stored.get(index);
            if (ref == null) {
                block.completeFrom(null);
            }
        }
        if (ref != null) {
            // only this flush changes the stored map, so the content read here stays current
            byte[] base = objects.read(diskId, index, ref);
            synchronized (lock) {
                block.completeFrom(base);
                recountBuffered();
            }
        }
        return block.content();
    }

    private void recountBuffered() {
        long total = 0;
        for (DirtyBlock block : dirty.values()) {
            total += block.allocatedBytes();
        }
        for (DirtyBlock block : flushing.values()) {
            total += block.allocatedBytes();
        }
        bufferedBytes = total;
    }

    /** Runs a task per block on the workers and waits for all of them; the first failure is rethrown. */
    private void inParallel(Collection<Long> indices, LongConsumer task) {
        List<Future<?>> running = new ArrayList<>();
        for (long index : indices) {
            running.add(workers.submit(() -> task.accept(index)));
        }
        Throwable failure = null;
        for (Future<?> future : running) {
            try {
                future.get();
            } catch (ExecutionException e) {
                failure = failure == null ? e.getCause() : failure;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                failure = failure == null ? e : failure;
            }
        }
        if (failure instanceof RuntimeException runtime) {
            throw runtime;
        }
        if (failure instanceof Error error) {
            throw error;
        }
        if (failure != null) {
            throw new IllegalStateException("flush of disk " + diskId + " interrupted", failure);
        }
    }

    private void checkRange(long offset, long length) {
        if (offset < 0 || length < 0 || offset > size || length > size - offset) {
            throw ArmException.badRequest("InvalidRange", "The range of " + length + " bytes at offset " + offset
                    + " is outside the disk, which has " + size + " bytes. Use offsets and lengths within it.");
        }
    }

    private int blockLength(long index) {
        return (int) Math.min(BlockFormat.BLOCK_BYTES, size - index * BlockFormat.BLOCK_BYTES);
    }

    private interface PieceAction {
        void accept(long index, int blockOffset, long position, int n);
    }

    /** Splits {@code [offset, offset + length)} at block boundaries; {@code position} is relative to offset. */
    private static void forEachPiece(long offset, long length, PieceAction action) {
        long position = 0;
        while (position < length) {
            long at = offset + position;
            long index = at / BlockFormat.BLOCK_BYTES;
            int blockOffset = (int) (at % BlockFormat.BLOCK_BYTES);
            int n = (int) Math.min(length - position, BlockFormat.BLOCK_BYTES - blockOffset);
            action.accept(index, blockOffset, position, n);
            position += n;
        }
    }
}
