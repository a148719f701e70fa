package io.coffre.cli;

import io.coffre.server.CoffreServer;
import io.coffre.server.ServerConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "quickstart", description = {"Start a throwaway server in a fresh temporary data directory and walk "
        + "through the key-service flow, checking every step.",
        "Exits non-zero at the first failure. The server and its directory are removed at the end unless --keep."})
final class QuickstartCommand extends CliCommand implements Callable<Integer> {
    @Option(names = "--keep", description = "Leave the server running (until Ctrl-C) and keep its data directory.")
    boolean keep;

    @Option(names = "--port", defaultValue = "0", paramLabel = "N", description = "HTTPS port (default: a free one).")
    int port;

    @Override
    public Integer call() throws IOException, InterruptedException {
        PrintWriter out = root().out();
        Path dir = Files.createTempDirectory("coffre-quickstart");
        ServerConfig config = ServerConfig.defaults(dir).withPort(port);
        // The in-process server binds sockets, so the names must be in place before it starts.
        HostsFile.install("127.0.0.1", Session.hostNames(config.dnsSuffix(), Set.of(QuickstartSteps.VAULT),
                Set.of(QuickstartSteps.HSM)));
        CoffreServer server;
        try {
            server = ServerCommand.start(config);
        } catch (CliError e) {
            deleteRecursively(dir);
            throw e;
        }
        try {
            out.println("Coffre quickstart: server on port " + server.port() + ", data directory " + dir);
            out.flush();
            Session session = root().ownServerSession(dir, Set.of(QuickstartSteps.VAULT), Set.of(QuickstartSteps.HSM));
            int code = QuickstartSteps.walkthrough(session).run(out, root().err());
            if (keep) {
                out.println("The server keeps running; in another shell: export " + Coffre.DATA_DIR_ENV + "=" + dir
                        + ". Ctrl-C stops it.");
                out.flush();
                awaitShutdown(server);
            }
            return code;
        } finally {
            if (!keep) {
                server.close();
                deleteRecursively(dir);
            }
        }
    }

    private static void awaitShutdown(CoffreServer server) throws InterruptedException {
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            stopped.countDown();
        }, "coffre-shutdown"));
        stopped.await();
    }

    static void deleteRecursively(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.delete(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + dir, e);
        }
    }
}
