package io.coffre.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.coffre.json.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * The Node.js project of the JavaScript client tests, installed with {@code npm ci} into a build directory (again
 * only when its lock file changed) and run with {@code node}. A machine without node fails the tests: CI installs
 * it. {@code COFFRE_SKIP_JS=1} skips them instead, for a developer who cannot install node.
 */
final class NodeProject {
    static final String SKIP_VARIABLE = "COFFRE_SKIP_JS";
    private static final String LOCK_FILE = "package-lock.json";
    private static final String INSTALLED_MARKER = ".installed-lock-sha256";
    private static final Duration INSTALL_TIMEOUT = Duration.ofMinutes(10);
    private static final Duration RUN_TIMEOUT = Duration.ofMinutes(10);

    private final Path dir;

    private NodeProject(Path dir) {
        this.dir = dir;
    }

    /** Node's exit code and output; {@link #json()} is the last line of stdout. */
    record Run(int exitCode, String stdout, String stderr) {
        JsonNode json() {
            List<String> lines = stdout.lines().filter(l -> !l.isBlank()).toList();
            if (lines.isEmpty()) {
                throw new AssertionError("the script printed no JSON result; stderr:\n" + stderr);
            }
            return Json.parse(lines.get(lines.size() - 1));
        }
    }

    /**
     * Copies the project (package.json, lock file, scripts) from {@code source} to {@code dir} and runs
     * {@code npm ci} there unless the same lock file is already installed.
     */
    static NodeProject prepare(Path source, Path dir) {
        Assumptions.assumeFalse("1".equals(System.getenv(SKIP_VARIABLE)),
                "JavaScript client tests skipped: " + SKIP_VARIABLE + "=1");
        requireTool("node");
        requireTool("npm");
        try {
            Files.createDirectories(dir);
            try (Stream<Path> files = Files.list(source)) {
                for (Path file : files.filter(Files::isRegularFile).toList()) {
                    Files.copy(file, dir.resolve(file.getFileName()), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            String lockSha = sha256(Files.readAllBytes(dir.resolve(LOCK_FILE)));
            Path marker = dir.resolve(INSTALLED_MARKER);
            boolean installed = Files.isDirectory(dir.resolve("node_modules")) && Files.exists(marker)
                    && Files.readString(marker).trim().equals(lockSha);
            if (!installed) {
                Files.deleteIfExists(marker);
                Run ci = exec(dir, List.of("npm", "ci", "--prefer-offline", "--no-audit", "--no-fund"), Map.of(),
                        INSTALL_TIMEOUT);
                if (ci.exitCode() != 0) {
                    throw new AssertionError("npm ci failed (" + ci.exitCode() + "):\n" + ci.stdout() + ci.stderr());
                }
                Files.writeString(marker, lockSha);
            }
            return new NodeProject(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code node script} in the project directory with {@code env} added to this process's environment. */
    Run run(String script, Map<String, String> env) {
        Run run = exec(dir, List.of("node", script), env, RUN_TIMEOUT);
        System.err.print(run.stderr()); // the script's progress and its result, in the test's output
        System.err.print(run.stdout());
        return run;
    }

    private static void requireTool(String tool) {
        try {
            Run version = exec(Path.of("."), List.of(tool, "--version"), Map.of(), Duration.ofSeconds(30));
            if (version.exitCode() == 0) {
                return;
            }
        } catch (UncheckedIOException notFound) {
            // reported below
        }
        throw new AssertionError("'" + tool + "' is not installed: the JavaScript client tests need Node.js 20+ and"
                + " npm (.ci/run installs them; set " + SKIP_VARIABLE + "=1 to skip these tests).");
    }

    private static Run exec(Path dir, List<String> command, Map<String, String> env, Duration timeout) {
        try {
            Path out = Files.createTempFile("node-out", ".txt");
            Path err = Files.createTempFile("node-err", ".txt");
            try {
                ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile())
                        .redirectOutput(out.toFile()).redirectError(err.toFile());
                pb.environment().putAll(env);
                Process p = pb.start();
                if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    p.destroyForcibly();
                    throw new AssertionError(String.join(" ", command) + " did not finish within " + timeout
                            + "; stderr:\n" + Files.readString(err));
                }
                return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
