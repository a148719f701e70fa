package io.coffre.compute.nbd;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** A minimal NBD client that speaks the wire byte by byte, so tests can send what real clients would not. */
final class NbdTestClient implements AutoCloseable {
    record OptionReply(int option, int type, byte[] data) {
        boolean isError() {
            return type < 0;
        }

        String message() {
            return new String(data, StandardCharsets.UTF_8);
        }

        ByteBuffer buffer() {
            return ByteBuffer.wrap(data);
        }
    }

    record Reply(int error, long cookie, byte[] data) {
    }

    final Socket socket;
    final DataInputStream in;
    final DataOutputStream out;
    final int handshakeFlags;
    private final Map<Long, Integer> pendingReads = new ConcurrentHashMap<>();

    private NbdTestClient(Socket socket) throws IOException {
        this.socket = socket;
        socket.setSoTimeout(20_000);
        this.in = new DataInputStream(socket.getInputStream());
        this.out = new DataOutputStream(socket.getOutputStream());
        if (in.readLong() != Nbd.NBDMAGIC || in.readLong() != Nbd.IHAVEOPT) {
            throw new IOException("not an NBD newstyle server");
        }
        this.handshakeFlags = in.readUnsignedShort();
    }

    /** Connects and reads the greeting; the client flags are still to be sent. */
    static NbdTestClient greet(int port) throws IOException {
        return new NbdTestClient(new Socket(InetAddress.getLoopbackAddress(), port));
    }

    /** Connects and sends the client flags. */
    static NbdTestClient connect(int port, int clientFlags) throws IOException {
        NbdTestClient client = greet(port);
        client.out.writeInt(clientFlags);
        client.out.flush();
        return client;
    }

    static NbdTestClient connect(int port) throws IOException {
        return connect(port, Nbd.CLIENT_FLAG_FIXED_NEWSTYLE | Nbd.CLIENT_FLAG_NO_ZEROES);
    }

    /** Sends an option and reads replies up to the final one (ACK or an error). */
    List<OptionReply> option(int option, byte[] data) throws IOException {
        sendOption(option, data);
        List<OptionReply> replies = new ArrayList<>();
        OptionReply reply;
        do {
            reply = readOptionReply();
            replies.add(reply);
        } while (reply.type() != Nbd.REP_ACK && !reply.isError());
        return replies;
    }

    void sendOption(int option, byte[] data) throws IOException {
        out.writeLong(Nbd.IHAVEOPT);
        out.writeInt(option);
        out.writeInt(data.length);
        out.write(data);
        out.flush();
    }

    OptionReply readOptionReply() throws IOException {
        long magic = in.readLong();
        if (magic != Nbd.OPTION_REPLY_MAGIC) {
            throw new IOException("bad option reply magic " + Long.toHexString(magic));
        }
        int option = in.readInt();
        int type = in.readInt();
        byte[] data = new byte[in.readInt()];
        in.readFully(data);
        return new OptionReply(option, type, data);
    }

    /** The data of NBD_OPT_INFO / NBD_OPT_GO. */
    static byte[] infoRequest(String exportName, short... infos) {
        byte[] name = exportName.getBytes(StandardCharsets.UTF_8);
        ByteBuffer data = ByteBuffer.allocate(4 + name.length + 2 + 2 * infos.length).putInt(name.length).put(name)
                .putShort((short) infos.length);
        for (short info : infos) {
            data.putShort(info);
        }
        return data.array();
    }

    /** NBD_OPT_GO with a block-size request; fails unless the server acknowledged. */
    NbdTestClient go(String exportName) throws IOException {
        List<OptionReply> replies = option(Nbd.OPT_GO, infoRequest(exportName, Nbd.INFO_BLOCK_SIZE));
        OptionReply last = replies.get(replies.size() - 1);
        if (last.type() != Nbd.REP_ACK) {
            throw new IOException("GO refused: " + Integer.toHexString(last.type()) + " " + last.message());
        }
        return this;
    }

    // Transmission.

    void request(int flags, int type, long cookie, long offset, long length, byte[] payload) throws IOException {
        out.writeInt(Nbd.REQUEST_MAGIC);
        out.writeShort(flags);
        out.writeShort(type);
        out.writeLong(cookie);
        out.writeLong(offset);
        out.writeInt((int) length);
        if (payload != null) {
            out.write(payload);
        }
        out.flush();
    }

    void sendRead(long cookie, long offset, int length) throws IOException {
        pendingReads.put(cookie, length);
        request(0, Nbd.CMD_READ, cookie, offset, length, null);
    }

    void sendWrite(int flags, long cookie, long offset, byte[] data) throws IOException {
        request(flags, Nbd.CMD_WRITE, cookie, offset, data.length, data);
    }

    /** Reads one simple reply; the data of a successful READ comes with it. */
    Reply reply() throws IOException {
        int magic = in.readInt();
        if (magic != Nbd.SIMPLE_REPLY_MAGIC) {
            throw new IOException("bad reply magic " + Integer.toHexString(magic));
        }
        int error = in.readInt();
        long cookie = in.readLong();
        Integer readLength = pendingReads.remove(cookie);
        byte[] data = null;
        if (readLength != null && error == 0) {
            data = new byte[readLength];
            in.readFully(data);
        }
        return new Reply(error, cookie, data);
    }

    byte[] read(long offset, int length) throws IOException {
        sendRead(1, offset, length);
        Reply reply = reply();
        if (reply.error() != 0) {
            throw new IOException("READ failed with error " + reply.error());
        }
        return reply.data();
    }

    /** Sends one request and returns its reply's error. */
    int call(int flags, int type, long offset, long length, byte[] payload) throws IOException {
        request(flags, type, 7, offset, length, payload);
        return reply().error();
    }

    void disconnect() throws IOException {
        request(0, Nbd.CMD_DISC, 0, 0, 0, null);
    }

    /** True once the server has closed the connection (reads end of stream). */
    boolean closedByServer() throws IOException {
        try {
            return in.read() < 0;
        } catch (SocketException e) {
            return true; // closed with unread data: a reset
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
