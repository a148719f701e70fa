package io.coffre.arm;

/**
 * A rejection the caller can act on. It carries the HTTP status, a stable error code and a message that says
 * what to do; the server turns it into the ARM / Key Vault error body
 * {@code {"error":{"code","message","innererror"?:{"code"}}}}. Never used for internal faults.
 */
public class ArmException extends RuntimeException {
    private final int status;
    private final String code;
    private final String innerCode;

    public ArmException(int status, String code, String message) {
        this(status, code, message, null);
    }

    public ArmException(int status, String code, String message, String innerCode) {
        super(message);
        this.status = status;
        this.code = code;
        this.innerCode = innerCode;
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }

    /** Optional finer code, e.g. {@code ForbiddenByPolicy} under {@code Forbidden}; null when absent. */
    public String innerCode() {
        return innerCode;
    }

    public static ArmException badRequest(String code, String message) {
        return new ArmException(400, code, message);
    }

    public static ArmException notFound(String code, String message) {
        return new ArmException(404, code, message);
    }

    public static ArmException conflict(String code, String message) {
        return new ArmException(409, code, message);
    }

    public static ArmException forbidden(String innerCode, String message) {
        return new ArmException(403, "Forbidden", message, innerCode);
    }
}
