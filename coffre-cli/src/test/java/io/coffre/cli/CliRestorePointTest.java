package io.coffre.cli;

import static io.coffre.cli.CliRun.coffre;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.CoffreCore;
import io.coffre.arm.AsyncOperations;
import io.coffre.compute.vm.VirtualMachines;
import io.coffre.json.Json;
import io.coffre.server.CoffreServer;
import io.coffre.server.ServerConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** {@code coffre restore-point [collection]} and {@code coffre disk create --source <disk restore point>}. */
class CliRestorePointTest {
    @Test
    void restorePointsOfAVmAreTakenListedRestoredFromAndDeleted() throws Exception {
        Path dir = Files.createTempDirectory("coffre-cli-rp");
        try (CoffreServer server = CoffreServer.start(ServerConfig.defaults(dir).withPort(0))) {
            String d = dir.toString();
            ok(coffre("--data-dir", d, "group", "create", "-n", "rg1", "-l", "uaenorth"));
            confidentialVm(server.core());

            CliRun.Result collection = ok(coffre("--data-dir", d, "restore-point", "collection", "create", "-g",
                    "rg1", "-n", "rpc1", "--source-id", "vm1"));
            assertThat(collection.json().path("location").asText()).isEqualTo("uaenorth");
            assertThat(collection.json().at("/properties/source/id").asText()).endsWith("/virtualMachines/vm1");

            CliRun.Result taken = ok(coffre("--data-dir", d, "restore-point", "create", "-g", "rg1",
                    "--collection-name", "rpc1", "-n", "rp1"));
            assertThat(taken.json().at("/properties/provisioningState").asText()).isEqualTo("Succeeded");
            CliRun.Result refused = coffre("--data-dir", d, "restore-point", "create", "-g", "rg1",
                    "--collection-name", "rpc1", "-n", "rp2", "--consistency-mode", "CrashConsistent");
            assertThat(refused.code()).as(refused.toString()).isEqualTo(1);
            assertThat(refused.err()).contains("Crash-consistent");

            CliRun.Result shown = ok(coffre("--data-dir", d, "restore-point", "show", "-g", "rg1",
                    "--collection-name", "rpc1", "-n", "rp1", "--instance-view"));
            assertThat(shown.json().at("/properties/instanceView/diskRestorePoints")).hasSize(2);
            assertThat(ok(coffre("--data-dir", d, "restore-point", "list", "-g", "rg1", "--collection-name",
                    "rpc1")).json()).hasSize(1);
            assertThat(ok(coffre("--data-dir", d, "restore-point", "collection", "list")).json()).hasSize(1);
            assertThat(ok(coffre("--data-dir", d, "restore-point", "collection", "show", "-g", "rg1", "-n", "rpc1",
                    "--restore-points")).json().at("/properties/restorePoints")).hasSize(1);

            String dataPoint = shown.json().at("/properties/sourceMetadata/storageProfile/dataDisks/0"
                    + "/diskRestorePoint/id").asText();
            CliRun.Result restored = ok(coffre("--data-dir", d, "disk", "create", "-g", "rg1", "-n", "restored",
                    "--source", dataPoint));
            assertThat(restored.json().at("/properties/creationData/createOption").asText()).isEqualTo("Restore");
            assertThat(restored.json().at("/properties/diskState").asText()).isEqualTo("Unattached");

            // the OS disk's restore point brings the VM guest state along; download reads both
            String osPoint = shown.json().at("/properties/sourceMetadata/storageProfile/osDisk/diskRestorePoint/id")
                    .asText();
            ok(coffre("--data-dir", d, "disk", "create", "-g", "rg1", "-n", "restored-os", "--source", osPoint));
            Path image = dir.resolve("os.raw");
            Path guestState = dir.resolve("os.vmgs");
            CliRun.Result downloaded = ok(coffre("--data-dir", d, "disk", "download", "-g", "rg1",
                    "-n", "restored-os", "--file", image.toString(), "--guest-state-file", guestState.toString()));
            assertThat(downloaded.json().path("guestStateBytes").asLong()).isEqualTo(Files.size(guestState))
                    .isPositive();
            assertThat(new String(Files.readAllBytes(guestState), 0, 11, StandardCharsets.US_ASCII))
                    .isEqualTo("COFFRE-VMGS");
            CliRun.Result noGuestState = coffre("--data-dir", d, "disk", "download", "-g", "rg1", "-n", "restored",
                    "--file", dir.resolve("data.raw").toString(), "--guest-state-file",
                    dir.resolve("data.vmgs").toString());
            assertThat(noGuestState.code()).as(noGuestState.toString()).isEqualTo(1);
            assertThat(noGuestState.err()).contains("getSecureVMGuestStateSAS");

            ok(coffre("--data-dir", d, "restore-point", "delete", "-g", "rg1", "--collection-name", "rpc1", "-n",
                    "rp1"));
            assertThat(coffre("--data-dir", d, "restore-point", "show", "-g", "rg1", "--collection-name", "rpc1",
                    "-n", "rp1").code()).isEqualTo(1);
            ok(coffre("--data-dir", d, "restore-point", "collection", "delete", "-g", "rg1", "-n", "rpc1"));
            assertThat(ok(coffre("--data-dir", d, "restore-point", "collection", "list", "-g", "rg1")).json())
                    .isEmpty();
        } finally {
            QuickstartCommand.deleteRecursively(dir);
        }
    }

    private static void confidentialVm(CoffreCore core) throws InterruptedException {
        ObjectNode body = Json.object().put("location", "uaenorth");
        ObjectNode p = body.putObject("properties");
        p.putObject("hardwareProfile").put("vmSize", "Standard_DC2as_v6");
        p.putObject("securityProfile").put("securityType", "ConfidentialVM").putObject("uefiSettings")
                .put("secureBootEnabled", true).put("vTpmEnabled", true);
        ObjectNode storage = p.putObject("storageProfile");
        storage.putObject("osDisk").put("createOption", "FromImage").put("diskSizeGB", 4).putObject("managedDisk")
                .putObject("securityProfile").put("securityEncryptionType", "DiskWithVMGuestState");
        storage.putArray("dataDisks").addObject().put("lun", 0).put("createOption", "Empty").put("diskSizeGB", 1);
        VirtualMachines.Accepted accepted = core.virtualMachines().put(core.identity().admin(),
                core.identity().defaultSubscriptionId(), "rg1", "vm1", body);
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!core.asyncOperations().get(accepted.operationId()).orElseThrow().isDone()
                && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(core.asyncOperations().get(accepted.operationId()).orElseThrow().status())
                .isEqualTo(AsyncOperations.Status.Succeeded);
    }

    private static CliRun.Result ok(CliRun.Result r) {
        assertThat(r.code()).as(r.toString()).isZero();
        return r;
    }
}
