package io.coffre.compute.disk;

import java.util.List;
import java.util.UUID;
import java.util.function.Function;

/**
 * Encrypted disks and their snapshots over a metadata store and a blob store.
 *
 * <p>A disk is a sequence of {@value #BLOCK_BYTES}-byte blocks. Each written block is a new immutable object
 * encrypted under a data key; the disk's block map names each block's object and its SHA-256, which reads verify.
 * Blocks never written or written all-zero are not stored. A snapshot is a frozen copy of a block map, so snapshots
 * are incremental by construction and {@link #changedBlocks} is a comparison of two maps. A disk created as a copy
 * shares the source's objects and keys and writes its own blocks under a fresh key of its own.
 *
 * <p>Disks and snapshots share one id space. Errors are {@link io.coffre.arm.ArmException}s with stable codes:
 * {@code InvalidDiskSize}, {@code InvalidRange}, {@code InvalidSnapshotRequest} (400), {@code DiskNotFound} (404),
 * {@code DiskInUse}, {@code NotADisk}, {@link DiskKeyUnavailableException#CODE} (409) and
 * {@link BlockIntegrityException#CODE} (500).
 */
public interface DiskStore extends AutoCloseable {
    int BLOCK_BYTES = BlockFormat.BLOCK_BYTES;
    /** Disk sizes are whole sectors. */
    int SECTOR_BYTES = 512;

    /**
     * Creates a disk of {@code sizeBytes} (a positive multiple of {@value #SECTOR_BYTES}) and returns its id. A copy
     * may be larger than its source (the added space reads as zeros), never smaller.
     */
    String create(long sizeBytes, DiskSource source);

    /**
     * Like {@link #create(long, DiskSource)}, but the disk's own data key comes from {@code writeKeys} (the ring of
     * its Disk Encryption Set or platform key) instead of the store's ring; the store's ring still resolves every key
     * id when blocks are read.
     */
    String create(long sizeBytes, DiskSource source, DataKeyRing writeKeys);

    /** A copy of the disk or snapshot {@code sourceId}, of its size, writing under {@code writeKeys}. */
    default String copy(String sourceId, DataKeyRing writeKeys) {
        return create(sizeBytes(sourceId), DiskSource.copyOf(sourceId), writeKeys);
    }

    /**
     * The disk as a block device with a write-back buffer. Every device open on one disk in this process shares one
     * buffer; closing a device makes its writes durable. One process at a time should write a disk.
     */
    BlockDevice open(String diskId);

    /** Freezes the disk's content, including every write acknowledged before the call, and returns the snapshot id. */
    default String snapshot(String diskId) {
        return snapshot(List.of(diskId)).get(0);
    }

    /**
     * Snapshots several disks at one instant (crash-consistent across them): writes to them wait while their
     * buffers are flushed and their maps copied in one transaction. Returns the snapshot ids in the given order.
     */
    List<String> snapshot(List<String> diskIds);

    /** Indices of the blocks whose content differs between two disks or snapshots (as stored), ascending. */
    long[] changedBlocks(String fromId, String toId);

    DiskInfo info(String id);

    /** The size in bytes of a disk or snapshot: {@code info(id).sizeBytes()} without counting its blocks and keys. */
    long sizeBytes(String id);

    /**
     * One block map entry as it is exported: the immutable ciphertext object holding block {@code index}, the
     * object's SHA-256 and the data key it is encrypted under.
     */
    record StoredBlock(long index, String objectId, byte[] sha256, UUID keyId) {
    }

    /** The stored blocks of a disk (after flushing what its writer acknowledged) or a snapshot, by index. */
    List<StoredBlock> storedBlocks(String id);

    /** The code of {@link #readObject} for an object that is not one of the disk's. */
    String OBJECT_NOT_FOUND = "BlockObjectNotFound";

    /**
     * The ciphertext object of one of the blocks of {@code id}, checked against the SHA-256 its map records.
     *
     * @throws io.coffre.arm.ArmException 404 {@value #OBJECT_NOT_FOUND} when no block of {@code id} is that object
     */
    byte[] readObject(String id, String objectId);

    /**
     * Creates a disk whose blocks are the given ciphertext objects, stored verbatim under names of their own (never
     * overwriting an object another map refers to). Each object {@code objects} returns must match its SHA-256 and be
     * the named block under the named key (header checked); otherwise nothing is created and {@code
     * ManifestObjectMismatch} (400) is thrown. The disk writes new blocks under a fresh key from {@code writeKeys};
     * the key ids of the imported blocks must be resolvable by the store's ring before the disk is read.
     */
    String importDisk(long sizeBytes, List<StoredBlock> blocks, Function<StoredBlock, byte[]> objects,
                      DataKeyRing writeKeys);

    /** Deletes a disk (not while open) or a snapshot; copies made of it keep their content. */
    void delete(String id);

    /**
     * Deletes every block object no disk, snapshot or in-flight write references, and the leftovers of writes a
     * crash interrupted. Returns how many objects it deleted. Safe to run while disks are written.
     */
    int reclaim();

    /** Flushes and closes every open device. */
    @Override
    void close();
}
