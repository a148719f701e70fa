package io.coffre.compute.nbd;

/**
 * Wire constants of the NBD protocol (fixed-newstyle handshake, simple replies), with names for the logs.
 * All integers on the wire are big-endian.
 */
final class Nbd {
    static final long NBDMAGIC = 0x4E42444D41474943L;
    static final long IHAVEOPT = 0x49484156454F5054L;
    static final long OPTION_REPLY_MAGIC = 0x0003E889045565A9L;
    static final int REQUEST_MAGIC = 0x25609513;
    static final int SIMPLE_REPLY_MAGIC = 0x67446698;

    /** Sector alignment, enforced only on clients that asked for block sizes (and so heard of it). */
    static final int MIN_BLOCK_SIZE = 512;
    /**
     * The disk store's block size. Clients size their requests by it: with 4 MiB, qemu-img 7.2 writes 4 MiB chunks
     * (2 MiB with 4 KiB) and nbdcopy 1.14 reads and writes 4 MiB (256 KiB otherwise), so writes arrive as whole
     * blocks, and a 64 MiB copy measured about twice as fast. Both accept it (qemu wants a power of two ≤ maximum).
     */
    static final int PREFERRED_BLOCK_SIZE = 4 << 20;
    /**
     * The largest READ or WRITE: bigger ones get EINVAL, which bounds the memory one request can pin. qemu-nbd uses
     * the same limit and clients keep to it (qemu writes 2 MiB, nbdcopy 256 KiB). TRIM and WRITE_ZEROES carry no
     * payload and may be longer.
     */
    static final int MAX_PAYLOAD = 32 << 20;

    static final short FLAG_FIXED_NEWSTYLE = 1;
    static final short FLAG_NO_ZEROES = 2;
    static final int CLIENT_FLAG_FIXED_NEWSTYLE = 1;
    static final int CLIENT_FLAG_NO_ZEROES = 2;

    static final int OPT_EXPORT_NAME = 1;
    static final int OPT_ABORT = 2;
    static final int OPT_LIST = 3;
    static final int OPT_INFO = 6;
    static final int OPT_GO = 7;
    static final int OPT_STRUCTURED_REPLY = 8;
    static final int OPT_LIST_META_CONTEXT = 9;
    static final int OPT_SET_META_CONTEXT = 10;

    static final int REP_ACK = 1;
    static final int REP_SERVER = 2;
    static final int REP_INFO = 3;
    static final int REP_ERR_UNSUP = 0x80000001;
    static final int REP_ERR_INVALID = 0x80000003;
    static final int REP_ERR_UNKNOWN = 0x80000006;
    static final int REP_ERR_TOO_BIG = 0x80000009;

    static final short INFO_EXPORT = 0;
    static final short INFO_BLOCK_SIZE = 3;

    static final short TX_HAS_FLAGS = 0x0001;
    static final short TX_READ_ONLY = 0x0002;
    static final short TX_SEND_FLUSH = 0x0004;
    static final short TX_SEND_FUA = 0x0008;
    static final short TX_SEND_TRIM = 0x0020;
    static final short TX_SEND_WRITE_ZEROES = 0x0040;
    static final short TX_CAN_MULTI_CONN = 0x0100;

    static final int CMD_READ = 0;
    static final int CMD_WRITE = 1;
    static final int CMD_DISC = 2;
    static final int CMD_FLUSH = 3;
    static final int CMD_TRIM = 4;
    static final int CMD_CACHE = 5;
    static final int CMD_WRITE_ZEROES = 6;
    static final int CMD_BLOCK_STATUS = 7;

    static final int CMD_FLAG_FUA = 0x01;
    static final int CMD_FLAG_NO_HOLE = 0x02;

    static final int EPERM = 1;
    static final int EIO = 5;
    static final int EINVAL = 22;
    static final int ENOSPC = 28;

    private static final String[] OPTION_NAMES = {null, "EXPORT_NAME", "ABORT", "LIST", "PEEK_EXPORT", "STARTTLS",
        "INFO", "GO", "STRUCTURED_REPLY", "LIST_META_CONTEXT", "SET_META_CONTEXT", "EXTENDED_HEADERS"};
    private static final String[] INFO_NAMES = {"EXPORT", "NAME", "DESCRIPTION", "BLOCK_SIZE"};
    private static final String[] COMMAND_NAMES = {"READ", "WRITE", "DISC", "FLUSH", "TRIM", "CACHE",
        "WRITE_ZEROES", "BLOCK_STATUS"};

    private Nbd() {
    }

    static String optionName(int option) {
        return option > 0 && option < OPTION_NAMES.length ? OPTION_NAMES[option] : "OPTION_" + option;
    }

    static String infoName(int info) {
        return info >= 0 && info < INFO_NAMES.length ? INFO_NAMES[info] : "INFO_" + info;
    }

    static String commandName(int command) {
        return command >= 0 && command < COMMAND_NAMES.length ? COMMAND_NAMES[command] : "COMMAND_" + command;
    }

    /** The number of known command types; unknown commands are counted together after them. */
    static int commandTypes() {
        return COMMAND_NAMES.length;
    }
}
