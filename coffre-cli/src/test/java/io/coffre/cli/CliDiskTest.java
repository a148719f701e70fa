package io.coffre.cli;

import static io.coffre.cli.CliRun.coffre;
import static org.assertj.core.api.Assertions.assertThat;

import io.coffre.compute.Disks;
import io.coffre.server.CoffreServer;
import io.coffre.server.ServerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** {@code coffre disk} and {@code coffre snapshot} against a real server: an image goes up and comes back. */
class CliDiskTest {
    @Test
    void uploadSnapshotCopyAndDownloadAreByteIdentical() throws Exception {
        Path dir = Files.createTempDirectory("coffre-cli-disk");
        try (CoffreServer server = CoffreServer.start(ServerConfig.defaults(dir).withPort(0))) {
            String d = dir.toString();
            ok(coffre("--data-dir", d, "group", "create", "-n", "rg1", "-l", "uaenorth"));
            byte[] image = new byte[9 * 1024 * 1024 + 512];
            new Random(5).nextBytes(image);
            Path in = dir.resolve("in.img");
            Files.write(in, image);

            CliRun.Result created = ok(coffre("--data-dir", d, "disk", "create", "-g", "rg1", "-n", "up",
                    "--upload-size-bytes", Long.toString(image.length)));
            assertThat(created.json().at("/properties/diskState").asText()).isEqualTo("ReadyToUpload");
            CliRun.Result uploaded = ok(coffre("--data-dir", d, "disk", "upload", "-g", "rg1", "-n", "up", "--file",
                    in.toString()));
            assertThat(uploaded.json().at("/properties/diskState").asText()).isEqualTo("Unattached");
            assertThat(uploaded.err()).contains("upload [").contains("100%");

            ok(coffre("--data-dir", d, "snapshot", "create", "-g", "rg1", "-n", "snap", "--source", "up",
                    "--incremental"));
            ok(coffre("--data-dir", d, "disk", "create", "-g", "rg1", "-n", "copy", "--source", "snap"));
            Path out = dir.resolve("out.img");
            ok(coffre("--data-dir", d, "disk", "download", "-g", "rg1", "-n", "copy", "--file", out.toString()));
            assertThat(Files.readAllBytes(out)).isEqualTo(image);

            assertThat(ok(coffre("--data-dir", d, "disk", "list", "-g", "rg1")).json()).hasSize(2);
            assertThat(ok(coffre("--data-dir", d, "snapshot", "list")).json()).hasSize(1);
            ok(coffre("--data-dir", d, "snapshot", "delete", "-g", "rg1", "-n", "snap"));
            ok(coffre("--data-dir", d, "disk", "delete", "-g", "rg1", "-n", "copy"));
            CliRun.Result gone = coffre("--data-dir", d, "disk", "show", "-g", "rg1", "-n", "copy");
            assertThat(gone.code()).isEqualTo(1);

            // a sparse image: only its second 4 MiB chunk holds data; the zero chunks neither go up nor come down
            byte[] sparse = new byte[5 * 4 * 1024 * 1024];
            byte[] data = new byte[4 * 1024 * 1024];
            new Random(9).nextBytes(data);
            System.arraycopy(data, 0, sparse, data.length, data.length);
            Path sparseIn = dir.resolve("sparse.img");
            Files.write(sparseIn, sparse);
            ok(coffre("--data-dir", d, "disk", "create", "-g", "rg1", "-n", "sparse", "--upload-size-bytes",
                    Integer.toString(sparse.length)));
            CliRun.Result sparseUp = ok(coffre("--data-dir", d, "disk", "upload", "-g", "rg1", "-n", "sparse",
                    "--file", sparseIn.toString()));
            assertThat(sparseUp.err()).contains("upload: 16,777,216 bytes skipped");
            Path sparseOut = dir.resolve("sparse-out.img");
            Files.write(sparseOut, new byte[] {1, 2, 3}); // replaced, not overlaid
            CliRun.Result sparseDown = ok(coffre("--data-dir", d, "disk", "download", "-g", "rg1", "-n", "sparse",
                    "--file", sparseOut.toString()));
            assertThat(sparseDown.err()).contains("download: 16,777,216 bytes skipped");
            assertThat(Files.readAllBytes(sparseOut)).isEqualTo(sparse);

            Path wrongSize = dir.resolve("small.img");
            Files.write(wrongSize, new byte[512]);
            ok(coffre("--data-dir", d, "disk", "create", "-g", "rg1", "-n", "up2", "--upload-size-bytes", "1024"));
            CliRun.Result refused = coffre("--data-dir", d, "disk", "upload", "-g", "rg1", "-n", "up2", "--file",
                    wrongSize.toString());
            assertThat(refused.code()).isEqualTo(1);
            assertThat(refused.err()).contains("--upload-size-bytes 512");
        } finally {
            QuickstartCommand.deleteRecursively(dir);
        }
    }

    @Test
    void aConfidentialOsDiskGoesUpWithItsGuestStateAndComesBackWithIt() throws Exception {
        Path dir = Files.createTempDirectory("coffre-cli-secure-upload");
        try (CoffreServer server = CoffreServer.start(ServerConfig.defaults(dir).withPort(0))) {
            String d = dir.toString();
            ok(coffre("--data-dir", d, "group", "create", "-n", "rg1", "-l", "uaenorth"));
            Random random = new Random(21);
            byte[] image = new byte[5 * 1024 * 1024 + 512];
            random.nextBytes(image);
            byte[] guestState = new byte[Disks.GUEST_STATE_BYTES];
            random.nextBytes(guestState);
            Path imageIn = Files.write(dir.resolve("os.img"), image);
            Path guestStateIn = Files.write(dir.resolve("os.vmgs"), guestState);

            CliRun.Result created = ok(coffre("--data-dir", d, "disk", "create", "-g", "rg1", "-n", "os",
                    "--upload-size-bytes", Long.toString(image.length), "--upload-type", "UploadWithSecurityData",
                    "--security-type", "ConfidentialVM_DiskEncryptedWithPlatformKey"));
            assertThat(created.json().at("/properties/creationData/createOption").asText())
                    .isEqualTo("UploadPreparedSecure");
            Path truncated = Files.write(dir.resolve("short.vmgs"), new byte[512]);
            CliRun.Result refused = coffre("--data-dir", d, "disk", "upload", "-g", "rg1", "-n", "os", "--file",
                    imageIn.toString(), "--guest-state-file", truncated.toString());
            assertThat(refused.code()).isNotZero();
            assertThat(refused.err()).contains("has 512 bytes", Integer.toString(Disks.GUEST_STATE_BYTES));
            CliRun.Result uploaded = ok(coffre("--data-dir", d, "disk", "upload", "-g", "rg1", "-n", "os",
                    "--file", imageIn.toString(), "--guest-state-file", guestStateIn.toString()));
            assertThat(uploaded.err()).contains("guest state [");

            Path imageOut = dir.resolve("out.img");
            Path guestStateOut = dir.resolve("out.vmgs");
            ok(coffre("--data-dir", d, "disk", "download", "-g", "rg1", "-n", "os", "--file", imageOut.toString(),
                    "--guest-state-file", guestStateOut.toString()));
            assertThat(Files.readAllBytes(imageOut)).isEqualTo(image);
            assertThat(Files.readAllBytes(guestStateOut)).isEqualTo(guestState);
        } finally {
            QuickstartCommand.deleteRecursively(dir);
        }
    }

    @Test
    void diskEncryptionSetIsGrantedThenFollowsANewKeyVersion() throws Exception {
        Path dir = Files.createTempDirectory("coffre-cli-des");
        try (CoffreServer server = CoffreServer.start(ServerConfig.defaults(dir).withPort(0))) {
            String d = dir.toString();
            ok(coffre("--data-dir", d, "group", "create", "-n", "rg1", "-l", "uaenorth"));
            String vaultId = ok(coffre("--data-dir", d, "keyvault", "create", "-n", "kv1", "-g", "rg1", "-l",
                    "uaenorth", "--sku", "premium", "--enable-purge-protection")).json().path("id").asText();
            String v1 = ok(coffre("--data-dir", d, "keyvault", "key", "create", "--vault-name", "kv1", "-n", "k1",
                    "--kty", "RSA", "--size", "3072")).json().at("/key/kid").asText();

            CliRun.Result created = ok(coffre("--data-dir", d, "disk-encryption-set", "create", "-g", "rg1", "-n",
                    "des1", "--key-url", v1, "--source-vault", vaultId));
            assertThat(created.json().at("/properties/activeKey/keyUrl").asText()).isEqualTo(v1);
            String principal = ok(coffre("--data-dir", d, "disk-encryption-set", "show", "-g", "rg1", "-n", "des1"))
                    .json().at("/identity/principalId").asText();
            assertThat(principal).isNotBlank();
            ok(coffre("--data-dir", d, "keyvault", "set-policy", "-n", "kv1", "--object-id", principal,
                    "--key-permissions", "get", "wrapKey", "unwrapKey"));
            // A disk makes the DES wrap its key with v1; without one there is nothing to rotate.
            ok(coffre("--data-dir", d, "disk", "create", "-g", "rg1", "-n", "data", "--size-gb", "1",
                    "--disk-encryption-set", "des1"));
            assertThat(ok(coffre("--data-dir", d, "disk-encryption-set", "show", "-g", "rg1", "-n", "des1")).json()
                    .at("/properties/lastKeyRotationTimestamp").isMissingNode()).isTrue();

            String v2 = ok(coffre("--data-dir", d, "keyvault", "key", "rotate", "--vault-name", "kv1", "-n", "k1"))
                    .json().at("/key/kid").asText();
            assertThat(v2).isNotEqualTo(v1);
            CliRun.Result updated = ok(coffre("--data-dir", d, "disk-encryption-set", "update", "-g", "rg1", "-n",
                    "des1", "--key-url", v2));
            assertThat(updated.json().at("/properties/activeKey/keyUrl").asText()).isEqualTo(v2);
            CliRun.Result table = ok(coffre("--data-dir", d, "disk-encryption-set", "show", "-g", "rg1", "-n",
                    "des1", "-o", "table"));
            String rotatedAt = updated.json().at("/properties/lastKeyRotationTimestamp").asText();
            assertThat(rotatedAt).isNotBlank();
            assertThat(table.out()).contains("LastKeyRotation").contains(principal).contains(v2).contains(rotatedAt);
            assertThat(ok(coffre("--data-dir", d, "disk-encryption-set", "list")).json()).hasSize(1);

            CliRun.Result inUse = coffre("--data-dir", d, "disk-encryption-set", "delete", "-g", "rg1", "-n", "des1");
            assertThat(inUse.code()).isEqualTo(1);
            assertThat(inUse.err()).contains("DiskEncryptionSetInUse");
            ok(coffre("--data-dir", d, "disk", "delete", "-g", "rg1", "-n", "data"));
            ok(coffre("--data-dir", d, "disk-encryption-set", "delete", "-g", "rg1", "-n", "des1"));
            assertThat(ok(coffre("--data-dir", d, "disk-encryption-set", "list", "-g", "rg1")).json()).isEmpty();
        } finally {
            QuickstartCommand.deleteRecursively(dir);
        }
    }

    private static CliRun.Result ok(CliRun.Result r) {
        assertThat(r.code()).as(r.toString()).isZero();
        return r;
    }
}
