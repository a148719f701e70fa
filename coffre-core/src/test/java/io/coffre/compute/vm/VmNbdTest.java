package io.coffre.compute.vm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.coffre.arm.AsyncOperations;
import io.coffre.compute.nbd.NbdClient;
import io.coffre.compute.nbd.NbdServer;
import io.coffre.compute.vm.VirtualMachines.Action;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A running VM's disks over real NBD: exported only while it runs, every acknowledged write durable at stop. */
class VmNbdTest {
    private static final int IMAGE_BYTES = 64 << 20;

    @TempDir
    Path dir;
    private VmFixture f;
    private NbdServer nbd;
    private InetSocketAddress address;

    @BeforeEach
    void open() {
        f = new VmFixture(dir.resolve("data"));
        nbd = f.vms.serveNbd(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        address = new InetSocketAddress(InetAddress.getLoopbackAddress(), nbd.port());
        f.create("vm1", f.cvmBody(VmFixture.AMD_SIZE, "DiskWithVMGuestState", null, 1));
    }

    @AfterEach
    void close() {
        f.close();
    }

    @Test
    void exportsExistOnlyWhileTheVmRunsAndStoppingKeepsAcknowledgedWrites() throws Exception {
        byte[] pattern = new byte[3 * 1024 * 1024 + 512];
        new Random(7).nextBytes(pattern);
        NbdClient os = NbdClient.connect(address, "rg/vm1/os");
        assertThat(os.size()).isEqualTo(2L << 30);
        os.write(1 << 20, pattern, 0, pattern.length, false);
        try (NbdClient data = NbdClient.connect(address, "rg/vm1/lun0")) {
            assertThat(data.size()).isEqualTo(1L << 30);
        }

        // neither flushed nor disconnected: the stop ends the connection and makes the write durable
        assertThat(f.act("vm1", Action.POWER_OFF).status()).isEqualTo(AsyncOperations.Status.Succeeded);
        assertThat(catchThrowableOfType(IOException.class, () -> os.read(0, new byte[512], 0, 512)))
                .as("the stopped VM's connection is closed").isNotNull();
        os.close();
        IOException gone = catchThrowableOfType(IOException.class, () -> NbdClient.connect(address, "rg/vm1/os"));
        assertThat(gone).hasMessageContaining("no export named 'rg/vm1/os'");

        assertThat(f.act("vm1", Action.START).status()).isEqualTo(AsyncOperations.Status.Succeeded);
        byte[] read = new byte[pattern.length];
        try (NbdClient again = NbdClient.connect(address, "rg/vm1/os")) {
            again.read(1 << 20, read, 0, read.length);
        }
        assertThat(read).isEqualTo(pattern);

        String op = f.vms.delete(f.admin, f.subscription, "rg", "vm1").orElseThrow();
        assertThat(f.await(op).status()).isEqualTo(AsyncOperations.Status.Succeeded);
        assertThat(catchThrowableOfType(IOException.class, () -> NbdClient.connect(address, "rg/vm1/lun0")))
                .hasMessageContaining("no export");
    }

    @Test
    void aRunningVmKeepsRunningAcrossARestartWithItsExportsAndData() throws Exception {
        byte[] pattern = new byte[1 << 20];
        new Random(11).nextBytes(pattern);
        try (NbdClient data = NbdClient.connect(address, "rg/vm1/lun0")) {
            data.write(0, pattern, 0, pattern.length, false);
            data.flush();
        }
        f.close();
        f = new VmFixture(dir.resolve("data"));
        nbd = f.vms.serveNbd(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        address = new InetSocketAddress(InetAddress.getLoopbackAddress(), nbd.port());
        assertThat(f.vms.find(f.vmId("vm1")).orElseThrow().powerState()).isEqualTo(VirtualMachines.PowerState.RUNNING);
        byte[] read = new byte[pattern.length];
        try (NbdClient data = NbdClient.connect(address, "rg/vm1/lun0")) {
            data.read(0, read, 0, read.length);
        }
        assertThat(read).isEqualTo(pattern);
    }

    @Test
    void qemuImgWritesAnImageNbdcopyReadsItBackAcrossAStopAndStart() throws Exception {
        requireBinary("qemu-img");
        requireBinary("nbdcopy");
        Path image = dir.resolve("image.raw");
        byte[] bytes = new byte[IMAGE_BYTES];
        new Random(42).nextBytes(bytes);
        Arrays.fill(bytes, 8 << 20, 12 << 20, (byte) 0); // a hole, as real images have
        Files.write(image, bytes);
        String expected = sha256(bytes);
        String uri = "nbd://127.0.0.1:" + nbd.port() + "/rg/vm1/lun0";

        run("qemu-img", "convert", "-n", "-f", "raw", "-O", "raw", image.toString(), uri);
        assertThat(firstBytesSha256(readBack(uri, "first.raw"))).isEqualTo(expected);

        assertThat(f.act("vm1", Action.POWER_OFF).status()).isEqualTo(AsyncOperations.Status.Succeeded);
        assertThat(f.act("vm1", Action.START).status()).isEqualTo(AsyncOperations.Status.Succeeded);
        assertThat(firstBytesSha256(readBack(uri, "second.raw"))).isEqualTo(expected);
    }

    private Path readBack(String uri, String file) throws Exception {
        Path out = dir.resolve(file);
        run("nbdcopy", uri, out.toString());
        assertThat(Files.size(out)).isEqualTo(1L << 30);
        return out;
    }

    private static String firstBytesSha256(Path file) throws Exception {
        try (InputStream in = Files.newInputStream(file)) {
            return sha256(in.readNBytes(IMAGE_BYTES));
        }
    }

    private static void requireBinary(String binary) {
        boolean found = Arrays.stream(System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator))
                .anyMatch(directory -> Files.isExecutable(Path.of(directory, binary)));
        assumeTrue(found, binary + " is not installed (Debian qemu-utils / libnbd-bin)");
    }

    private static void run(String... command) throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        byte[] output = process.getInputStream().readAllBytes();
        assertThat(process.waitFor(180, TimeUnit.SECONDS)).as("%s finished", command[0]).isTrue();
        assertThat(process.exitValue()).as("%s exit status; output:%n%s", List.of(command),
                new String(output, StandardCharsets.UTF_8)).isZero();
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
