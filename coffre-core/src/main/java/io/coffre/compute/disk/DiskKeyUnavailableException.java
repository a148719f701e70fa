package io.coffre.compute.disk;

import io.coffre.arm.ArmException;
import java.util.UUID;

/**
 * A block cannot be read or written because its data key is not available: the key ring no longer yields it (its
 * wrapping key was disabled or deleted upstream). Nothing is returned in its place. Stable code {@value #CODE}.
 */
public final class DiskKeyUnavailableException extends ArmException {
    public static final String CODE = "DiskKeyUnavailable";

    public DiskKeyUnavailableException(UUID dataKeyId, String message) {
        super(409, CODE, "The data key " + dataKeyId + " of this disk is unavailable: " + message);
    }
}
