package io.coffre.server;

import io.coffre.compute.RotationSeams;
import java.nio.file.Path;

/**
 * A Coffre server in a process of its own, for tests that SIGKILL it:
 * {@code ServerChild <dataDir> <port> [--hold-rotation-after-wrap]}. Prints {@code ready <port>} once it serves and
 * {@code rotation-wrapped} when held mid-rotation, then runs until it is killed.
 */
public final class ServerChild {
    static final String HOLD_ROTATION = "--hold-rotation-after-wrap";

    private ServerChild() {
    }

    public static void main(String[] args) throws InterruptedException {
        Path dataDir = Path.of(args[0]);
        int port = Integer.parseInt(args[1]);
        if (args.length > 2 && args[2].equals(HOLD_ROTATION)) {
            RotationSeams.holdAfterWrap(() -> {
                System.out.println("rotation-wrapped");
                System.out.flush();
            });
        }
        CoffreServer server = CoffreServer.start(ServerConfig.defaults(dataDir).withPort(port));
        System.out.println("ready " + server.port());
        System.out.flush();
        Thread.currentThread().join();
    }
}
