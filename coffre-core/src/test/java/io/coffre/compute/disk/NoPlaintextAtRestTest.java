package io.coffre.compute.disk;

import static io.coffre.compute.disk.BlockFormat.BLOCK_BYTES;
import static io.coffre.compute.disk.DiskStoreTest.pattern;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Writes a known pattern through the write-back layer (unaligned, across blocks, into copies and snapshots), then
 * looks for any 64-byte window of it, raw, hex or base64, in every file the store left (block objects and the H2
 * database file) and in every row of every table.
 */
class NoPlaintextAtRestTest {
    @TempDir
    Path dir;

    @Test
    void noWindowOfWrittenPlaintextIsStored() throws IOException {
        byte[] secret = pattern(40, 3 * (1 << 20));
        PlaintextScanner scanner = new PlaintextScanner(secret);
        try (DiskFixture fixture = new DiskFixture(dir)) {
            String disk = fixture.store.create(6L * BLOCK_BYTES, DiskSource.empty());
            try (BlockDevice device = fixture.store.open(disk)) {
                device.write((1 << 20) + 777, secret, 0, secret.length, false);
                device.write(4L * BLOCK_BYTES, secret, 0, secret.length, true);
                device.write(6L * BLOCK_BYTES - 5000, secret, 100, 5000, false);
            }
            String snapshot = fixture.store.snapshot(disk);
            String copy = fixture.store.create(6L * BLOCK_BYTES, DiskSource.copyOf(snapshot));
            try (BlockDevice device = fixture.store.open(copy)) {
                device.write(3L * BLOCK_BYTES - 1000, secret, 1000, 2 * BLOCK_BYTES / 3, false);
            }
            assertThat(fixture.blockFiles()).hasSizeGreaterThanOrEqualTo(5);
            for (Map.Entry<String, byte[]> row : rows(fixture)) {
                assertThat(scanner.find(row.getValue())).as(row.getKey()).isNull();
            }
        }
        List<Path> files = files(dir);
        assertThat(files).anyMatch(f -> f.toString().endsWith(".mv.db"));
        long scanned = 0;
        for (Path file : files) {
            byte[] content = Files.readAllBytes(file);
            scanned += content.length;
            assertThat(scanner.find(content)).as(file.toString()).isNull();
        }
        assertThat(scanned).isGreaterThan(5L * BLOCK_BYTES);
    }

    @Test
    void theScannerFindsAnyWindowInAnyEncoding() {
        byte[] secret = pattern(41, 10_000);
        PlaintextScanner scanner = new PlaintextScanner(secret);
        byte[] noise = pattern(42, 5000);
        assertThat(scanner.find(noise)).isNull();
        for (int at : new int[] {0, 1, 31, 32, 33, 5000, 9936}) {
            byte[] window = Arrays.copyOfRange(secret, at, at + 64);
            assertThat(scanner.find(concat(noise, window, noise))).as("raw at %d", at).isNotNull();
            assertThat(scanner.find(concat(noise, Arrays.copyOf(window, 63), noise))).as("63 bytes").isNull();
            byte[] hex = HexFormat.of().formatHex(window).getBytes(StandardCharsets.US_ASCII);
            assertThat(scanner.find(concat(noise, hex, noise))).as("hex at %d", at).isNotNull();
            byte[] base64 = java.util.Base64.getEncoder().encode(window);
            assertThat(scanner.find(concat(noise, base64, noise))).as("base64 at %d", at).isNotNull();
        }
    }

    /** Every row of every table as bytes (binary columns raw, others as UTF-8 text), labelled by table. */
    private static List<Map.Entry<String, byte[]>> rows(DiskFixture fixture) {
        List<Map.Entry<String, byte[]>> rows = new ArrayList<>();
        for (String table : fixture.metadata.tables()) {
            fixture.metadata.withHandle(h -> h.createQuery("SELECT * FROM " + table).map((rs, ctx) -> {
                ByteArrayOutputStream row = new ByteArrayOutputStream();
                for (int c = 1; c <= rs.getMetaData().getColumnCount(); c++) {
                    Object value = rs.getObject(c);
                    row.writeBytes(value instanceof byte[] bytes ? bytes
                            : String.valueOf(value).getBytes(StandardCharsets.UTF_8));
                    row.write('|');
                }
                return Map.entry(table, row.toByteArray());
            }).list()).forEach(rows::add);
        }
        assertThat(rows).extracting(Map.Entry::getKey).contains("disk_blocks", "disk_maps", "disk_objects");
        return rows;
    }

    private static List<Path> files(Path root) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            return walk.filter(Files::isRegularFile).toList();
        }
    }

    private static byte[] concat(byte[]... parts) {
        int length = 0;
        for (byte[] part : parts) {
            length += part.length;
        }
        byte[] all = new byte[length];
        int at = 0;
        for (byte[] part : parts) {
            System.arraycopy(part, 0, all, at, part.length);
            at += part.length;
        }
        return all;
    }
}
