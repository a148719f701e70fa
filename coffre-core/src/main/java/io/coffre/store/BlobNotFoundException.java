package io.coffre.store;

/** The named object does not exist (or is shorter than the range asked for). */
public final class BlobNotFoundException extends RuntimeException {
    public BlobNotFoundException(String message) {
        super(message);
    }
}
