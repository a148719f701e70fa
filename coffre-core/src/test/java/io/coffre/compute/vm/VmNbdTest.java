package io.coffre.compute.vm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.arm.ArmException;
import io.coffre.arm.AsyncOperations;
import io.coffre.arm.ResourceId;
import io.coffre.compute.Disks;
import io.coffre.compute.nbd.NbdClient;
import io.coffre.compute.nbd.NbdServer;
import io.coffre.compute.vm.VirtualMachines.Action;
import io.coffre.json.Json;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
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

    /**
     * A PUT of the VM as {@code az vm disk attach / detach} sends it (the VM as GET shows it, an entry added, left out
     * or marked toBeDetached) attaches and detaches data disks of the running VM, exports included, and so does a
     * PATCH of the data disks; a detached disk keeps what the guest wrote. A swap at one LUN (by PUT or PATCH), a
     * disk another VM has and too many disks are refused without writing anything.
     */
    @Test
    void aPutOrAPatchAttachesAndDetachesDataDisksOfTheRunningVm() throws Exception {
        f.emptyDisk("extra");
        byte[] pattern = new byte[1 << 20];
        new Random(13).nextBytes(pattern);
        try (NbdClient data = NbdClient.connect(address, "rg/vm1/lun0")) {
            data.write(0, pattern, 0, pattern.length, true);
        }

        ObjectNode attach = vm();
        ArrayNode dataDisks = (ArrayNode) attach.at("/properties/storageProfile/dataDisks");
        dataDisks.addObject().put("lun", 1).put("createOption", "Attach").putObject("managedDisk")
                .put("id", f.diskId("extra"));
        dataDisks.addObject().put("lun", 2).put("createOption", "Empty").put("diskSizeGB", 1);
        assertThat(update(attach)).containsExactly(0, 1, 2);
        assertThat(managedBy("extra")).isEqualToIgnoringCase(f.vmId("vm1"));
        assertThat(managedBy("vm1_disk2")).isEqualToIgnoringCase(f.vmId("vm1"));
        try (NbdClient extra = NbdClient.connect(address, "rg/vm1/lun1");
             NbdClient created = NbdClient.connect(address, "rg/vm1/lun2")) {
            assertThat(extra.size()).isEqualTo(1L << 30);
            assertThat(created.size()).isEqualTo(1L << 30);
        }

        ObjectNode other = f.cvmBody(VmFixture.AMD_SIZE, "DiskWithVMGuestState", null, 1);
        f.create("vm2", other);
        ObjectNode swap = vm();
        ((ObjectNode) swap.at("/properties/storageProfile/dataDisks/2/managedDisk")).put("id", f.diskId("vm2_disk0"));
        f.rejectsWithoutWriting(() -> f.vms.put(f.admin, f.subscription, "rg", "vm1", swap), 409,
                "OperationNotAllowed");
        ObjectNode taken = vm();
        ((ArrayNode) taken.at("/properties/storageProfile/dataDisks")).addObject().put("lun", 3)
                .put("createOption", "Attach").putObject("managedDisk").put("id", f.diskId("vm2_disk0"));
        f.rejectsWithoutWriting(() -> f.vms.put(f.admin, f.subscription, "rg", "vm1", taken), 409,
                "OperationNotAllowed");
        ObjectNode tooMany = vm();
        for (int lun = 3; lun < 5; lun++) {
            ((ArrayNode) tooMany.at("/properties/storageProfile/dataDisks")).addObject().put("lun", lun)
                    .put("createOption", "Empty").put("diskSizeGB", 1);
        }
        f.rejectsWithoutWriting(() -> f.vms.put(f.admin, f.subscription, "rg", "vm1", tooMany), 409,
                "OperationNotAllowed");
        ObjectNode swapByPatch = Json.object();
        swapByPatch.putObject("properties").putObject("storageProfile")
                .set("dataDisks", swap.at("/properties/storageProfile/dataDisks"));
        f.rejectsWithoutWriting(() -> f.vms.patch(f.admin, f.subscription, "rg", "vm1", swapByPatch), 409,
                "OperationNotAllowed");

        // a PATCH carrying only the data disks, as the SDKs' beginUpdate sends it: lun 0 left out
        ArrayNode kept = (ArrayNode) vm().at("/properties/storageProfile/dataDisks");
        kept.remove(0);
        ObjectNode patch = Json.object();
        patch.putObject("properties").putObject("storageProfile").set("dataDisks", kept);
        assertThat(update(f.vms.patch(f.admin, f.subscription, "rg", "vm1", patch))).containsExactly(1, 2);
        ObjectNode detach = vm();
        ((ObjectNode) detach.at("/properties/storageProfile/dataDisks/0")).put("toBeDetached", true); // lun 1
        assertThat(update(detach)).containsExactly(2);
        assertThat(managedBy("vm1_disk0")).isEmpty();
        assertThat(managedBy("extra")).isEmpty();
        assertThat(catchThrowableOfType(IOException.class, () -> NbdClient.connect(address, "rg/vm1/lun0")))
                .hasMessageContaining("no export");
        assertThat(f.vms.get(f.admin, f.subscription, "rg", "vm1", false).at("/properties/storageProfile/dataDisks")
                .findValuesAsText("name")).containsExactly("vm1_disk2");

        // attached to the other VM, the detached disk shows what this one's guest wrote
        ObjectNode moved = vm("vm2");
        ((ArrayNode) moved.at("/properties/storageProfile/dataDisks")).addObject().put("lun", 1)
                .put("createOption", "Attach").putObject("managedDisk").put("id", f.diskId("vm1_disk0"));
        VirtualMachines.Accepted accepted = f.vms.put(f.admin, f.subscription, "rg", "vm2", moved);
        assertThat(f.await(accepted.operationId()).status()).isEqualTo(AsyncOperations.Status.Succeeded);
        assertThat(readStart("rg/vm2/lun1", pattern.length)).isEqualTo(pattern);
    }

    /**
     * Two PUTs racing to attach a disk each: one may be refused (409), none is lost. Whatever the interleaving, the
     * model lists exactly the data disks attached to the VM.
     */
    @Test
    void racingUpdatesLeaveTheModelAndTheAttachmentsInAgreement() throws Exception {
        f.emptyDisk("a");
        f.emptyDisk("b");
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            for (int round = 0; round < 5; round++) {
                CountDownLatch go = new CountDownLatch(1);
                List<Future<?>> puts = new ArrayList<>();
                for (String name : List.of("a", "b")) {
                    ObjectNode body = vm();
                    ((ArrayNode) body.at("/properties/storageProfile/dataDisks")).addObject()
                            .put("lun", name.equals("a") ? 1 : 2).put("createOption", "Attach")
                            .putObject("managedDisk").put("id", f.diskId(name));
                    puts.add(pool.submit(() -> {
                        go.await();
                        try {
                            f.await(f.vms.put(f.admin, f.subscription, "rg", "vm1", body).operationId());
                        } catch (ArmException e) {
                            assertThat(e.status()).as(e.getMessage()).isEqualTo(409);
                        }
                        return null;
                    }));
                }
                go.countDown();
                for (Future<?> put : puts) {
                    put.get();
                }
                List<String> listed = vm().at("/properties/storageProfile/dataDisks").findValuesAsText("name");
                List<String> attached = f.vms.find(f.vmId("vm1")).orElseThrow().disks().stream()
                        .filter(d -> d.role() == VirtualMachines.DiskRole.DATA)
                        .map(d -> ResourceId.parse(d.diskResourceId()).name()).toList();
                assertThat(listed).as("round %d", round).containsExactlyInAnyOrderElementsOf(attached);
                for (String name : List.of("a", "b")) {
                    assertThat(managedBy(name).isEmpty()).as("round %d: %s attached but not listed", round, name)
                            .isEqualTo(!listed.contains(name));
                }
                ObjectNode back = vm();
                ArrayNode data = (ArrayNode) back.at("/properties/storageProfile/dataDisks");
                for (int i = data.size() - 1; i >= 0; i--) {
                    if (data.get(i).path("lun").asInt() != 0) {
                        data.remove(i);
                    }
                }
                if (listed.size() > 1) {
                    assertThat(update(back)).containsExactly(0);
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private ObjectNode vm() {
        return vm("vm1");
    }

    private ObjectNode vm(String name) {
        return f.vms.get(f.admin, f.subscription, "rg", name, false);
    }

    /** PUTs the VM, waits for the update, returns the LUNs of its data disks. */
    private List<Integer> update(ObjectNode body) {
        return update(f.vms.put(f.admin, f.subscription, "rg", "vm1", body));
    }

    /** Waits for an update of vm1 that changes its disks, returns the LUNs of its data disks. */
    private List<Integer> update(VirtualMachines.Accepted accepted) {
        assertThat(accepted.created()).isFalse();
        assertThat(accepted.resource().at("/properties/provisioningState").asText()).isEqualTo("Updating");
        AsyncOperations.Operation op = f.await(accepted.operationId());
        assertThat(op.status()).as(op.errorCode() + ": " + op.errorMessage())
                .isEqualTo(AsyncOperations.Status.Succeeded);
        assertThat(vm().at("/properties/provisioningState").asText()).isEqualTo("Succeeded");
        return f.vms.find(f.vmId("vm1")).orElseThrow().disks().stream()
                .filter(d -> d.role() == VirtualMachines.DiskRole.DATA).map(VirtualMachines.VmDisk::lun).toList();
    }

    /** The first {@code length} bytes of an export, read over NBD. */
    private byte[] readStart(String export, int length) throws IOException {
        byte[] read = new byte[length];
        try (NbdClient data = NbdClient.connect(address, export)) {
            data.read(0, read, 0, length);
        }
        return read;
    }

    private String managedBy(String disk) {
        return f.core.disks().get(f.admin, Disks.Kind.DISK, f.subscription, "rg", disk).path("managedBy").asText("");
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
        assertThat(readStart("rg/vm1/lun0", pattern.length)).isEqualTo(pattern);
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
