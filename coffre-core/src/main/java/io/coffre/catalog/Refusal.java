package io.coffre.catalog;

import io.coffre.arm.ArmException;

/**
 * Why the catalog or the support matrix refuses something: an HTTP status, a stable error code and a message that
 * says what to do instead. Callers turn it into the error of their own API with {@link #toException()}.
 */
public record Refusal(int status, String code, String message) {
    public ArmException toException() {
        return new ArmException(status, code, message);
    }
}
