package io.coffre.compute.disk;

import io.coffre.arm.ArmException;

/**
 * A stored block object failed verification: its SHA-256 does not match the block map, its header names another
 * block or key, it is truncated, or a segment fails GCM authentication. Reads throw this instead of returning bytes;
 * the data can only come back from a snapshot or a backup. Stable code {@value #CODE}.
 */
public final class BlockIntegrityException extends ArmException {
    public static final String CODE = "DiskDataIntegrityError";

    BlockIntegrityException(String message) {
        super(500, CODE, message);
    }

    BlockIntegrityException(String message, Throwable cause) {
        this(message);
        initCause(cause);
    }
}
