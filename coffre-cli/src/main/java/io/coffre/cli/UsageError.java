package io.coffre.cli;

/** Arguments that do not fit together; printed with a pointer to the command's help. Exit code 2, as picocli's. */
final class UsageError extends RuntimeException {
    UsageError(String message) {
        super(message);
    }
}
