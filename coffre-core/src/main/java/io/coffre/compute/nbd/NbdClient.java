package io.coffre.compute.nbd;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A minimal blocking NBD client (fixed-newstyle handshake, {@code NBD_OPT_GO}, simple replies, one request at a
 * time): what {@code coffre vm disk read|write} and the tests use to reach a running VM's disks. Not thread-safe.
 */
public final class NbdClient implements AutoCloseable {
    private final Socket socket;
    private final DataInputStream in;
    private final DataOutputStream out;
    private final long size;
    private final boolean readOnly;
    private long nextHandle = 1;

    private NbdClient(Socket socket, DataInputStream in, DataOutputStream out, long size, boolean readOnly) {
        this.socket = socket;
        this.in = in;
        this.out = out;
        this.size = size;
        this.readOnly = readOnly;
    }

    /**
     * Connects and selects {@code exportName}.
     *
     * @throws IOException when the server is unreachable or has no such export (the message says which)
     */
    public static NbdClient connect(InetSocketAddress server, String exportName) throws IOException {
        Socket socket = new Socket();
        try {
            socket.connect(server, 10_000);
            socket.setTcpNoDelay(true);
            DataInputStream in = new DataInputStream(new BufferedInputStream(socket.getInputStream()));
            DataOutputStream out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream()));
            if (in.readLong() != Nbd.NBDMAGIC || in.readLong() != Nbd.IHAVEOPT) {
                throw new IOException("not an NBD server (fixed newstyle) at " + server);
            }
            in.readShort(); // handshake flags
            out.writeInt(Nbd.CLIENT_FLAG_FIXED_NEWSTYLE);
            byte[] name = exportName.getBytes(StandardCharsets.UTF_8);
            out.writeLong(Nbd.IHAVEOPT);
            out.writeInt(Nbd.OPT_GO);
            out.writeInt(4 + name.length + 2);
            out.writeInt(name.length);
            out.write(name);
            out.writeShort(0); // no information requests: the server sends NBD_INFO_EXPORT anyway
            out.flush();
            long size = -1;
            boolean readOnly = false;
            while (true) {
                if (in.readLong() != Nbd.OPTION_REPLY_MAGIC) {
                    throw new IOException("bad option reply from the NBD server");
                }
                in.readInt(); // the option replied to
                int type = in.readInt();
                byte[] data = new byte[in.readInt()];
                in.readFully(data);
                if (type == Nbd.REP_ACK) {
                    break;
                }
                if (type == Nbd.REP_INFO && data.length >= 12 && ((data[0] << 8) | (data[1] & 0xff)) == Nbd.INFO_EXPORT) {
                    java.nio.ByteBuffer info = java.nio.ByteBuffer.wrap(data, 2, 10);
                    size = info.getLong();
                    readOnly = (info.getShort() & Nbd.TX_READ_ONLY) != 0;
                } else if (type < 0) {
                    throw new IOException(type == Nbd.REP_ERR_UNKNOWN ? "the NBD server has no export named '"
                            + exportName + "' (is the VM running?)" : "the NBD server refused export '" + exportName
                            + "' (error 0x" + Integer.toHexString(type) + ")" + (data.length > 0 ? ": "
                            + new String(data, StandardCharsets.UTF_8) : ""));
                }
            }
            if (size < 0) {
                throw new IOException("the NBD server did not send the export's size");
            }
            return new NbdClient(socket, in, out, size, readOnly);
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    public long size() {
        return size;
    }

    public boolean readOnly() {
        return readOnly;
    }

    public void read(long offset, byte[] target, int targetOffset, int length) throws IOException {
        request(Nbd.CMD_READ, 0, offset, length, null, 0);
        in.readFully(target, targetOffset, length);
    }

    /** @param fua durable when it returns (else only after {@link #flush} or {@link #close}) */
    public void write(long offset, byte[] source, int sourceOffset, int length, boolean fua) throws IOException {
        request(Nbd.CMD_WRITE, fua ? Nbd.CMD_FLAG_FUA : 0, offset, length, source, sourceOffset);
    }

    public void flush() throws IOException {
        request(Nbd.CMD_FLUSH, 0, 0, 0, null, 0);
    }

    private void request(int command, int flags, long offset, int length, byte[] payload, int payloadOffset)
            throws IOException {
        long handle = nextHandle++;
        out.writeInt(Nbd.REQUEST_MAGIC);
        out.writeShort(flags);
        out.writeShort(command);
        out.writeLong(handle);
        out.writeLong(offset);
        out.writeInt(length);
        if (payload != null) {
            out.write(payload, payloadOffset, length);
        }
        out.flush();
        if (in.readInt() != Nbd.SIMPLE_REPLY_MAGIC) {
            throw new IOException("bad reply from the NBD server");
        }
        int error = in.readInt();
        if (in.readLong() != handle) {
            throw new IOException("the NBD server answered another request");
        }
        if (error != 0) {
            throw new IOException("NBD " + Nbd.commandName(command) + " at " + offset + " (" + length
                    + " bytes) failed with error " + error + (error == Nbd.EINVAL ? " (invalid range)" : ""));
        }
    }

    /** Sends NBD_CMD_DISC (the server flushes) and closes the socket. */
    @Override
    public void close() throws IOException {
        try {
            out.writeInt(Nbd.REQUEST_MAGIC);
            out.writeShort(0);
            out.writeShort(Nbd.CMD_DISC);
            out.writeLong(nextHandle++);
            out.writeLong(0);
            out.writeInt(0);
            out.flush();
            // the server closes after flushing: wait for it, so a disconnect is durable when close returns
            while (in.read() >= 0) {
                // nothing more is expected
            }
        } catch (IOException ignored) {
            // the server went first; nothing left to wait for
        } finally {
            socket.close();
        }
    }
}
