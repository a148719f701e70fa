package io.coffre.cli;

/** A problem the user can fix on their side (a missing file, a bad argument, no server running). Exit code 1. */
final class CliError extends RuntimeException {
    CliError(String message) {
        super(message);
    }

    CliError(String message, Throwable cause) {
        super(message, cause);
    }
}
