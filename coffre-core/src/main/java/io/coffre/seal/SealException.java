package io.coffre.seal;

/** A sealed value failed to open: altered, truncated, or moved from where it belongs. */
public final class SealException extends RuntimeException {
    public SealException(String message) {
        super(message);
    }
}
