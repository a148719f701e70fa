package io.coffre.store;

/** A write collided with an existing row (unique key) — the caller decides whether that is a 409 or a retry. */
public final class StoreConflictException extends RuntimeException {
    public StoreConflictException(String message, Throwable cause) {
        super(message, cause);
    }
}
