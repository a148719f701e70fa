package io.coffre.server;

import io.coffre.compute.RotationSeams;
import io.coffre.compute.vm.VmSeams;
import java.nio.file.Path;

/**
 * A Coffre server in a process of its own, for tests that SIGKILL it: {@code ServerChild <dataDir> <port> [hold]}
 * where hold is one of the options below. Prints {@code ready <port>} once it serves and {@link #HELD} when held at
 * the crash seam the option names, then runs until it is killed.
 */
public final class ServerChild {
    /** Holds a rotation once the new wrapping of the DES key is stored. */
    static final String HOLD_ROTATION = "--hold-rotation-after-wrap";
    /** Holds a VM create once it made its second disk, before attaching it. */
    static final String HOLD_VM_CREATE = "--hold-vm-create-after-second-disk";
    /** Holds a VM update once it made the first disk it attaches, before attaching it. */
    static final String HOLD_VM_UPDATE = "--hold-vm-update-after-first-disk";
    /** Holds a VM delete once it detached a disk it is to delete. */
    static final String HOLD_VM_DELETE = "--hold-vm-delete-after-detach";
    static final String HELD = "held";

    private ServerChild() {
    }

    public static void main(String[] args) throws InterruptedException {
        Path dataDir = Path.of(args[0]);
        int port = Integer.parseInt(args[1]);
        Runnable reached = () -> {
            System.out.println(HELD);
            System.out.flush();
        };
        switch (args.length > 2 ? args[2] : "") {
            case HOLD_ROTATION -> RotationSeams.holdAfterWrap(reached);
            case HOLD_VM_CREATE -> VmSeams.holdCreateAfterDisk(2, reached);
            case HOLD_VM_UPDATE -> VmSeams.holdCreateAfterDisk(1, reached);
            case HOLD_VM_DELETE -> VmSeams.holdDeleteAfterDetach(reached);
            case "" -> { }
            default -> throw new IllegalArgumentException("unknown option " + args[2]);
        }
        CoffreServer server = CoffreServer.start(ServerConfig.defaults(dataDir).withPort(port));
        System.out.println("ready " + server.port());
        System.out.flush();
        Thread.currentThread().join();
    }
}
