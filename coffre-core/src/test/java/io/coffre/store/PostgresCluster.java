package io.coffre.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * A real PostgreSQL server for tests: a throwaway cluster ({@code initdb}) in a temporary directory, listening on a
 * free loopback port, stopped and deleted when the JVM exits. One per JVM; each caller gets a database of its own.
 * The binaries are taken from the PATH or Debian's {@code /usr/lib/postgresql/N/bin} (package {@code postgresql},
 * installed by {@code .ci/run}); without them the calling test is skipped with a message. PostgreSQL refuses to run
 * as root, so as root the cluster runs as the {@code postgres} user the package creates.
 */
public final class PostgresCluster {
    public static final String USER = "coffre";
    private static final AtomicInteger DATABASES = new AtomicInteger();
    private static PostgresCluster running;

    private final Path dir;
    private final int port;
    private final List<String> runAs;
    private final Path bin;

    private PostgresCluster(Path dir, int port, List<String> runAs, Path bin) {
        this.dir = dir;
        this.port = port;
        this.runAs = runAs;
        this.bin = bin;
    }

    /** The JDBC URL of a new, empty database (the test is skipped when PostgreSQL is not installed). */
    public static synchronized String newDatabase() {
        if (running == null) {
            running = start();
        }
        String name = "coffre_test_" + DATABASES.incrementAndGet();
        try (Connection c = DriverManager.getConnection(running.url("postgres"), USER, "");
             Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + name);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create the test database " + name + ": " + e.getMessage(), e);
        }
        return running.url(name);
    }

    private String url(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
    }

    private static PostgresCluster start() {
        Optional<Path> bin = binaries();
        Assumptions.assumeTrue(bin.isPresent(), "PostgreSQL is not installed (Debian package postgresql): the "
                + "PostgreSQL tests are skipped");
        boolean root = "root".equals(System.getProperty("user.name"));
        Assumptions.assumeTrue(!root || userExists("postgres"), "PostgreSQL refuses to run as root and there is no "
                + "postgres user to run it as: the PostgreSQL tests are skipped");
        List<String> runAs = root ? List.of("runuser", "-u", "postgres", "--") : List.of();
        try {
            Path dir = Files.createTempDirectory("coffre-postgres");
            if (root) {
                run(List.of("chown", "postgres", dir.toString()), List.of());
            }
            int port;
            try (ServerSocket socket = new ServerSocket(0)) {
                port = socket.getLocalPort();
            }
            PostgresCluster cluster = new PostgresCluster(dir, port, runAs, bin.get());
            cluster.pg("initdb", "-D", cluster.data(), "-U", USER, "--auth=trust", "-E", "UTF8", "--no-sync");
            // fsync off: a test cluster dies with the test; what is tested is the SQL, not PostgreSQL's durability
            cluster.pg("pg_ctl", "-D", cluster.data(), "-l", dir.resolve("server.log").toString(), "-w", "-o",
                    "-p " + port + " -k " + dir + " -c listen_addresses=127.0.0.1 -c fsync=off", "start");
            Runtime.getRuntime().addShutdownHook(new Thread(cluster::stop, "coffre-postgres-stop"));
            return cluster;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start a PostgreSQL cluster for the tests", e);
        }
    }

    private String data() {
        return dir.resolve("data").toString();
    }

    private void stop() {
        try {
            pg("pg_ctl", "-D", data(), "-m", "immediate", "-w", "stop");
        } catch (RuntimeException | IOException e) {
            // the directory goes all the same
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a temporary directory left behind
        }
    }

    private void pg(String program, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(bin.resolve(program).toString()));
        command.addAll(List.of(args));
        run(runAs, command);
    }

    private static void run(List<String> prefix, List<String> command) throws IOException {
        List<String> full = new ArrayList<>(prefix);
        full.addAll(command);
        Process process = new ProcessBuilder(full).redirectErrorStream(true).start();
        try {
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(2, TimeUnit.MINUTES) || process.exitValue() != 0) {
                process.destroyForcibly();
                throw new IllegalStateException(String.join(" ", full) + " failed: " + output);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + full.get(0), e);
        }
    }

    private static boolean userExists(String name) {
        try {
            run(List.of(), List.of("id", "-u", name));
            return true;
        } catch (IOException | IllegalStateException e) {
            return false;
        }
    }

    /** The directory holding {@code initdb} and {@code pg_ctl}: on the PATH, else Debian's newest. */
    private static Optional<Path> binaries() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "initdb")) && Files.isExecutable(Path.of(dir,
                    "pg_ctl"))) {
                return Optional.of(Path.of(dir));
            }
        }
        Path debian = Path.of("/usr/lib/postgresql");
        if (!Files.isDirectory(debian)) {
            return Optional.empty();
        }
        try (Stream<Path> versions = Files.list(debian)) {
            return versions.map(v -> v.resolve("bin")).filter(b -> Files.isExecutable(b.resolve("initdb")))
                    .max(Comparator.comparing(b -> b.getParent().getFileName().toString(),
                            Comparator.comparingInt(v -> v.matches("\\d+") ? Integer.parseInt(v) : 0)));
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
