package io.coffre.cli;

import static io.coffre.cli.CliRun.coffre;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Bad argument combinations are refused with exit code 2 before anything is read or sent: the data directory has
 * no server, so any attempt to reach one would fail differently (exit 1, "No Coffre server").
 */
class ArgumentValidationTest {
    @TempDir
    Path noServer;

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "keyvault key create --vault-name kv1 -n k --kty RSA --curve P-256 | --curve is for EC keys",
            "keyvault key create --vault-name kv1 -n k --kty EC --size 2048 | --size is for RSA and oct keys",
            "keyvault key create --vault-name kv1 -n k --kty rsa | --kty is one of",
            "keyvault key create --hsm-name h -n k --policy {} --default-cvm-policy | mutually exclusive",
            "keyvault key create --hsm-name h -n k --immutable | --immutable applies to a release policy",
            "keyvault key show --vault-name kv1 --hsm-name h -n k | mutually exclusive",
            "keyvault key show -n k | Missing required argument",
            "keyvault key wrap --vault-name kv1 -n k -a RSA-OAEP --value a+b/c= | --value must be base64url",
            "keyvault key verify --vault-name kv1 -n k -a RS256 --digest AAAA --signature a%b | --signature must be base64url",
            "keyvault create --hsm-name h -g rg -l uaenorth | needs --administrators",
            "keyvault create --hsm-name h -g rg -l uaenorth --administrators x --sku premium | are for key vaults",
            "keyvault create -n v -g rg -l uaenorth --administrators x | --administrators is for managed HSMs",
            "keyvault create -n v -g rg -l uaenorth --sku gold | --sku is standard or premium",
            "keyvault list --resource-type disk | --resource-type is vault or hsm",
            "disk-encryption-set create -g rg -n d --key-url https://kv1.vault.x/keys/k1 | --key-url must be a versioned key id",
            "disk-encryption-set create -g rg -n d --key-url https://kv1.vault.x/keys/k1/v1 --encryption-type Platform | --encryption-type is one of",
            "disk-encryption-set create -g rg -n d | Missing required option: '--key-url=KID'",
            "disk-encryption-set update -g rg -n d | Say what to change",
            "disk-encryption-set update -g rg -n d --source-vault /v --enable-auto-key-rotation | --source-vault goes with --key-url",
            "keyvault set-policy -n v --object-id a --spn b --key-permissions get | mutually exclusive",
            "keyvault role assignment delete --hsm-name h | Say which assignments to delete",
            "keyvault role assignment delete --hsm-name h --name g --role r | --name deletes one assignment",
            "keyvault role assignment create --hsm-name h --role r --scope / | Name the principal",
            "keyvault audit list --top 0 | --top must be at least 1",
            "role assignment create --role Owner --assignee a --assignee-object-id b | mutually exclusive",
            "role assignment delete | Say which assignments to delete",
            "admin clock advance 3x | is not a duration",
            "admin clock advance -- -P1D | only moves forward",
            "attestation token --type Sgx --runtime-key-file k.pem | Invalid value for option '--type'",
            "server --tls-cert c.pem | --tls-cert and --tls-key go together",
            "server --matrix wide | --matrix is 'default' or 'extended'",
            "server --database-user coffre | --database-user goes with --database-url",
            "server --standby | --standby goes with --database-url",
            "server --database-url jdbc:mysql://db/coffre | --database-url takes a PostgreSQL JDBC URL",
            "server --s3-bucket b | --s3-bucket and --s3-prefix go with --s3-endpoint",
            "server --s3-endpoint http://127.0.0.1:9000 | --s3-endpoint needs --s3-bucket",
            "feature register --name RestorePointSupportForConfidentialVMV2 | Missing required option: '--namespace",
            "feature show --namespace Microsoft.Compute | Missing required option: '--name",
            "provider register | Missing required option: '--namespace",
            "server --port 70000 | --port must be 0..65535",
            "-o yaml group list | Invalid value for option '--output'"})
    void refusesBadArgumentsWithExitCode2(String args, String message) {
        String[] argv = ("--data-dir " + noServer + " " + args).split(" ");
        CliRun.Result r = coffre(argv);
        assertThat(r.code()).as(r.toString()).isEqualTo(2);
        assertThat(r.err()).as(r.toString()).contains(message).doesNotContain("No Coffre server");
    }

    @Test
    void withoutAServerSaysHowToStartOne() {
        CliRun.Result r = coffre("group", "list", "--data-dir", noServer.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).startsWith("ERROR: No Coffre server has run with data directory " + noServer)
                .contains("coffre server --data-dir");
    }

    @Test
    void aCommandGroupWithoutSubcommandShowsItsUsage() {
        CliRun.Result r = coffre("keyvault", "key");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("Missing required subcommand").contains("create").contains("rotation-policy");
    }

    @Test
    void helpListsTheCommandsAndExitsZero() {
        CliRun.Result r = coffre("--help");
        assertThat(r.code()).isZero();
        assertThat(r.out()).contains("server", "quickstart", "group", "keyvault", "ad", "role", "admin", "attestation",
                "COFFRE_DATA_DIR");
    }

    @Test
    void theDataDirectoryComesFromTheOptionThenTheEnvironmentThenHome() {
        assertThat(coffre(java.util.Map.of("COFFRE_DATA_DIR", noServer.toString()), "group", "list").err())
                .contains("data directory " + noServer);
        assertThat(coffre(java.util.Map.of("HOME", noServer.toString()), "group", "list").err())
                .contains("data directory " + noServer.resolve(".coffre"));
        assertThat(coffre(java.util.Map.of("COFFRE_DATA_DIR", "/elsewhere"), "group", "list", "--data-dir",
                noServer.toString()).err()).contains("data directory " + noServer + " ");
    }
}
