package io.coffre.compute.disk;

import java.util.UUID;

/** One block map entry: the object holding the block, its SHA-256 (checked before decrypting) and its data key. */
record BlockRef(String blobKey, byte[] sha256, UUID keyId) {
    static final String PREFIX = "disk-blocks/";

    /** Objects are named by their random write id, so two writes never share a name, even across forks. */
    static String blobKey(UUID writeId) {
        String id = writeId.toString();
        return PREFIX + id.substring(0, 2) + "/" + id;
    }
}
