package io.coffre.compute.nbd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.coffre.compute.nbd.NbdTestClient.OptionReply;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class NbdHandshakeTest {
    private static final int SIZE = 1 << 20;
    /** HAS_FLAGS | SEND_FLUSH | SEND_FUA | SEND_TRIM | SEND_WRITE_ZEROES | CAN_MULTI_CONN. */
    private static final int WRITABLE_FLAGS = 0x016D;

    private final TestExports exports = new TestExports();
    private final MemoryBlockDevice disk = new MemoryBlockDevice(SIZE);
    private NbdServer server;

    @BeforeEach
    void start() {
        exports.add("disk", disk, false).add("golden", new MemoryBlockDevice(2 * SIZE), true);
        server = NbdServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), exports);
        byte[] pattern = new byte[SIZE];
        for (int i = 0; i < SIZE; i++) {
            pattern[i] = (byte) (i * 31);
        }
        disk.write(0, pattern, 0, SIZE, false);
    }

    @AfterEach
    void stop() {
        server.close();
        assertThat(exports.openHandles()).as("devices left open").isZero();
    }

    @Test
    void greetingOffersFixedNewstyleAndNoZeroes() throws IOException {
        try (NbdTestClient client = NbdTestClient.greet(server.port())) {
            assertThat(client.handshakeFlags).isEqualTo(Nbd.FLAG_FIXED_NEWSTYLE | Nbd.FLAG_NO_ZEROES);
        }
    }

    @Test
    void exportNameWithoutNoZeroesGetsSizeFlagsAnd124ZeroBytes() throws IOException {
        try (NbdTestClient client = NbdTestClient.connect(server.port(), Nbd.CLIENT_FLAG_FIXED_NEWSTYLE)) {
            client.sendOption(Nbd.OPT_EXPORT_NAME, "disk".getBytes(StandardCharsets.UTF_8));
            assertThat(client.in.readLong()).isEqualTo(SIZE);
            assertThat(client.in.readUnsignedShort()).isEqualTo(WRITABLE_FLAGS);
            byte[] padding = new byte[124];
            client.in.readFully(padding);
            assertThat(padding).containsOnly(0);
            // In step: the next bytes are a reply, and an unaligned read is fine (the client heard of no block size).
            assertThat(client.read(3, 5)).containsExactly(93, 124, (byte) 155, (byte) 186, (byte) 217);
        }
    }

    @Test
    void exportNameWithNoZeroesGetsNoPadding() throws IOException {
        try (NbdTestClient client = NbdTestClient.connect(server.port())) {
            client.sendOption(Nbd.OPT_EXPORT_NAME, "disk".getBytes(StandardCharsets.UTF_8));
            assertThat(client.in.readLong()).isEqualTo(SIZE);
            assertThat(client.in.readUnsignedShort()).isEqualTo(WRITABLE_FLAGS);
            assertThat(client.read(0, 512)).isEqualTo(java.util.Arrays.copyOf(disk.contents(), 512));
        }
    }

    @Test
    void exportNameOfAnUnknownExportDropsTheConnection() throws IOException {
        try (NbdTestClient client = NbdTestClient.connect(server.port())) {
            client.sendOption(Nbd.OPT_EXPORT_NAME, "missing".getBytes(StandardCharsets.UTF_8));
            assertThat(client.closedByServer()).isTrue();
        }
    }

    @Test
    void goReportsSizeFlagsAndBlockSizesThenTransmits() throws IOException {
        try (NbdTestClient client = NbdTestClient.connect(server.port())) {
            List<OptionReply> replies = client.option(Nbd.OPT_GO, NbdTestClient.infoRequest("disk",
                    Nbd.INFO_BLOCK_SIZE, (short) 1 /* NAME */, (short) 2 /* DESCRIPTION */));
            assertThat(replies).extracting(OptionReply::option).containsOnly(Nbd.OPT_GO);
            assertThat(replies).extracting(OptionReply::type).containsExactly(Nbd.REP_INFO, Nbd.REP_INFO, Nbd.REP_ACK);
            ByteBuffer export = replies.get(0).buffer();
            assertThat(export.remaining()).isEqualTo(12);
            assertThat(export.getShort()).isEqualTo(Nbd.INFO_EXPORT);
            assertThat(export.getLong()).isEqualTo(SIZE);
            assertThat(export.getShort() & 0xffff).isEqualTo(WRITABLE_FLAGS);
            ByteBuffer blockSize = replies.get(1).buffer();
            assertThat(blockSize.remaining()).isEqualTo(14);
            assertThat(blockSize.getShort()).isEqualTo(Nbd.INFO_BLOCK_SIZE);
            assertThat(blockSize.getInt()).isEqualTo(512);
            assertThat(blockSize.getInt()).isEqualTo(4 << 20);
            assertThat(blockSize.getInt()).isEqualTo(32 << 20);
            assertThat(replies.get(2).data()).isEmpty();

            assertThat(client.read(4096, 512)).isEqualTo(java.util.Arrays.copyOfRange(disk.contents(), 4096, 4608));
        }
    }

    @Test
    void goWithoutBlockSizeRequestSendsOnlyTheExportInfo() throws IOException {
        try (NbdTestClient client = NbdTestClient.connect(server.port())) {
            List<OptionReply> replies = client.option(Nbd.OPT_GO, NbdTestClient.infoRequest("disk"));
            assertThat(replies).extracting(OptionReply::type).containsExactly(Nbd.REP_INFO, Nbd.REP_ACK);
            assertThat(client.read(1, 2)).containsExactly(31, 62);
        }
    }

    @Test
    void readOnlyExportsSayReadOnly() throws IOException {
        try (NbdTestClient client = NbdTestClient.connect(server.port())) {
            ByteBuffer export = client.option(Nbd.OPT_INFO, NbdTestClient.infoRequest("golden")).get(0).buffer();
            export.getShort();
            assertThat(export.getLong()).isEqualTo(2 * SIZE);
            assertThat(export.getShort() & 0xffff).isEqualTo(WRITABLE_FLAGS | Nbd.TX_READ_ONLY);
        }
    }

    @Test
    void infoStaysInNegotiationAndReleasesItsDevice() throws IOException {
        try (NbdTestClient client = NbdTestClient.connect(server.port())) {
            List<OptionReply> info = client.option(Nbd.OPT_INFO, NbdTestClient.infoRequest("disk",
                    Nbd.INFO_BLOCK_SIZE));
            assertThat(info).extracting(OptionReply::type).containsExactly(Nbd.REP_INFO, Nbd.REP_INFO, Nbd.REP_ACK);
            assertThat(exports.opened.get()).isEqualTo(1);
            assertThat(exports.openHandles()).isZero();

            client.go("disk");
            assertThat(exports.openHandles()).isOne();
            assertThat(client.read(0, 512)).hasSize(512);
        }
    }

    @Test
    void listNamesEveryExport() throws IOException {
        try (NbdTestClient client = NbdTestClient.connect(server.port())) {
            List<OptionReply> replies = client.option(Nbd.OPT_LIST, new byte[0]);
            assertThat(replies).extracting(OptionReply::type)
                    .containsExactly(Nbd.REP_SERVER, Nbd.REP_SERVER, Nbd.REP_ACK);
            assertThat(replies.subList(0, 2)).extracting(reply -> {
                ByteBuffer data = reply.buffer();
                byte[] name = new byte[data.getInt()];
                data.get(name);
                assertThat(data.hasRemaining()).isFalse();
                return new String(name, StandardCharsets.UTF_8);
            }).containsExactly("disk", "golden");

            List<OptionReply> withData = client.option(Nbd.OPT_LIST, new byte[] {1});
            assertThat(withData).extracting(OptionReply::type).containsExactly(Nbd.REP_ERR_INVALID);
            client.go("disk");
        }
    }

    @Test
    void anUnknownExportIsReportedAndNegotiationGoesOn() throws IOException {
        try (NbdTestClient client = NbdTestClient.connect(server.port())) {
            for (int option : new int[] {Nbd.OPT_INFO, Nbd.OPT_GO}) {
                List<OptionReply> replies = client.option(option, NbdTestClient.infoRequest("vm9-lun0"));
                assertThat(replies).singleElement().satisfies(reply -> {
                    assertThat(reply.type()).isEqualTo(Nbd.REP_ERR_UNKNOWN);
                    assertThat(reply.message()).contains("vm9-lun0", "NBD_OPT_LIST");
                });
            }
            client.go("disk");
            assertThat(client.read(0, 512)).hasSize(512);
        }
    }

    @Test
    void unsupportedOptionsAreRefusedAndNegotiationGoesOn() throws IOException {
        try (NbdTestClient client = NbdTestClient.connect(server.port())) {
            byte[] metaContextQuery = ByteBuffer.allocate(4 + 4 + 4 + 4 + 15).putInt(4).put("disk".getBytes())
                    .putInt(1).putInt(15).put("base:allocation".getBytes()).array();
            int[][] options = {{Nbd.OPT_STRUCTURED_REPLY, 0}, {Nbd.OPT_LIST_META_CONTEXT, 1},
                {Nbd.OPT_SET_META_CONTEXT, 1}, {5 /* STARTTLS */, 0}, {11 /* EXTENDED_HEADERS */, 0}, {0x4242, 1}};
            for (int[] option : options) {
                byte[] data = option[1] == 1 ? metaContextQuery : new byte[0];
                assertThat(client.option(option[0], data)).singleElement().satisfies(reply -> {
                    assertThat(reply.option()).isEqualTo(option[0]);
                    assertThat(reply.type()).isEqualTo(Nbd.REP_ERR_UNSUP);
                    assertThat(reply.message()).isNotBlank();
                });
            }
            client.go("disk");
            assertThat(client.read(0, 512)).hasSize(512);
        }
    }

    @Test
    void malformedInfoRequestsAreInvalid() throws IOException {
        try (NbdTestClient client = NbdTestClient.connect(server.port())) {
            byte[] nameTooLong = ByteBuffer.allocate(10).putInt(100).put("disk".getBytes()).putShort((short) 0)
                    .array();
            byte[] countMismatch = ByteBuffer.allocate(12).putInt(4).put("disk".getBytes()).putShort((short) 3)
                    .putShort(Nbd.INFO_BLOCK_SIZE).array();
            byte[] notUtf8 = ByteBuffer.allocate(8).putInt(2).put(new byte[] {(byte) 0xC3, 0x28}).putShort((short) 0)
                    .array();
            for (byte[] data : new byte[][] {nameTooLong, countMismatch, notUtf8, new byte[3]}) {
                assertThat(client.option(Nbd.OPT_GO, data)).singleElement()
                        .extracting(OptionReply::type).isEqualTo(Nbd.REP_ERR_INVALID);
            }
            assertThat(client.option(Nbd.OPT_GO, new byte[64 * 1024])).singleElement()
                    .extracting(OptionReply::type).isEqualTo(Nbd.REP_ERR_TOO_BIG);
            assertThat(exports.opened.get()).isZero();
            client.go("disk");
        }
    }

    @Test
    void abortIsAcknowledgedThenTheServerCloses() throws IOException {
        try (NbdTestClient client = NbdTestClient.connect(server.port())) {
            assertThat(client.option(Nbd.OPT_ABORT, new byte[0])).singleElement()
                    .extracting(OptionReply::type).isEqualTo(Nbd.REP_ACK);
            assertThat(client.closedByServer()).isTrue();
        }
    }

    @Test
    void unknownClientFlagsDropTheConnection() throws IOException {
        try (NbdTestClient client = NbdTestClient.connect(server.port(), 0x7)) {
            assertThat(client.closedByServer()).isTrue();
        }
    }

    @Test
    void aBadOptionMagicDropsTheConnection() throws IOException {
        try (NbdTestClient client = NbdTestClient.connect(server.port())) {
            client.out.writeLong(0x1122334455667788L);
            client.out.writeInt(Nbd.OPT_LIST);
            client.out.writeInt(0);
            client.out.flush();
            assertThat(client.closedByServer()).isTrue();
        }
    }

    @Test
    void onlyLoopbackAddressesCanBeBound() throws IOException {
        InetAddress external = InetAddress.getByAddress(new byte[] {10, 0, 0, 1});
        assertThatThrownBy(() -> NbdServer.start(new InetSocketAddress(external, 0), exports))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("loopback");
        assertThatThrownBy(() -> NbdServer.start(new InetSocketAddress(0), exports))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("loopback");
    }
}
