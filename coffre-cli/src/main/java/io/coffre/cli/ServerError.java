package io.coffre.cli;

/**
 * The server refused a request: its HTTP status and the ARM / Key Vault / Graph error body
 * ({@code {"error":{"code","message"}}}). Printed as {@code ERROR: (code) message}, like az.
 */
final class ServerError extends RuntimeException {
    private final int status;
    private final String code;

    ServerError(int status, String code, String message) {
        super(message);
        this.status = status;
        this.code = code;
    }

    int status() {
        return status;
    }

    String code() {
        return code;
    }

    @Override
    public String toString() {
        return "(" + code + ") " + getMessage();
    }
}
