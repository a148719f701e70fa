package io.coffre.compute.disk;

import static io.coffre.compute.disk.BlockFormat.BLOCK_BYTES;
import static io.coffre.compute.disk.DiskStoreTest.pattern;
import static io.coffre.compute.disk.DiskStoreTest.read;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

class WriteBackTest {
    private static final int NBD_WRITE = 256 << 10;

    @TempDir
    Path dir;
    private DiskFixture fixture;

    @AfterEach
    void closeFixture() {
        fixture.close();
    }

    @Test
    void manySmallWritesInFlightBecomeOneObjectPerBlock() throws Exception {
        String disk = diskOfBlocks(8);
        byte[] image = pattern(30, 8 * BLOCK_BYTES);
        List<Integer> offsets = new ArrayList<>();
        for (int offset = 0; offset < image.length; offset += NBD_WRITE) {
            offsets.add(offset);
        }
        Collections.shuffle(offsets, new Random(30));
        ExecutorService clients = Executors.newFixedThreadPool(16);
        try (BlockDevice device = fixture.store.open(disk)) {
            List<Future<?>> inFlight = new ArrayList<>();
            for (int offset : offsets) {
                inFlight.add(clients.submit(() -> device.write(offset, image, offset, NBD_WRITE, false)));
            }
            for (Future<?> write : inFlight) {
                write.get();
            }
            device.flush();
            assertThat(fixture.blobs.puts).as("one object per block, not per write").hasValue(8);
        } finally {
            clients.shutdown();
        }
        assertThat(readThroughAnotherStore(disk, 0, image.length)).isEqualTo(image);
    }

    @Test
    void aCompletedBlockIsSealedBeforeTheFlushWhichOnlyMapsIt() throws Exception {
        String disk = diskOfBlocks(3);
        byte[] image = pattern(35, 3 * BLOCK_BYTES);
        try (BlockDevice device = fixture.store.open(disk)) {
            device.write(0, image, 0, 2 * BLOCK_BYTES, false);
            device.write(2L * BLOCK_BYTES, image, 2 * BLOCK_BYTES, BLOCK_BYTES / 2, false);
            awaitPuts(2);
            assertThat(readThroughAnotherStore(disk, 0, BLOCK_BYTES)).as("sealed is not committed").containsOnly(0);
            device.write(2L * BLOCK_BYTES + BLOCK_BYTES / 2, image, 2 * BLOCK_BYTES + BLOCK_BYTES / 2,
                    BLOCK_BYTES / 2, false);
            device.flush();
            assertThat(fixture.blobs.puts).as("each block encrypted once, before or by the flush").hasValue(3);
        }
        assertThat(readThroughAnotherStore(disk, 0, image.length)).isEqualTo(image);
    }

    @Test
    void aBlockChangedAfterItWasSealedLeavesNoStaleObject() throws Exception {
        String disk = diskOfBlocks(2);
        byte[] expected = pattern(36, 2 * BLOCK_BYTES);
        byte[] patch = pattern(37, 4096);
        try (BlockDevice device = fixture.store.open(disk)) {
            device.write(0, expected, 0, expected.length, false);
            awaitPuts(2);
            device.write(8192, patch, 0, patch.length, false);
            System.arraycopy(patch, 0, expected, 8192, patch.length);
            device.trim(BLOCK_BYTES, BLOCK_BYTES);
            Arrays.fill(expected, BLOCK_BYTES, 2 * BLOCK_BYTES, (byte) 0);
            device.flush();
        }
        assertThat(readThroughAnotherStore(disk, 0, expected.length)).isEqualTo(expected);
        assertThat(fixture.blockFiles()).as("only the rewritten first block is stored").hasSize(1);
    }

    @Test
    void aSealTooCloseToTheAbandonedObjectSweepIsWrittenAfresh() throws Exception {
        String disk = diskOfBlocks(1);
        byte[] block = pattern(38, BLOCK_BYTES);
        try (BlockDevice device = fixture.store.open(disk)) {
            device.write(0, block, 0, BLOCK_BYTES, false);
            awaitPuts(1);
            fixture.wallClock.addAndGet(DefaultDiskStore.DEFAULTS.uncommittedGraceMillis() / 2 + 1);
            device.flush();
            assertThat(fixture.blobs.puts).as("the old seal is not mapped").hasValue(2);
        }
        assertThat(readThroughAnotherStore(disk, 0, BLOCK_BYTES)).isEqualTo(block);
        assertThat(fixture.blockFiles()).hasSize(1);
    }

    /**
     * Each thread owns its blocks and writes them whole and in part while their seals run and a flusher commits;
     * the end state must be every thread's model, with exactly one object per non-zero block.
     */
    @Test
    @Timeout(120)
    void sealsRacingWritesAndFlushesLoseNothingAndLeaveNothingBehind() throws Exception {
        fixture = new DiskFixture(dir, new TestKeyRing(), 6L * BLOCK_BYTES);
        int threads = 4;
        int blocksEach = 3;
        long size = (long) threads * blocksEach * BLOCK_BYTES;
        String disk = fixture.store.create(size, DiskSource.empty());
        byte[] model = new byte[(int) size];
        ExecutorService pool = Executors.newFixedThreadPool(threads + 1);
        try (BlockDevice device = fixture.store.open(disk)) {
            List<Future<?>> running = startOwners(pool, threads, owner -> {
                Random random = new Random(40 + owner);
                for (int op = 0; op < 30; op++) {
                    long block = owner + (long) threads * random.nextInt(blocksEach);
                    int from = random.nextInt(3) == 0 ? 0 : random.nextInt(BLOCK_BYTES);
                    int n = from == 0 && random.nextBoolean() ? BLOCK_BYTES : 1 + random.nextInt(BLOCK_BYTES - from);
                    int at = (int) (block * BLOCK_BYTES) + from;
                    if (random.nextInt(8) == 0) {
                        device.trim(at, n);
                        Arrays.fill(model, at, at + n, (byte) 0);
                    } else {
                        byte[] data = pattern(random.nextLong(), n);
                        device.write(at, data, 0, n, false);
                        System.arraycopy(data, 0, model, at, n);
                    }
                }
            });
            awaitWithFlusher(pool, device, running, 20);
            device.flush();
        } finally {
            pool.shutdownNow();
        }
        assertThat(readThroughAnotherStore(disk, 0, (int) size)).isEqualTo(model);
        int nonZeroBlocks = 0;
        for (int b = 0; b < size / BLOCK_BYTES; b++) {
            if (!DirtyBlock.isZero(model, b * BLOCK_BYTES, BLOCK_BYTES)) {
                nonZeroBlocks++;
            }
        }
        assertThat(fixture.blockFiles()).as("one object per non-zero block, no stale seal left").hasSize(nonZeroBlocks);
    }

    private interface OwnerWork {
        void run(int owner) throws Exception;
    }

    /** Runs {@code work} for owners 0 to {@code threads - 1}, each on its own thread of the pool. */
    private static List<Future<?>> startOwners(ExecutorService pool, int threads, OwnerWork work) {
        List<Future<?>> running = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int owner = t;
            running.add(pool.submit(() -> {
                work.run(owner);
                return null;
            }));
        }
        return running;
    }

    /** A new empty disk of that many blocks, on a fixture with the production buffer size. */
    private String diskOfBlocks(int blocks) {
        fixture = new DiskFixture(dir);
        return fixture.store.create((long) blocks * BLOCK_BYTES, DiskSource.empty());
    }

    /** Flushes every {@code pauseMillis} on the pool while the writers run, until they are all done. */
    private static void awaitWithFlusher(ExecutorService pool, BlockDevice device, List<Future<?>> writers,
                                         long pauseMillis) throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        Future<?> flusher = pool.submit(() -> {
            while (!stop.get()) {
                device.flush();
                Thread.sleep(pauseMillis);
            }
            return null;
        });
        try {
            for (Future<?> writer : writers) {
                writer.get(100, TimeUnit.SECONDS);
            }
        } finally {
            stop.set(true);
        }
        flusher.get();
    }

    /** Seals run on the workers, after the write returns. */
    private void awaitPuts(int expected) throws InterruptedException {
        for (int waited = 0; fixture.blobs.puts.get() < expected && waited < 10_000; waited += 10) {
            Thread.sleep(10);
        }
        assertThat(fixture.blobs.puts).hasValue(expected);
    }

    @Test
    void aBlockWrittenInPartIsReadOnceAndRewrittenOnce() {
        byte[] expected = pattern(31, BLOCK_BYTES);
        String disk = diskWithBlock0InANewProcess(expected);
        int getsBefore = fixture.blobs.gets.get();
        int putsBefore = fixture.blobs.puts.get();
        int patchBytes = WriteBackDevice.JOURNAL_BYTES_PER_BLOCK / 2; // three of them: too much for the journal
        try (BlockDevice device = fixture.store.open(disk)) {
            for (int offset : new int[] {512, 1 << 20, BLOCK_BYTES - patchBytes}) {
                writePatch(device, expected, offset, patchBytes);
            }
            device.flush();
        }
        assertThat(fixture.blobs.gets.get() - getsBefore).as("stored block read once").isEqualTo(1);
        assertThat(fixture.blobs.puts.get() - putsBefore).as("block rewritten once").isEqualTo(1);
        assertThat(journalEntries(disk)).isZero();
        assertThat(readThroughAnotherStore(disk, 0, BLOCK_BYTES)).isEqualTo(expected);
    }

    /**
     * A guest's fsync of a few KiB: the flush journals the block's small writes (one metadata commit, no 4 MiB
     * read-modify-write), another process sees them, and the block is rewritten once, when the map is needed.
     */
    @Test
    void smallWritesToAStoredBlockAreJournaledAndRewrittenOnceWhenTheMapIsNeeded() {
        byte[] expected = pattern(36, BLOCK_BYTES);
        String disk = diskWithBlock0InANewProcess(expected);
        int getsBefore = fixture.blobs.gets.get();
        int putsBefore = fixture.blobs.puts.get();
        try (BlockDevice device = fixture.store.open(disk)) {
            int[] offsets = {512, 70_000, BLOCK_BYTES - 4096};
            for (int i = 0; i < offsets.length; i++) {
                writePatch(device, expected, offsets[i], 4096);
                device.flush();
                assertThat(journalEntries(disk)).as("an entry per flush").isEqualTo(i + 1);
                assertThat(journalBytes(disk)).as("each holds only its flush's write").isLessThan((i + 1) * 4200L);
            }
            device.flush();
            assertThat(journalEntries(disk)).as("nothing new to journal").isEqualTo(offsets.length);
            assertThat(fixture.blobs.gets.get() - getsBefore).as("nothing read").isZero();
            assertThat(fixture.blobs.puts.get() - putsBefore).as("nothing rewritten").isZero();
            assertThat(readThroughAnotherStore(disk, 0, BLOCK_BYTES)).as("replayed by another process")
                    .isEqualTo(expected);

            getsBefore = fixture.blobs.gets.get();
            fixture.store.storedBlocks(disk); // an export needs the map
            assertThat(fixture.blobs.gets.get() - getsBefore).as("stored block read once").isEqualTo(1);
            assertThat(fixture.blobs.puts.get() - putsBefore).as("block rewritten once").isEqualTo(1);
            assertThat(journalEntries(disk)).isZero();
            assertThat(read(device, 0, BLOCK_BYTES)).isEqualTo(expected);
        }
        assertThat(readThroughAnotherStore(disk, 0, BLOCK_BYTES)).isEqualTo(expected);
    }

    /** Journaled writes outlive a process that never mapped them: the next one puts them into the map at start. */
    @Test
    void journaledWritesAreMappedByTheNextProcessAtStart() {
        String disk = diskOfBlocks(2);
        // one range: the most a block's journal takes (count, start and end, then the bytes)
        byte[] patch = pattern(37, WriteBackDevice.JOURNAL_BYTES_PER_BLOCK - 3 * Integer.BYTES);
        DefaultDiskStore crashed = fixture.secondStore(); // never closed, as after a kill
        BlockDevice device = crashed.open(disk);
        device.write(BLOCK_BYTES + 100, patch, 0, patch.length, false);
        device.flush();
        assertThat(fixture.store.info(disk).storedBlocks()).as("journaled, not mapped").isZero();

        fixture.reopen();
        assertThat(journalEntries(disk)).isZero();
        assertThat(fixture.store.info(disk).storedBlocks()).isEqualTo(1);
        try (BlockDevice reopened = fixture.store.open(disk)) {
            assertThat(read(reopened, BLOCK_BYTES + 100, patch.length)).isEqualTo(patch);
            assertThat(read(reopened, 0, 100)).containsOnly(0);
        }
    }

    /** A snapshot is a frozen map: journaled writes go into the map first, whether or not a device is open. */
    @Test
    void aSnapshotHoldsJournaledWrites() {
        String disk = diskOfBlocks(2);
        byte[] patch = pattern(38, 5000);
        try (BlockDevice device = fixture.store.open(disk)) {
            device.write(7, patch, 0, patch.length, true);
            String whileOpen = fixture.store.snapshot(disk);
            assertThat(readCopyOf(whileOpen, 7, patch.length)).isEqualTo(patch);
            device.write(BLOCK_BYTES, patch, 0, patch.length, true);
        }
        DefaultDiskStore restarted = fixture.secondStore(); // a process that has not opened the disk
        String closed = restarted.snapshot(disk);
        assertThat(readCopyOf(closed, BLOCK_BYTES, patch.length)).isEqualTo(patch);
        restarted.close();
    }

    /** Writes {@code length} pattern bytes at {@code offset} of block 0 (without FUA) and into {@code expected}. */
    private static void writePatch(BlockDevice device, byte[] expected, int offset, int length) {
        byte[] patch = pattern(offset, length);
        device.write(offset, patch, 0, patch.length, false);
        System.arraycopy(patch, 0, expected, offset, patch.length);
    }

    /** A disk of two blocks whose block 0 holds {@code block0}, stored by a process before the fixture's. */
    private String diskWithBlock0InANewProcess(byte[] block0) {
        String disk = diskOfBlocks(2);
        try (BlockDevice device = fixture.store.open(disk)) {
            device.write(0, block0, 0, BLOCK_BYTES, true);
        }
        fixture.reopen();
        return disk;
    }

    private byte[] readCopyOf(String snapshot, long offset, int length) {
        String copy = fixture.store.create(fixture.store.sizeBytes(snapshot), DiskSource.copyOf(snapshot));
        try (BlockDevice device = fixture.store.open(copy)) {
            return read(device, offset, length);
        } finally {
            fixture.store.delete(copy);
        }
    }

    private long journalEntries(String disk) {
        return fixture.metadata.withHandle(h -> h.createQuery("SELECT count(*) FROM disk_journal_entries"
                + " WHERE map_id = :id").bind("id", disk).mapTo(Long.class).one());
    }

    private long journalBytes(String disk) {
        return fixture.metadata.withHandle(h -> h.createQuery("SELECT sum(octet_length(entry)) FROM disk_journal_entries"
                + " WHERE map_id = :id").bind("id", disk).mapTo(Long.class).one());
    }

    @Test
    void aFullBufferIsFlushedEarlyAndNothingIsLost() {
        fixture = new DiskFixture(dir, new TestKeyRing(), DiskFixture.SMALL_BUFFER);
        String disk = fixture.store.create(5L * BLOCK_BYTES, DiskSource.empty());
        byte[] image = pattern(32, 5 * BLOCK_BYTES);
        try (BlockDevice device = fixture.store.open(disk)) {
            for (int block = 0; block < 5; block++) {
                device.write((long) block * BLOCK_BYTES, image, block * BLOCK_BYTES, BLOCK_BYTES, false);
            }
            // a budget of two blocks: blocks 0-1 and 2-3 went out when the next block needed room
            assertThat(fixture.store.info(disk).storedBlocks()).isEqualTo(4);
            assertThat(read(device, 0, image.length)).isEqualTo(image);
        }
        assertThat(readThroughAnotherStore(disk, 0, image.length)).isEqualTo(image);
    }

    @Test
    void onlyFlushAndFuaMakeWritesVisibleToAnotherProcess() {
        String disk = diskOfBlocks(4);
        byte[] first = pattern(33, 10_000);
        byte[] second = pattern(34, 10_000);
        try (BlockDevice device = fixture.store.open(disk)) {
            device.write(0, first, 0, first.length, false);
            assertThat(readThroughAnotherStore(disk, 0, first.length)).containsOnly(0);
            device.write(3L * BLOCK_BYTES, second, 0, second.length, true);
            assertThat(readThroughAnotherStore(disk, 3L * BLOCK_BYTES, second.length)).isEqualTo(second);
            assertThat(readThroughAnotherStore(disk, 0, first.length))
                    .as("FUA makes its own write durable, not the other blocks still buffered").containsOnly(0);
            device.flush();
            assertThat(readThroughAnotherStore(disk, 0, first.length)).isEqualTo(first);
            device.write(5, second, 0, 10, false);
            device.flush();
            assertThat(readThroughAnotherStore(disk, 5, 10)).isEqualTo(Arrays.copyOf(second, 10));
        }
    }

    /**
     * A write across a block boundary is committed whole or not at all, even when a FUA write to one of its blocks
     * commits that block: the other block goes with it (what a crash would otherwise leave torn).
     */
    @Test
    void aFuaWriteToOneBlockOfAnotherWriteCommitsThatWriteWhole() {
        String disk = diskOfBlocks(3);
        byte[] rest = pattern(48, BLOCK_BYTES - 4096);
        byte[] across = pattern(49, 8192);
        byte[] fua = pattern(50, 4096);
        try (BlockDevice device = fixture.store.open(disk)) {
            device.write(BLOCK_BYTES + 4096, rest, 0, rest.length, false);
            device.write(BLOCK_BYTES - 4096, across, 0, across.length, false); // completes block 1, not block 0
            device.write(BLOCK_BYTES + 8192, fua, 0, fua.length, true);

            assertThat(readThroughAnotherStore(disk, BLOCK_BYTES - 4096, across.length))
                    .as("the write across blocks 0 and 1, after the FUA write to block 1").isEqualTo(across);
            assertThat(readThroughAnotherStore(disk, BLOCK_BYTES + 8192, fua.length)).isEqualTo(fua);
        }
    }

    /**
     * A FUA write elsewhere commits the blocks whose seals are ready, but not a sealed block that shares a write with
     * a block still partly written: that run waits for its own flush.
     */
    @Test
    void aReadySealJoinedToAPartialBlockWaitsForItsOwnFlush() throws Exception {
        String disk = diskOfBlocks(4);
        byte[] rest = pattern(51, BLOCK_BYTES - 4096);
        byte[] across = pattern(52, 8192);
        byte[] whole = pattern(53, BLOCK_BYTES);
        byte[] fua = pattern(54, 4096);
        try (BlockDevice device = fixture.store.open(disk)) {
            device.write(BLOCK_BYTES + 4096, rest, 0, rest.length, false);
            device.write(BLOCK_BYTES - 4096, across, 0, across.length, false); // seals block 1; block 0 is partial
            awaitPuts(1);
            device.write(3L * BLOCK_BYTES, whole, 0, whole.length, false); // seals block 3, joined to nothing
            awaitPuts(2);
            // block 3 was sealed after block 1: once it is committed, block 1's seal was ready too
            byte[] head = Arrays.copyOf(whole, 4096);
            for (int tries = 0; tries < 500
                    && !Arrays.equals(readThroughAnotherStore(disk, 3L * BLOCK_BYTES, 4096), head); tries++) {
                device.write(2L * BLOCK_BYTES, fua, 0, fua.length, true);
            }
            assertThat(readThroughAnotherStore(disk, 3L * BLOCK_BYTES, BLOCK_BYTES)).isEqualTo(whole);
            assertThat(readThroughAnotherStore(disk, BLOCK_BYTES - 4096, across.length)).as("not committed, not torn")
                    .containsOnly(0);
            device.flush();
            assertThat(readThroughAnotherStore(disk, BLOCK_BYTES - 4096, across.length)).isEqualTo(across);
        }
    }

    @Test
    void aHolderFlushesOnCloseOnlyIfItWroteWithoutFlushing() {
        String disk = diskOfBlocks(2);
        byte[] data = pattern(41, 10_000);
        try (BlockDevice writer = fixture.store.open(disk)) {
            writer.write(0, data, 0, data.length, false);
            try (BlockDevice reader = fixture.store.open(disk)) {
                assertThat(read(reader, 0, data.length)).isEqualTo(data);
            }
            try (BlockDevice uploader = fixture.store.open(disk)) {
                uploader.write(BLOCK_BYTES, data, 0, data.length, true);
            }
            assertThat(readThroughAnotherStore(disk, 0, data.length)).as("left to its writer").containsOnly(0);
            assertThat(readThroughAnotherStore(disk, BLOCK_BYTES, data.length)).isEqualTo(data);
        }
        assertThat(readThroughAnotherStore(disk, 0, data.length)).as("its writer's close flushed it").isEqualTo(data);
    }

    @Test
    void aFuaWriteWhoseFlushFailedIsFlushedAgainByItsHoldersClose() {
        String disk = diskOfBlocks(1);
        byte[] data = pattern(44, 10_000);
        UUID key = fixture.store.info(disk).writeKeyId().orElseThrow();
        try (BlockDevice device = fixture.store.open(disk)) {
            fixture.keys.disable(key);
            assertThatThrownBy(() -> device.write(0, data, 0, data.length, true))
                    .isInstanceOf(DiskKeyUnavailableException.class);
            fixture.keys.enable(key);
        }
        assertThat(readThroughAnotherStore(disk, 0, data.length)).isEqualTo(data);
    }

    @Test
    void aWholeBlockHandedOverIsStoredLikeACopiedOne() {
        String disk = diskOfBlocks(3);
        byte[] image = pattern(42, 3 * BLOCK_BYTES);
        try (BlockDevice device = fixture.store.open(disk)) {
            device.writeOwned(0, Arrays.copyOf(image, BLOCK_BYTES), true);
            device.writeOwned(BLOCK_BYTES, new byte[BLOCK_BYTES], true);
            // not one whole block: buffered by copying, as any write
            device.writeOwned(BLOCK_BYTES + 512, Arrays.copyOfRange(image, BLOCK_BYTES + 512, 3 * BLOCK_BYTES), true);
        }
        Arrays.fill(image, BLOCK_BYTES, BLOCK_BYTES + 512, (byte) 0);
        assertThat(readThroughAnotherStore(disk, 0, image.length)).isEqualTo(image);
        assertThat(fixture.blockFiles()).hasSize(3);
    }

    @Test
    void aTransferSendsAStoredBlockAsItsPlaintextAndMergesWhatIsBuffered() throws Exception {
        fixture = new DiskFixture(dir);
        long size = 2L * BLOCK_BYTES + 1024;
        String disk = fixture.store.create(size, DiskSource.empty());
        byte[] expected = new byte[(int) size];
        byte[] stored = pattern(45, 2 * BLOCK_BYTES);
        byte[] patch = pattern(46, 4096);
        try (BlockDevice device = fixture.store.open(disk)) {
            device.write(0, stored, 0, stored.length, true);
            device.write(BLOCK_BYTES + 512, patch, 0, patch.length, false); // buffered over stored block 1
            System.arraycopy(stored, 0, expected, 0, stored.length);
            System.arraycopy(patch, 0, expected, BLOCK_BYTES + 512, patch.length);

            List<int[]> writes = new ArrayList<>();
            ByteArrayOutputStream out = recording(writes);
            device.transferTo(100, size - 100, out);

            assertThat(out.toByteArray()).isEqualTo(Arrays.copyOfRange(expected, 100, (int) size));
            assertThat(writes.get(0)).as("block 0 straight from its whole plaintext, at the offset")
                    .containsExactly(BLOCK_BYTES, 100, BLOCK_BYTES - 100);
            assertThat(writes.subList(1, writes.size())).as("block 1 (merged) and the tail (never written), a block's length at a time")
                    .allSatisfy(write -> assertThat(write[0]).isEqualTo(BLOCK_BYTES))
                    .extracting(write -> write[2]).containsExactly(100, BLOCK_BYTES - 100, 100, 924);
        }
    }

    @Test
    void aTransferWhoseFirstBlocksFailToReadSendsNothing() throws Exception {
        String disk = diskOfBlocks(3);
        try (BlockDevice device = fixture.store.open(disk)) {
            device.write(0, pattern(47, 3 * BLOCK_BYTES), 0, 3 * BLOCK_BYTES, true);
        }
        fixture.reopen(); // nothing read is cached
        DiskStore.StoredBlock second = fixture.store.storedBlocks(disk).stream().filter(b -> b.index() == 1)
                .findFirst().orElseThrow();
        Path object = fixture.blobFile(second.objectId());
        byte[] altered = Files.readAllBytes(object);
        altered[altered.length / 2] ^= 1;
        Files.write(object, altered);
        try (BlockDevice device = fixture.store.open(disk)) {
            List<int[]> writes = new ArrayList<>();
            assertThatThrownBy(() -> device.transferTo(100, BLOCK_BYTES, recording(writes)))
                    .isInstanceOf(BlockIntegrityException.class);
            assertThat(writes).as("block 0 read fine, but the range's block 1 did not").isEmpty();
            assertThatThrownBy(() -> device.transferTo(0, 3L * BLOCK_BYTES, recording(writes)))
                    .isInstanceOf(BlockIntegrityException.class);
            assertThat(writes).as("the first block's length went out before block 1 failed").hasSize(1);
        }
    }

    /** A stream that records each write's array length, offset and length. */
    private static ByteArrayOutputStream recording(List<int[]> writes) {
        return new ByteArrayOutputStream() {
            @Override
            public synchronized void write(byte[] b, int off, int len) {
                writes.add(new int[] {b.length, off, len});
                super.write(b, off, len);
            }
        };
    }

    /**
     * Threads own interleaved 96 KiB stripes (some straddle block boundaries) and write, trim, flush and read them
     * concurrently; every block is shared by several threads and a buffer smaller than the disk forces flushes
     * mid-stream, besides those of a flusher thread and of FUA writes. Each
     * thread's reads must show its own last writes, and the end state must be every thread's model at once.
     */
    @Test
    @Timeout(120)
    void concurrentWritersSharingBlocksEachSeeTheirOwnWrites() throws Exception {
        fixture = new DiskFixture(dir, new TestKeyRing(), 3L * BLOCK_BYTES);
        int threads = 6;
        int stripe = 96 << 10;
        long size = 4L * BLOCK_BYTES;
        int stripes = (int) (size / stripe);
        String disk = fixture.store.create(size, DiskSource.empty());
        byte[][] models = new byte[stripes][stripe];
        ExecutorService pool = Executors.newFixedThreadPool(threads + 1);
        try (BlockDevice device = fixture.store.open(disk)) {
            List<Future<?>> running = startOwners(pool, threads, owner -> {
                Random random = new Random(owner);
                for (int op = 0; op < 40; op++) {
                    int s = owner + threads * random.nextInt((stripes - owner + threads - 1) / threads);
                    long base = (long) s * stripe;
                    int from = random.nextInt(stripe);
                    int n = 1 + random.nextInt(stripe - from);
                    int kind = random.nextInt(10);
                    if (kind < 6) {
                        byte[] data = pattern(random.nextLong(), n);
                        device.write(base + from, data, 0, n, random.nextInt(50) == 0);
                        System.arraycopy(data, 0, models[s], from, n);
                    } else if (kind < 7) {
                        device.trim(base + from, n);
                        Arrays.fill(models[s], from, from + n, (byte) 0);
                    } else {
                        assertThat(read(device, base + from, n)).as("thread %d stripe %d", owner, s)
                                .isEqualTo(Arrays.copyOfRange(models[s], from, from + n));
                    }
                }
            });
            awaitWithFlusher(pool, device, running, 100);
        } finally {
            pool.shutdownNow();
        }
        byte[] stored = readThroughAnotherStore(disk, 0, (int) size);
        for (int s = 0; s < stripes; s++) {
            assertThat(Arrays.copyOfRange(stored, s * stripe, (s + 1) * stripe)).as("stripe %d", s)
                    .isEqualTo(models[s]);
        }
        assertThat(Arrays.copyOfRange(stored, stripes * stripe, (int) size)).containsOnly(0);
    }

    private byte[] readThroughAnotherStore(String disk, long offset, int length) {
        try (DefaultDiskStore other = fixture.secondStore(); BlockDevice device = other.open(disk)) {
            return read(device, offset, length);
        }
    }
}
