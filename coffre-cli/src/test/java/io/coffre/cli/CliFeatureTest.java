package io.coffre.cli;

import static io.coffre.cli.CliRun.coffre;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.coffre.server.CoffreServer;
import io.coffre.server.ServerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code coffre feature} and {@code coffre provider} against a real server whose clock only moves when told. */
class CliFeatureTest {
    private static final String FEATURE = "RestorePointSupportForConfidentialVMV2";
    private static Path dir;
    private static CoffreServer server;

    @BeforeAll
    static void start() throws Exception {
        dir = Files.createTempDirectory("coffre-cli-features");
        server = CoffreServer.start(ServerConfig.defaults(dir).withPort(0).withManualClock(true));
    }

    @AfterAll
    static void stop() {
        server.close();
        QuickstartCommand.deleteRecursively(dir);
    }

    private static CliRun.Result run(String... args) {
        List<String> argv = new ArrayList<>(List.of("--data-dir", dir.toString()));
        argv.addAll(List.of(args));
        return coffre(argv.toArray(String[]::new));
    }

    private static JsonNode ok(String... args) {
        CliRun.Result r = run(args);
        assertThat(r.code()).as(r.toString()).isZero();
        return r.json();
    }

    private static String state(JsonNode feature) {
        return feature.path("properties").path("state").asText();
    }

    @Test
    void registersShowsListsAndUnregistersAFeature() {
        assertThat(state(ok("feature", "show", "--namespace", "Microsoft.Compute", "--name", FEATURE)))
                .isEqualTo("NotRegistered");
        JsonNode registered = ok("feature", "register", "--namespace", "Microsoft.Compute", "-n", FEATURE);
        assertThat(registered.path("name").asText()).isEqualTo("Microsoft.Compute/" + FEATURE);
        assertThat(state(registered)).isEqualTo("Registering");
        assertThat(state(ok("feature", "show", "--namespace", "Microsoft.Compute", "--name", FEATURE)))
                .isEqualTo("Registered");

        JsonNode listed = ok("feature", "list", "--namespace", "Microsoft.Compute");
        assertThat(listed.findValuesAsText("name")).contains("Microsoft.Compute/" + FEATURE,
                "Microsoft.Compute/ConfidentialVMV2OptOut");
        assertThat(ok("feature", "list").size()).isGreaterThanOrEqualTo(listed.size());

        CliRun.Result table = run("feature", "show", "--namespace", "Microsoft.Compute", "--name", FEATURE, "-o",
                "table");
        assertThat(table.out()).startsWith("Name").contains("Microsoft.Compute/" + FEATURE).contains("Registered");

        assertThat(state(ok("feature", "unregister", "--namespace", "Microsoft.Compute", "--name", FEATURE)))
                .isEqualTo("Unregistering");
        assertThat(state(ok("feature", "show", "--namespace", "Microsoft.Compute", "--name", FEATURE)))
                .isEqualTo("Unregistered");
    }

    @Test
    void aFeatureNeedingApprovalStaysPending() {
        assertThat(state(ok("feature", "register", "--namespace", "Microsoft.Compute", "--name",
                "ConfidentialVMDataDiskEncryptionPreview"))).isEqualTo("Pending");
        ok("admin", "clock", "advance", "P7D");
        assertThat(state(ok("feature", "show", "--namespace", "Microsoft.Compute", "--name",
                "ConfidentialVMDataDiskEncryptionPreview"))).isEqualTo("Pending");
    }

    @Test
    void anUnknownFeatureIsTheServersError() {
        CliRun.Result r = run("feature", "register", "--namespace", "Microsoft.Compute", "--name", "NoSuchFeature");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).startsWith("ERROR: (FeatureNotFound) The feature 'NoSuchFeature' could not be found");
    }

    @Test
    void registersAndShowsProviders() {
        JsonNode registered = ok("provider", "register", "-n", "Microsoft.Compute", "--wait");
        assertThat(registered.path("namespace").asText()).isEqualTo("Microsoft.Compute");
        assertThat(registered.path("registrationState").asText()).isEqualTo("Registered");
        CliRun.Result noWait = run("provider", "register", "--namespace", "microsoft.compute");
        assertThat(noWait.code()).isZero();
        assertThat(noWait.err()).as("already registered: nothing to warn about").isEmpty();
        assertThat(ok("provider", "show", "-n", "Microsoft.Features").path("registrationState").asText())
                .isEqualTo("Registered");
        CliRun.Result unknown = run("provider", "show", "-n", "Microsoft.Nothing");
        assertThat(unknown.code()).isEqualTo(1);
        assertThat(unknown.err()).startsWith("ERROR: (InvalidResourceNamespace) ");
    }
}
