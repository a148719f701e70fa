package io.coffre.compute.vm;

import io.coffre.compute.RotationSeams;
import java.util.concurrent.atomic.AtomicInteger;

/** Reaches the VM create and delete crash seams from a server started by a test in its own process. */
public final class VmSeams {
    private VmSeams() {
    }

    /**
     * Makes a VM create or update, once it has made its {@code disks}-th disk and before attaching it, call {@code
     * reached} and wait until the process is killed.
     */
    public static void holdCreateAfterDisk(int disks, Runnable reached) {
        AtomicInteger made = new AtomicInteger();
        Runnable hold = RotationSeams.untilKilled(reached);
        JdbcVirtualMachines.afterDiskCreated = () -> {
            if (made.incrementAndGet() == disks) {
                hold.run();
            }
        };
    }

    /** Makes a VM delete, once it has detached a disk it is to delete, call {@code reached} and wait for the kill. */
    public static void holdDeleteAfterDetach(Runnable reached) {
        JdbcVirtualMachines.afterDiskDetached = RotationSeams.untilKilled(reached);
    }
}
