package io.coffre.compute.disk;

import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * A disk or a snapshot as stored.
 *
 * @param writeKeyId  the disk's own data key, under which its new blocks are written; empty for a snapshot
 * @param dataKeyIds  every data key its stored blocks need (inherited ones included): the keys a copy, a snapshot or
 *                    an export must keep available
 * @param storedBlocks how many blocks hold data (the rest read as zeros)
 */
public record DiskInfo(String id, boolean snapshot, long sizeBytes, Optional<UUID> writeKeyId, Set<UUID> dataKeyIds,
                       long storedBlocks) {
}
