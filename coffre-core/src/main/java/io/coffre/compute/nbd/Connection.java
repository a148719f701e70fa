package io.coffre.compute.nbd;

import io.coffre.compute.disk.BlockDevice;
import io.coffre.compute.nbd.ExportRegistry.Export;
import io.coffre.compute.nbd.Handshake.Session;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection, on its own thread: the handshake, then the transmission phase. This thread reads requests
 * and checks them; the device work runs on the server's shared workers, which reply as they finish (so replies
 * come out of order, matched by cookie) under one lock so that a reply's header and data are never interleaved with
 * another's.
 *
 * <p>Memory is bounded per connection: each request in flight holds permits for its payload (WRITE) or reply data
 * (READ) plus a fixed cost, and the reader waits for permits before reading on, so a client that sends faster than
 * the device works is slowed down by TCP.
 *
 * <p>The end, whatever its cause (NBD_CMD_DISC, the client closing, {@link #stop}), is the same: stop reading, let
 * every request already read finish and reply, then close the device, which flushes it.
 */
final class Connection implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(Connection.class);

    /** Permits of one connection: enough for 64 × 256 KiB (nbdcopy) or 16 × 2 MiB (qemu), and a 32 MiB request. */
    private static final int IN_FLIGHT_BUDGET = 64 << 20;
    /** What a request costs on top of its data, so that payload-free requests are bounded in number too. */
    private static final int REQUEST_COST = 4096;
    /** How long replies may take to reach a client once the connection ends, before the socket is closed. */
    private static final long REPLY_GRACE_SECONDS = 30;
    private static final int ZERO_CHUNK = 1 << 20;
    private static final byte[] ZEROS = new byte[ZERO_CHUNK];

    private final SocketChannel channel;
    private final ExportRegistry exports;
    private final Executor workers;
    private final String name;
    private final Semaphore budget = new Semaphore(IN_FLIGHT_BUDGET);
    private final Object replyLock = new Object();
    private final CountDownLatch finished = new CountDownLatch(1);
    private final long[] commandCounts = new long[Nbd.commandTypes() + 1];
    private final AtomicLong errors = new AtomicLong();
    private long bytesWritten;
    private long bytesRead;

    /** The export this connection uses or is about to open; set before the registry is asked (see disconnect). */
    private volatile String exportName;
    private volatile boolean stopping;
    private volatile boolean replyFailed;

    Connection(int id, SocketChannel channel, ExportRegistry exports, Executor workers) {
        this.channel = channel;
        this.exports = exports;
        this.workers = workers;
        this.name = "#" + id + " " + remoteAddress(channel);
    }

    /** The export this connection serves or is opening, or null. */
    String exportName() {
        return exportName;
    }

    /**
     * Asks the connection to end: no more requests are read, the ones already read finish and are answered, the
     * device is closed. Returns at once; {@link #awaitFinished} waits for the end.
     */
    void stop() {
        stopping = true;
        try {
            channel.shutdownInput();
        } catch (IOException | RuntimeException e) {
            LOG.trace("nbd {}: shutting down input: {}", name, e.toString());
        }
    }

    void awaitFinished() {
        boolean interrupted = false;
        while (true) {
            try {
                finished.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void run() {
        long started = System.nanoTime();
        Handshake handshake = new Handshake(channel, trackingExports(), name);
        Session session = null;
        String ending = "failed";
        try {
            session = handshake.negotiate().orElse(null);
            ending = session == null ? "handshake ended without an export" : transmit(session);
        } catch (IOException e) {
            ending = replyFailed ? "connection lost while replying" : stopping ? "stopped by the server"
                    : e instanceof EOFException ? "closed by the client" : "connection lost: " + e;
        } catch (RuntimeException e) {
            LOG.warn("nbd {}: unexpected failure; closing the connection", name, e);
            ending = "failed: " + e;
        } finally {
            try {
                if (session != null) {
                    awaitInFlight();
                    closeDevice(session);
                }
            } finally {
                closeChannel();
                logSummary(session, handshake.optionLog(), ending, started);
                finished.countDown();
            }
        }
    }

    /** The registry, noting each name before it is opened, so that a disconnect racing the open still finds us. */
    private ExportRegistry trackingExports() {
        return new ExportRegistry() {
            @Override
            public Optional<Export> open(String requested) {
                exportName = requested;
                return exports.open(requested);
            }

            @Override
            public List<String> list() {
                return exports.list();
            }
        };
    }

    private String transmit(Session session) throws IOException {
        LOG.debug("nbd {}: transmission on export '{}'", name, session.exportName());
        Export export = session.export();
        long size = export.device().size();
        ByteBuffer header = ByteBuffer.allocate(28);
        while (true) {
            header.clear();
            Wire.readFully(channel, header);
            header.flip();
            if (header.getInt() != Nbd.REQUEST_MAGIC) {
                return "protocol error: bad request magic";
            }
            Request request = new Request(header.getShort() & 0xffff, header.getShort() & 0xffff, header.getLong(),
                    header.getLong(), Integer.toUnsignedLong(header.getInt()));
            commandCounts[Math.min(request.type(), Nbd.commandTypes())]++;
            if (request.type() == Nbd.CMD_DISC) {
                return "NBD_CMD_DISC";
            }
            int error = request.check(size, export.readOnly(), session.alignment());
            boolean hasPayload = request.type() == Nbd.CMD_WRITE;
            if (error != 0 || request.type() == Nbd.CMD_CACHE) {
                if (hasPayload) {
                    Wire.skip(channel, request.length());
                }
                reply(request.cookie(), error, null);
                continue;
            }
            int cost = REQUEST_COST + (hasPayload || request.type() == Nbd.CMD_READ ? (int) request.length() : 0);
            if (!acquire(cost)) {
                return "stopped by the server";
            }
            try {
                byte[] payload = hasPayload ? new byte[(int) request.length()] : null;
                if (hasPayload) {
                    Wire.readFully(channel, ByteBuffer.wrap(payload));
                    bytesWritten += payload.length;
                } else if (request.type() == Nbd.CMD_READ) {
                    bytesRead += request.length();
                }
                workers.execute(() -> execute(export.device(), request, payload, cost));
            } catch (IOException | RuntimeException e) {
                budget.release(cost);
                throw e;
            }
        }
    }

    /** Waits for permits; gives up only when the connection is stopping (a client not reading its replies). */
    private boolean acquire(int permits) {
        try {
            while (!budget.tryAcquire(permits, 1, TimeUnit.SECONDS)) {
                if (stopping) {
                    return false;
                }
            }
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private void execute(BlockDevice device, Request request, byte[] payload, int cost) {
        try {
            byte[] data = null;
            int error = 0;
            try {
                data = perform(device, request, payload);
            } catch (RuntimeException e) {
                error = Nbd.EIO;
                reportDeviceFailure(request, e);
            }
            reply(request.cookie(), error, data);
        } finally {
            budget.release(cost);
        }
    }

    /** Runs a checked request on the device; returns the data to send back (READ only). */
    private static byte[] perform(BlockDevice device, Request request, byte[] payload) {
        boolean fua = request.has(Nbd.CMD_FLAG_FUA);
        switch (request.type()) {
            case Nbd.CMD_READ -> {
                byte[] data = new byte[(int) request.length()];
                device.read(request.offset(), data, 0, data.length);
                return data;
            }
            case Nbd.CMD_WRITE -> device.write(request.offset(), payload, 0, payload.length, fua);
            case Nbd.CMD_FLUSH -> device.flush();
            case Nbd.CMD_TRIM -> {
                device.trim(request.offset(), request.length());
                if (fua) {
                    device.flush();
                }
            }
            case Nbd.CMD_WRITE_ZEROES -> {
                if (request.has(Nbd.CMD_FLAG_NO_HOLE)) {
                    writeZeroes(device, request.offset(), request.length());
                } else {
                    // A BlockDevice reads trimmed ranges as zeros, and trimming is what frees storage.
                    device.trim(request.offset(), request.length());
                }
                if (fua) {
                    device.flush();
                }
            }
            default -> throw new IllegalStateException("unchecked command " + request.type());
        }
        return null;
    }

    private static void writeZeroes(BlockDevice device, long offset, long length) {
        for (long done = 0; done < length; done += ZERO_CHUNK) {
            device.write(offset + done, ZEROS, 0, (int) Math.min(ZERO_CHUNK, length - done), false);
        }
    }

    private void reportDeviceFailure(Request request, RuntimeException e) {
        String what = "nbd " + name + " export '" + exportName + "': " + Nbd.commandName(request.type()) + " at "
                + request.offset() + "+" + request.length() + " failed on the device; replied EIO";
        // The first failure with its stack; a failing disk fails every request, and the summary counts them all.
        if (errors.getAndIncrement() == 0) {
            LOG.warn(what, e);
        } else {
            LOG.debug(what, e);
        }
    }

    /** Sends a simple reply; {@code data} follows the header only for a successful READ. */
    private void reply(long cookie, int error, byte[] data) {
        ByteBuffer header = ByteBuffer.allocate(16).putInt(Nbd.SIMPLE_REPLY_MAGIC).putInt(error).putLong(cookie).flip();
        synchronized (replyLock) {
            if (replyFailed) {
                return;
            }
            try {
                if (data == null) {
                    Wire.write(channel, header);
                } else {
                    Wire.write(channel, header, ByteBuffer.wrap(data));
                }
            } catch (IOException e) {
                // The client is gone or the socket was closed; what is left to reply to cannot reach anyone.
                replyFailed = true;
                LOG.debug("nbd {}: sending a reply failed: {}", name, e.toString());
                stop();
            }
        }
    }

    /** Every request read so far has replied (or its reply failed) and left the device alone. */
    private void awaitInFlight() {
        boolean drained;
        try {
            drained = budget.tryAcquire(IN_FLIGHT_BUDGET, REPLY_GRACE_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            drained = false;
        }
        if (!drained) {
            LOG.warn("nbd {}: replies still pending after {} s; closing the socket", name, REPLY_GRACE_SECONDS);
            closeChannel();
            // The device must not be closed under a request still running on it.
            budget.acquireUninterruptibly(IN_FLIGHT_BUDGET);
        }
    }

    private void closeDevice(Session session) {
        try {
            session.export().device().close();
        } catch (RuntimeException e) {
            LOG.warn("nbd {}: closing (flushing) export '{}' failed; writes since the last flush may be lost", name,
                    session.exportName(), e);
        }
    }

    private void closeChannel() {
        try {
            channel.close();
        } catch (IOException e) {
            LOG.trace("nbd {}: closing the socket: {}", name, e.toString());
        }
    }

    private void logSummary(Session session, List<String> options, String ending, long started) {
        if (!LOG.isDebugEnabled()) {
            return;
        }
        StringBuilder commands = new StringBuilder();
        for (int type = 0; type < commandCounts.length; type++) {
            if (commandCounts[type] > 0) {
                commands.append(commands.length() == 0 ? "" : " ")
                        .append(type < Nbd.commandTypes() ? Nbd.commandName(type) : "unknown")
                        .append('=').append(commandCounts[type]);
            }
        }
        LOG.debug("nbd {} ended ({}) after {} ms: export {}, options {}, commands [{}], {} bytes written, "
                        + "{} bytes read, {} device errors", name, ending, (System.nanoTime() - started) / 1_000_000,
                session == null ? "none" : "'" + session.exportName() + "'", options, commands, bytesWritten,
                bytesRead, errors.get());
    }

    private static String remoteAddress(SocketChannel channel) {
        try {
            return String.valueOf(channel.getRemoteAddress());
        } catch (IOException e) {
            return "unknown peer";
        }
    }
}
