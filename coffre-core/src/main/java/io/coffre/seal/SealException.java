package io.coffre.seal;

/**
 * A sealed value that cannot be opened: tampered with, truncated, of an unknown format, sealed under another key or
 * for another context. Callers treat it as corruption of the stored row, never as a user error.
 */
public final class SealException extends RuntimeException {
    SealException(String message) {
        super(message);
    }

    SealException(String message, Throwable cause) {
        super(message, cause);
    }
}
