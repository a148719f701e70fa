package io.coffre.compute.nbd;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An NBD server on loopback exporting the {@link io.coffre.compute.disk.BlockDevice}s of an {@link ExportRegistry},
 * for hypervisors, {@code qemu-img}, {@code nbdcopy} and the like.
 *
 * <p>Protocol: fixed-newstyle handshake with {@code NBD_OPT_EXPORT_NAME}, {@code GO}, {@code INFO} (export size and
 * flags, block sizes 512 B / 4 MiB / 32 MiB), {@code LIST} and {@code ABORT}; everything else, structured replies
 * and metadata contexts included, is refused with {@code NBD_REP_ERR_UNSUP}. Transmission: simple replies to READ,
 * WRITE (with FUA), FLUSH, TRIM, WRITE_ZEROES (with NO_HOLE) and DISC, pipelined and answered out of order. READ
 * and WRITE above 32 MiB are refused with EINVAL. Exports are advertised with {@code CAN_MULTI_CONN} (see the
 * contract of {@link ExportRegistry}) and {@code READ_ONLY} when they are.
 *
 * <p>NBD has no authentication: anyone who can connect can read and write every export. That is why the server only
 * binds loopback addresses.
 */
public final class NbdServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NbdServer.class);

    private final ServerSocketChannel listener;
    private final ExportRegistry exports;
    private final ExecutorService workers;
    private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
    private final AtomicInteger connectionIds = new AtomicInteger();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Thread acceptor;
    private final InetSocketAddress address;

    private NbdServer(ServerSocketChannel listener, InetSocketAddress address, ExportRegistry exports) {
        this.listener = listener;
        this.address = address;
        this.exports = exports;
        // Device work is CPU (encryption, hashing) between waits: a block read from storage, an fsync. With two
        // threads per core, the 2-core test machine sat 16 % idle under nbdcopy's reads (610-640 MB/s); with four,
        // they ran at 640-790 MB/s.
        int threads = Math.max(8, 4 * Runtime.getRuntime().availableProcessors());
        this.workers = Executors.newFixedThreadPool(threads, daemonThreads("nbd-worker-"));
        this.acceptor = daemonThreads("nbd-accept-").newThread(this::acceptLoop);
    }

    /**
     * Listens on {@code bind} (a loopback address; port 0 picks a free port) and serves {@code exports} until
     * {@link #close}.
     */
    public static NbdServer start(InetSocketAddress bind, ExportRegistry exports) {
        if (bind.getAddress() == null || !bind.getAddress().isLoopbackAddress()) {
            throw new IllegalArgumentException("the NBD server binds loopback addresses only (NBD has no "
                    + "authentication), not " + bind);
        }
        ServerSocketChannel listener = null;
        InetSocketAddress address;
        try {
            listener = ServerSocketChannel.open();
            listener.bind(bind);
            address = (InetSocketAddress) listener.getLocalAddress();
        } catch (IOException e) {
            closeQuietly(listener);
            throw new UncheckedIOException("cannot listen for NBD on " + bind + ": " + e.getMessage(), e);
        }
        NbdServer server = new NbdServer(listener, address, exports);
        server.acceptor.start();
        LOG.info("NBD server listening on {}", address);
        return server;
    }

    public int port() {
        return address.getPort();
    }

    /**
     * Ends every connection to {@code exportName}: requests already received are answered, then the connection's
     * device is closed (flushed) and the socket with it. Returns when all of that is done. Remove the export from the
     * registry first, or clients reconnect at once.
     */
    public void disconnect(String exportName) {
        List<Connection> using = connections.stream().filter(c -> exportName.equals(c.exportName())).toList();
        using.forEach(Connection::stop);
        using.forEach(Connection::awaitFinished);
        if (!using.isEmpty()) {
            LOG.info("NBD export '{}': disconnected {} connection(s)", exportName, using.size());
        }
    }

    /**
     * Stops accepting, ends every connection as {@link #disconnect} does (in-flight requests are answered, devices
     * closed and so flushed), then stops the workers. Idempotent.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        closeQuietly(listener);
        joinUninterruptibly(acceptor);
        connections.forEach(Connection::stop);
        connections.forEach(Connection::awaitFinished);
        workers.shutdown();
        try {
            if (!workers.awaitTermination(30, TimeUnit.SECONDS)) {
                LOG.warn("NBD workers still busy 30 s after every connection ended");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        LOG.info("NBD server on {} closed", address);
    }

    private void acceptLoop() {
        while (true) {
            SocketChannel channel;
            try {
                channel = listener.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (closed.get()) {
                    return;
                }
                // Running out of file descriptors, for one: back off instead of spinning.
                LOG.warn("NBD accept failed: {}", e.toString());
                sleepBriefly();
                continue;
            }
            try {
                // Replies are small and latency-bound; Nagle would hold them back.
                channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            } catch (IOException e) {
                LOG.debug("NBD: cannot set TCP_NODELAY: {}", e.toString());
            }
            int id = connectionIds.incrementAndGet();
            Connection connection = new Connection(id, channel, exports, workers);
            connections.add(connection);
            Thread thread = new Thread(() -> {
                try {
                    connection.run();
                } finally {
                    connections.remove(connection);
                }
            }, "nbd-connection-" + id);
            thread.setDaemon(true);
            thread.start();
        }
    }

    private static ThreadFactory daemonThreads(String prefix) {
        AtomicInteger count = new AtomicInteger();
        return runnable -> {
            Thread thread = new Thread(runnable, prefix + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }

    private static void sleepBriefly() {
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void joinUninterruptibly(Thread thread) {
        boolean interrupted = false;
        while (thread.isAlive()) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(ServerSocketChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException e) {
                LOG.debug("NBD: closing the listener: {}", e.toString());
            }
        }
    }
}
