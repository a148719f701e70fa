package io.coffre.compute.nbd;

import io.coffre.compute.nbd.ExportRegistry.Export;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fixed-newstyle handshake, server side: greeting, client flags, then options one at a time until the client
 * picks an export ({@code NBD_OPT_EXPORT_NAME} or {@code NBD_OPT_GO}), aborts, or breaks the protocol.
 *
 * <p>Structured replies and metadata contexts are refused with {@code NBD_REP_ERR_UNSUP}: both qemu 7.2 and libnbd
 * 1.14 then carry on with simple replies. Block status would be their only gain, and a {@code BlockDevice} cannot
 * say which ranges are allocated.
 */
final class Handshake {
    private static final Logger LOG = LoggerFactory.getLogger(Handshake.class);

    /** Longer INFO / GO payloads are dropped and refused: a name is at most 4096 bytes, plus a short info list. */
    private static final int MAX_OPTION_LENGTH = 16 * 1024;
    private static final int MAX_NAME_LENGTH = 4096;
    private static final int ZERO_PADDING = 124;

    /** What the handshake settled: the export, opened, and the alignment the client agreed to honour. */
    record Session(String exportName, Export export, int alignment) {
    }

    private final SocketChannel channel;
    private final ExportRegistry exports;
    private final String connection;
    private final List<String> optionLog = new ArrayList<>();
    private boolean noZeroes;

    /**
     * @param exports    opens the export a client asks for; the caller wraps the server's registry to learn the
     *                   name before the open happens
     * @param connection names the connection in the logs
     */
    Handshake(SocketChannel channel, ExportRegistry exports, String connection) {
        this.channel = channel;
        this.exports = exports;
        this.connection = connection;
    }

    /** The options the client sent, in order, for the connection's summary line. */
    List<String> optionLog() {
        return optionLog;
    }

    /** Runs the handshake; empty when the client aborted or was refused (the caller then closes the socket). */
    Optional<Session> negotiate() throws IOException {
        Wire.write(channel, ByteBuffer.allocate(18).putLong(Nbd.NBDMAGIC).putLong(Nbd.IHAVEOPT)
                .putShort((short) (Nbd.FLAG_FIXED_NEWSTYLE | Nbd.FLAG_NO_ZEROES)).flip());
        int clientFlags = Wire.read(channel, 4).getInt();
        if ((clientFlags & ~(Nbd.CLIENT_FLAG_FIXED_NEWSTYLE | Nbd.CLIENT_FLAG_NO_ZEROES)) != 0) {
            LOG.debug("nbd {}: unknown client flags 0x{}; dropping the connection", connection,
                    Integer.toHexString(clientFlags));
            return Optional.empty();
        }
        noZeroes = (clientFlags & Nbd.CLIENT_FLAG_NO_ZEROES) != 0;
        while (true) {
            ByteBuffer header = Wire.read(channel, 16);
            long magic = header.getLong();
            int option = header.getInt();
            long length = Integer.toUnsignedLong(header.getInt());
            String name = Nbd.optionName(option);
            if (magic != Nbd.IHAVEOPT) {
                LOG.debug("nbd {}: bad option magic 0x{}; dropping the connection", connection, Long.toHexString(magic));
                return Optional.empty();
            }
            if (option == Nbd.OPT_EXPORT_NAME) {
                return exportName(length);
            }
            switch (option) {
                case Nbd.OPT_ABORT -> {
                    optionLog.add(name);
                    Wire.skip(channel, length);
                    ack(option);
                    return Optional.empty();
                }
                case Nbd.OPT_LIST -> {
                    optionLog.add(name);
                    list(length);
                }
                case Nbd.OPT_INFO, Nbd.OPT_GO -> {
                    Optional<Session> session = length > MAX_OPTION_LENGTH ? tooBig(option, length)
                            : infoOrGo(option, Wire.read(channel, (int) length));
                    if (session.isPresent()) {
                        return session;
                    }
                }
                case Nbd.OPT_STRUCTURED_REPLY -> refuse(option, length, "structured replies are not supported; "
                        + "this server sends simple replies");
                case Nbd.OPT_LIST_META_CONTEXT, Nbd.OPT_SET_META_CONTEXT -> refuse(option, length,
                        "metadata contexts (block status) are not supported");
                default -> refuse(option, length, "option " + name + " is not supported");
            }
        }
    }

    private Optional<Session> tooBig(int option, long length) throws IOException {
        optionLog.add(Nbd.optionName(option) + "(too big)");
        Wire.skip(channel, length);
        reply(option, Nbd.REP_ERR_TOO_BIG, "option data of " + length + " bytes is over the limit of "
                + MAX_OPTION_LENGTH);
        return Optional.empty();
    }

    private void refuse(int option, long length, String message) throws IOException {
        optionLog.add(Nbd.optionName(option) + "(unsupported)");
        Wire.skip(channel, length);
        reply(option, Nbd.REP_ERR_UNSUP, message);
    }

    /** The old way in: no reply header, and an unknown export can only be refused by closing. */
    private Optional<Session> exportName(long length) throws IOException {
        if (length > MAX_NAME_LENGTH) {
            optionLog.add("EXPORT_NAME(name too long)");
            return Optional.empty();
        }
        Optional<String> name = utf8(Wire.read(channel, (int) length));
        optionLog.add("EXPORT_NAME(" + name.orElse("<not UTF-8>") + ")");
        Optional<Export> export = name.flatMap(exports::open);
        if (export.isEmpty()) {
            LOG.debug("nbd {}: NBD_OPT_EXPORT_NAME for unknown export {}; dropping the connection", connection,
                    name.orElse("<not UTF-8>"));
            return Optional.empty();
        }
        try {
            ByteBuffer reply = ByteBuffer.allocate(10 + (noZeroes ? 0 : ZERO_PADDING));
            reply.putLong(export.get().device().size()).putShort(transmissionFlags(export.get()));
            Wire.write(channel, reply.position(0));
        } catch (IOException | RuntimeException e) {
            export.get().device().close();
            throw e;
        }
        // Without NBD_OPT_GO the client never heard of a minimum block size, so any alignment goes.
        return Optional.of(new Session(name.get(), export.get(), 1));
    }

    private void list(long length) throws IOException {
        if (length != 0) {
            Wire.skip(channel, length);
            reply(Nbd.OPT_LIST, Nbd.REP_ERR_INVALID, "NBD_OPT_LIST takes no data");
            return;
        }
        for (String exportName : exports.list()) {
            byte[] bytes = exportName.getBytes(StandardCharsets.UTF_8);
            reply(Nbd.OPT_LIST, Nbd.REP_SERVER, ByteBuffer.allocate(4 + bytes.length).putInt(bytes.length).put(bytes)
                    .flip());
        }
        ack(Nbd.OPT_LIST);
    }

    /** INFO and GO share their request and replies; GO then enters transmission with the export still open. */
    private Optional<Session> infoOrGo(int option, ByteBuffer data) throws IOException {
        String optionName = Nbd.optionName(option);
        int nameLength = data.remaining() >= 6 ? data.getInt() : -1;
        if (nameLength < 0 || nameLength > Math.min(MAX_NAME_LENGTH, data.remaining() - 2)) {
            optionLog.add(optionName + "(malformed)");
            reply(option, Nbd.REP_ERR_INVALID, "malformed " + optionName + " request: bad name length");
            return Optional.empty();
        }
        Optional<String> name = utf8(data.slice(data.position(), nameLength));
        data.position(data.position() + nameLength);
        int requestCount = data.getShort() & 0xffff;
        if (name.isEmpty() || data.remaining() != 2 * requestCount) {
            optionLog.add(optionName + "(malformed)");
            reply(option, Nbd.REP_ERR_INVALID, "malformed " + optionName + " request: "
                    + (name.isEmpty() ? "the export name is not UTF-8" : "bad information request count"));
            return Optional.empty();
        }
        List<String> requested = new ArrayList<>();
        boolean blockSizeRequested = false;
        for (int i = 0; i < requestCount; i++) {
            short info = data.getShort();
            blockSizeRequested |= info == Nbd.INFO_BLOCK_SIZE;
            requested.add(Nbd.infoName(info & 0xffff));
        }
        optionLog.add(optionName + "(" + name.get() + "," + requested + ")");

        Optional<Export> opened = exports.open(name.get());
        if (opened.isEmpty()) {
            reply(option, Nbd.REP_ERR_UNKNOWN, "no export named '" + name.get()
                    + "' (a VM exports its disks only while it runs; NBD_OPT_LIST shows the exports)");
            return Optional.empty();
        }
        Export export = opened.get();
        int alignment;
        try {
            long size = export.device().size();
            reply(option, Nbd.REP_INFO, ByteBuffer.allocate(12).putShort(Nbd.INFO_EXPORT).putLong(size)
                    .putShort(transmissionFlags(export)).flip());
            if (blockSizeRequested) {
                reply(option, Nbd.REP_INFO, ByteBuffer.allocate(14).putShort(Nbd.INFO_BLOCK_SIZE)
                        .putInt(minimumBlockSize(size)).putInt(Nbd.PREFERRED_BLOCK_SIZE).putInt(Nbd.MAX_PAYLOAD)
                        .flip());
            }
            alignment = blockSizeRequested ? minimumBlockSize(size) : 1;
        } catch (IOException | RuntimeException e) {
            export.device().close();
            throw e;
        }
        if (option == Nbd.OPT_INFO) {
            // Released before the ACK, so that a client never finds the export still held by a finished INFO.
            export.device().close();
            ack(option);
            return Optional.empty();
        }
        try {
            ack(option);
        } catch (IOException e) {
            export.device().close();
            throw e;
        }
        return Optional.of(new Session(name.get(), export, alignment));
    }

    /** Sector alignment, unless the device size itself is not a multiple of a sector. */
    static int minimumBlockSize(long size) {
        return size % Nbd.MIN_BLOCK_SIZE == 0 ? Nbd.MIN_BLOCK_SIZE : 1;
    }

    static short transmissionFlags(Export export) {
        int flags = Nbd.TX_HAS_FLAGS | Nbd.TX_SEND_FLUSH | Nbd.TX_SEND_FUA | Nbd.TX_SEND_TRIM
                | Nbd.TX_SEND_WRITE_ZEROES | Nbd.TX_CAN_MULTI_CONN;
        return (short) (export.readOnly() ? flags | Nbd.TX_READ_ONLY : flags);
    }

    private void ack(int option) throws IOException {
        reply(option, Nbd.REP_ACK, ByteBuffer.allocate(0));
    }

    /** An error reply; its data is a message for the user. */
    private void reply(int option, int error, String message) throws IOException {
        reply(option, error, ByteBuffer.wrap(message.getBytes(StandardCharsets.UTF_8)));
    }

    private void reply(int option, int type, ByteBuffer data) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(20).putLong(Nbd.OPTION_REPLY_MAGIC).putInt(option).putInt(type)
                .putInt(data.remaining()).flip();
        Wire.write(channel, header, data);
    }

    private static Optional<String> utf8(ByteBuffer bytes) {
        try {
            return Optional.of(StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(bytes).toString());
        } catch (CharacterCodingException e) {
            return Optional.empty();
        }
    }
}
