package io.coffre.cli;

import static io.coffre.cli.CliRun.coffre;
import static org.assertj.core.api.Assertions.assertThat;

import io.coffre.server.CoffreServer;
import io.coffre.server.ServerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** {@code coffre vm}: a CMK confidential VM created, its disk written and read over NBD across a stop and start. */
class CliVmTest {
    @Test
    void confidentialVmWithCustomerKeyAndItsDisksOverNbd() throws Exception {
        Path dir = Files.createTempDirectory("coffre-cli-vm");
        try (CoffreServer server = CoffreServer.start(ServerConfig.defaults(dir).withPort(0))) {
            String d = dir.toString();
            ok(coffre("--data-dir", d, "group", "create", "-n", "rg1", "-l", "uaenorth"));
            ok(coffre("--data-dir", d, "keyvault", "create", "-n", "kv1", "-g", "rg1", "-l", "uaenorth", "--sku",
                    "premium", "--enable-purge-protection"));
            String keyUrl = ok(coffre("--data-dir", d, "keyvault", "key", "create", "--vault-name", "kv1", "-n",
                    "cvm", "--kty", "RSA-HSM", "--size", "3072", "--exportable", "--default-cvm-policy")).json()
                    .at("/key/kid").asText();
            ok(coffre("--data-dir", d, "disk-encryption-set", "create", "-g", "rg1", "-n", "des1", "--key-url",
                    keyUrl, "--encryption-type", "ConfidentialVmEncryptedWithCustomerKey"));
            String principal = ok(coffre("--data-dir", d, "disk-encryption-set", "show", "-g", "rg1", "-n", "des1"))
                    .json().at("/identity/principalId").asText();
            ok(coffre("--data-dir", d, "keyvault", "set-policy", "-n", "kv1", "--object-id", principal,
                    "--key-permissions", "get", "wrapKey", "unwrapKey"));

            // the sizes a region offers, and a size placed where the catalog has none
            assertThat(ok(coffre("--data-dir", d, "vm", "list-sizes", "-l", "uaenorth")).json()
                    .findValuesAsText("name"))
                    .contains("Standard_DC2as_v6", "Standard_DC2es_v6");
            assertThat(ok(coffre("--data-dir", d, "vm", "list-sizes", "-l", "brazilsouth", "-o", "table")).out())
                    .contains("Standard_D2s_v5").doesNotContain("Standard_DC2as_v6");
            CliRun.Result notHere = coffre("--data-dir", d, "vm", "create", "-g", "rg1", "-n", "vm1", "-l",
                    "brazilsouth", "--size", "Standard_DC2as_v6", "--disk-encryption-set", "des1");
            assertThat(notHere.code()).isEqualTo(1);
            assertThat(notHere.err()).contains("SkuNotAvailable", "not supported in this region", "uaenorth");

            // without the orchestrator's release permission the create fails, naming the grant
            CliRun.Result refused = coffre("--data-dir", d, "vm", "create", "-g", "rg1", "-n", "vm1", "--size",
                    "Standard_DC2as_v6", "--disk-encryption-set", "des1", "--data-disk-sizes", "1");
            assertThat(refused.code()).isEqualTo(1);
            assertThat(refused.err()).contains("ConfidentialVmKeyReleaseForbidden", "release");
            ok(coffre("--data-dir", d, "keyvault", "set-policy", "-n", "kv1", "--spn",
                    "bf7b6499-ff71-4aa2-97a4-f372087be7f0", "--key-permissions", "get", "release"));

            CliRun.Result created = ok(coffre("--data-dir", d, "vm", "create", "-g", "rg1", "-n", "vm1", "--size",
                    "Standard_DC2as_v6", "--disk-encryption-set", "des1", "--os-disk-size-gb", "2",
                    "--data-disk-sizes", "1", "2"));
            assertThat(created.json().at("/properties/provisioningState").asText()).isEqualTo("Succeeded");
            assertThat(VmCommand.powerState(created.json())).isEqualTo("running");
            assertThat(created.json().at("/properties/storageProfile/dataDisks")).hasSize(2);

            byte[] data = new byte[5 * 1024 * 1024 + 512];
            new Random(9).nextBytes(data);
            Path in = dir.resolve("in.bin");
            Files.write(in, data);
            ok(coffre("--data-dir", d, "vm", "disk", "write", "--vm", "vm1", "-g", "rg1", "--lun", "1",
                    "--offset", "1048576", "--file", in.toString()));
            ok(coffre("--data-dir", d, "vm", "stop", "-g", "rg1", "-n", "vm1"));
            assertThat(ok(coffre("--data-dir", d, "vm", "list-vm-resize-options", "-g", "rg1", "-n", "vm1")).json()
                    .findValuesAsText("name")).contains("Standard_DC4as_v6").doesNotContain("Standard_DC2es_v6");
            assertThat(ok(coffre("--data-dir", d, "vm", "resize", "-g", "rg1", "-n", "vm1", "--size",
                    "Standard_DC4as_v6")).json().at("/properties/hardwareProfile/vmSize").asText())
                    .isEqualTo("Standard_DC4as_v6");
            CliRun.Result stopped = coffre("--data-dir", d, "vm", "disk", "read", "--vm", "vm1", "-g", "rg1",
                    "--lun", "1", "--file", dir.resolve("x").toString(), "--length", "512");
            assertThat(stopped.code()).isEqualTo(1);
            assertThat(stopped.err()).contains("no export named 'rg1/vm1/lun1'");
            assertThat(VmCommand.powerState(ok(coffre("--data-dir", d, "vm", "start", "-g", "rg1", "-n", "vm1"))
                    .json())).isEqualTo("running");
            Path out = dir.resolve("out.bin");
            ok(coffre("--data-dir", d, "vm", "disk", "read", "--vm", "vm1", "-g", "rg1", "--lun", "1", "--offset",
                    "1048576", "--length", Integer.toString(data.length), "--file", out.toString()));
            assertThat(Files.readAllBytes(out)).isEqualTo(data);

            // a new data disk on the running VM, at the lowest free LUN, written, then detached with its data
            CliRun.Result attached = ok(coffre("--data-dir", d, "vm", "disk", "attach", "--vm", "vm1", "-g", "rg1",
                    "-n", "extra", "--new", "--size-gb", "1"));
            assertThat(attached.json().at("/properties/storageProfile/dataDisks/2/lun").asInt()).isEqualTo(2);
            ok(coffre("--data-dir", d, "vm", "disk", "write", "--vm", "vm1", "-g", "rg1", "--lun", "2", "--file",
                    in.toString()));
            CliRun.Result detached = ok(coffre("--data-dir", d, "vm", "disk", "detach", "--vm", "vm1", "-g", "rg1",
                    "-n", "extra"));
            assertThat(detached.json().at("/properties/storageProfile/dataDisks")).hasSize(2);
            assertThat(ok(coffre("--data-dir", d, "disk", "show", "-g", "rg1", "-n", "extra")).json()
                    .at("/properties/diskState").asText()).isEqualTo("Unattached");
            CliRun.Result notThere = coffre("--data-dir", d, "vm", "disk", "detach", "--vm", "vm1", "-g", "rg1",
                    "-n", "extra");
            assertThat(notThere.code()).isEqualTo(1);
            assertThat(notThere.err()).contains("No data disk named 'extra'");

            assertThat(ok(coffre("--data-dir", d, "vm", "list", "-g", "rg1")).json()).hasSize(1);
            ok(coffre("--data-dir", d, "vm", "delete", "-g", "rg1", "-n", "vm1"));
            assertThat(ok(coffre("--data-dir", d, "vm", "list")).json()).isEmpty();
            assertThat(ok(coffre("--data-dir", d, "disk", "list", "-g", "rg1")).json())
                    .as("the VM's own disks went with it; the detached one stays").hasSize(1);
        } finally {
            QuickstartCommand.deleteRecursively(dir);
        }
    }

    private static CliRun.Result ok(CliRun.Result r) {
        assertThat(r.code()).as("exit code; stderr: %s", r.err()).isZero();
        return r;
    }
}
