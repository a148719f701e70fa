package io.coffre.compute.nbd;

/** One transmission-phase request header. {@code offset} is unsigned on the wire: a negative value is past 2^63. */
record Request(int flags, int type, long cookie, long offset, long length) {
    boolean has(int flag) {
        return (flags & flag) != 0;
    }

    /**
     * The error to reply without touching the device, or 0. Unknown commands and flags are EINVAL; FUA is accepted on
     * every command (the spec asks for that); writes to a read-only export are EPERM; a range past the end is ENOSPC
     * for the commands that write data and EINVAL for the others.
     */
    int check(long size, boolean readOnly, int alignment) {
        int allowedFlags = Nbd.CMD_FLAG_FUA | (type == Nbd.CMD_WRITE_ZEROES ? Nbd.CMD_FLAG_NO_HOLE : 0);
        if ((flags & ~allowedFlags) != 0) {
            return Nbd.EINVAL;
        }
        return switch (type) {
            case Nbd.CMD_FLUSH -> 0;
            case Nbd.CMD_READ -> length > Nbd.MAX_PAYLOAD ? Nbd.EINVAL : rangeError(size, alignment, Nbd.EINVAL);
            case Nbd.CMD_CACHE -> rangeError(size, alignment, Nbd.EINVAL);
            case Nbd.CMD_WRITE -> readOnly ? Nbd.EPERM
                    : length > Nbd.MAX_PAYLOAD ? Nbd.EINVAL : rangeError(size, alignment, Nbd.ENOSPC);
            case Nbd.CMD_TRIM -> readOnly ? Nbd.EPERM : rangeError(size, alignment, Nbd.EINVAL);
            case Nbd.CMD_WRITE_ZEROES -> readOnly ? Nbd.EPERM : rangeError(size, alignment, Nbd.ENOSPC);
            default -> Nbd.EINVAL;
        };
    }

    private int rangeError(long size, int alignment, int pastTheEnd) {
        if (length == 0 || offset % alignment != 0 || length % alignment != 0) {
            return Nbd.EINVAL;
        }
        return offset < 0 || offset > size - length ? pastTheEnd : 0;
    }
}
