package io.coffre.identity;

/** An OAuth2 error response: {@code {"error","error_description"}} with its HTTP status. */
public final class OAuthException extends RuntimeException {
    private final int status;
    private final String error;

    public OAuthException(int status, String error, String description) {
        super(description);
        this.status = status;
        this.error = error;
    }

    public int status() {
        return status;
    }

    public String error() {
        return error;
    }
}
