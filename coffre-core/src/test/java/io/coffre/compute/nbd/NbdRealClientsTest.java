package io.coffre.compute.nbd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The clients the hypervisor side really uses — qemu-img (Debian qemu-utils) and nbdcopy / nbdinfo (Debian
 * libnbd-bin) — copy a 64 MiB image in and out, byte-identical. Skipped where the binaries are missing; .ci/run
 * installs them.
 */
class NbdRealClientsTest {
    private static final int SIZE = 64 << 20;

    @TempDir
    Path dir;
    private final TestExports exports = new TestExports();
    private NbdServer server;
    private Path image;

    @BeforeEach
    void startServer() throws IOException {
        server = NbdServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), exports);
        image = dir.resolve("image.raw");
        Files.write(image, imageBytes());
    }

    @AfterEach
    void stopServer() {
        server.close();
        assertThat(exports.openHandles()).as("devices left open").isZero();
    }

    @Test
    void qemuImgWritesAnImageAndReadsItBack() throws Exception {
        requireBinary("qemu-img", "qemu-utils");
        MemoryBlockDevice disk = exports("disk", garbageFilledDisk());

        timed("qemu-img convert -> nbd", "qemu-img", "convert", "-n", "-f", "raw", "-O", "raw", image.toString(),
                uri("disk"));
        assertThat(sha256(disk.contents())).isEqualTo(sha256(image));
        assertThat(sha256(disk.durable())).as("qemu-img flushes at the end").isEqualTo(sha256(image));

        Path out = dir.resolve("out.raw");
        timed("qemu-img convert <- nbd", "qemu-img", "convert", "-f", "raw", "-O", "raw", uri("disk"),
                out.toString());
        assertThat(sha256(out)).isEqualTo(sha256(image));
    }

    @Test
    void nbdcopyWritesAnImageAndReadsItBack() throws Exception {
        requireBinary("nbdcopy", "libnbd-bin");
        MemoryBlockDevice disk = exports("disk", garbageFilledDisk());

        timed("nbdcopy -> nbd", "nbdcopy", image.toString(), uri("disk"));
        // nbdcopy sends no FLUSH: what makes its writes durable is the flush on disconnect.
        assertThat(disk.flushes.get()).isPositive();
        assertThat(sha256(disk.durable())).isEqualTo(sha256(image));

        Path out = dir.resolve("out.raw");
        timed("nbdcopy <- nbd", "nbdcopy", uri("disk"), out.toString());
        assertThat(sha256(out)).isEqualTo(sha256(image));
    }

    @Test
    void nbdcopyAndQemuImgAgreeOnAFileBackedDisk() throws Exception {
        requireBinary("nbdcopy", "libnbd-bin");
        requireBinary("qemu-img", "qemu-utils");
        Path backing = dir.resolve("disk.img");
        exports.add("disk", new FileBlockDevice(backing, SIZE), false);

        run("nbdcopy", "--flush", image.toString(), uri("disk"));
        assertThat(sha256(backing)).isEqualTo(sha256(image));
        Path out = dir.resolve("out.raw");
        run("qemu-img", "convert", "-f", "raw", "-O", "raw", uri("disk"), out.toString());
        assertThat(sha256(out)).isEqualTo(sha256(image));

        // Again the other way round, with qemu-img writing out of order from 16 coroutines.
        byte[] reversed = imageBytes();
        for (int i = 0; i < SIZE / 2; i++) {
            byte swap = reversed[i];
            reversed[i] = reversed[SIZE - 1 - i];
            reversed[SIZE - 1 - i] = swap;
        }
        Path second = dir.resolve("second.raw");
        Files.write(second, reversed);
        run("qemu-img", "convert", "-n", "-W", "-m", "16", "-f", "raw", "-O", "raw", second.toString(), uri("disk"));
        Path secondOut = dir.resolve("second-out.raw");
        run("nbdcopy", uri("disk"), secondOut.toString());
        assertThat(sha256(secondOut)).isEqualTo(sha256(reversed));
    }

    @Test
    void qemuIoInWritethroughModeSendsFuaWrites() throws Exception {
        requireBinary("qemu-io", "qemu-utils");
        MemoryBlockDevice disk = exports("disk", new MemoryBlockDevice(SIZE));

        run("qemu-io", "-f", "raw", "-c", "write -P 0x5a 4096 4k", uri("disk"));
        assertThat(disk.fuaWrites.get()).isPositive();
        byte[] expected = new byte[4096];
        Arrays.fill(expected, (byte) 0x5a);
        assertThat(Arrays.copyOfRange(disk.durable(), 4096, 8192)).isEqualTo(expected);
    }

    @Test
    void qemuImgInfoShowsTheSize() throws Exception {
        requireBinary("qemu-img", "qemu-utils");
        exports("disk", new MemoryBlockDevice(SIZE));

        assertThat(run("qemu-img", "info", "-f", "raw", uri("disk"))).contains("virtual size: 64 MiB (67108864 bytes)");
    }

    @Test
    void nbdinfoListsTheExports() throws Exception {
        requireBinary("nbdinfo", "libnbd-bin");
        exports("vm1-lun0", new MemoryBlockDevice(1 << 20));
        exports.add("vm1-lun1", new MemoryBlockDevice(2 << 20), true);

        String listing = run("nbdinfo", "--list", "nbd://127.0.0.1:" + server.port());
        assertThat(listing).contains("vm1-lun0", "vm1-lun1", "1048576", "2097152");
        assertThat(run("nbdinfo", "--json", uri("vm1-lun1"))).contains("\"is_read_only\": true")
                .contains("\"can_multi_conn\": true");
    }

    @Test
    void aReadOnlyExportRefusesRealWrites() throws Exception {
        requireBinary("qemu-img", "qemu-utils");
        MemoryBlockDevice disk = new MemoryBlockDevice(SIZE);
        exports.add("disk", disk, true);

        Process process = new ProcessBuilder("qemu-img", "convert", "-n", "-f", "raw", "-O", "raw", image.toString(),
                uri("disk")).redirectErrorStream(true).start();
        assertThat(process.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).isNotZero();
        assertThat(disk.writes.get()).isZero();
    }

    private MemoryBlockDevice exports(String name, MemoryBlockDevice device) {
        exports.add(name, device, false);
        return device;
    }

    /** A disk whose every byte differs from the image's zero runs, so zero writes must really happen. */
    private static MemoryBlockDevice garbageFilledDisk() {
        MemoryBlockDevice disk = new MemoryBlockDevice(SIZE);
        byte[] garbage = new byte[SIZE];
        Arrays.fill(garbage, (byte) 0xA5);
        disk.write(0, garbage, 0, SIZE, false);
        return disk;
    }

    /** Random bytes with zero runs (whole and partial 2 MiB chunks), which clients send as WRITE_ZEROES. */
    private static byte[] imageBytes() {
        byte[] bytes = new byte[SIZE];
        new Random(42).nextBytes(bytes);
        Arrays.fill(bytes, 8 << 20, 16 << 20, (byte) 0);
        Arrays.fill(bytes, (40 << 20) + 4096, (41 << 20) + 512, (byte) 0);
        return bytes;
    }

    private String uri(String export) {
        return "nbd://127.0.0.1:" + server.port() + "/" + export;
    }

    private static void requireBinary(String binary, String debianPackage) {
        boolean found = Arrays.stream(System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator))
                .anyMatch(directory -> Files.isExecutable(Path.of(directory, binary)));
        assumeTrue(found, binary + " is not installed (Debian package " + debianPackage + "; .ci/run installs it)");
    }

    private static void timed(String what, String... command) throws Exception {
        long started = System.nanoTime();
        run(command);
        double seconds = (System.nanoTime() - started) / 1e9;
        System.out.printf("%s: 64 MiB in %.2f s = %.0f MiB/s%n", what, seconds, 64 / seconds);
    }

    private static String run(String... command) throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        byte[] output = process.getInputStream().readAllBytes();
        assertThat(process.waitFor(120, TimeUnit.SECONDS)).as("%s finished", command[0]).isTrue();
        String text = new String(output, StandardCharsets.UTF_8);
        assertThat(process.exitValue()).as("%s exit status; output:%n%s", List.of(command), text).isZero();
        return text;
    }

    private static String sha256(Path file) throws IOException {
        return sha256(Files.readAllBytes(file));
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
