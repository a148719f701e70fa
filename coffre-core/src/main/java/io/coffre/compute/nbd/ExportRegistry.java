package io.coffre.compute.nbd;

import io.coffre.compute.disk.BlockDevice;
import java.util.List;
import java.util.Optional;

/**
 * What the NBD server exports: the disks of running VMs, by name. Exports come and go; the server asks at every
 * connection and never caches.
 *
 * <p>Contract for implementations (the server relies on it):
 * <ul>
 *   <li>{@link #open} hands the caller a device it owns: the server closes it when the connection ends (or, for
 *   {@code NBD_OPT_INFO}, right after reading its size). Closing flushes, which is how a disconnect becomes durable.
 *   <li>Every device opened under one name must see one disk state: a flush through any of them makes durable every
 *   write acknowledged through all of them, and a read sees every acknowledged write. The server advertises
 *   {@code NBD_FLAG_CAN_MULTI_CONN} on that basis, so {@code nbdcopy} opens several connections to one export.
 *   Handing out the same object each time is not enough: closing it would end the other connections' device, so
 *   hand out handles whose {@code close()} flushes and releases only the handle.
 *   <li>Devices must be thread-safe: requests are pipelined and run concurrently on the server's workers.
 *   <li>To stop an export: remove it (so {@code open} returns empty), then call {@link NbdServer#disconnect}, which
 *   returns once every connection to it has finished and closed its device.
 * </ul>
 */
public interface ExportRegistry {
    /** The export named {@code exportName}, opened for one connection, or empty when there is none. */
    Optional<Export> open(String exportName);

    /** The names of the current exports, for {@code NBD_OPT_LIST}. */
    List<String> list();

    /** An opened export: the device serving it and whether clients may only read. */
    record Export(BlockDevice device, boolean readOnly) {
        public Export {
            if (device == null) {
                throw new IllegalArgumentException("an export needs a device");
            }
        }
    }
}
