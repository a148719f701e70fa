package io.coffre.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class HostsFileTest {
    @Test
    void listsEveryNameOnOneLineEndingWithLocalhost() {
        assertThat(HostsFile.content("127.0.0.1", List.of("management.coffre.localhost", "KV1.vault.coffre.localhost",
                "localhost", "kv1.vault.coffre.localhost")))
                .endsWith("\n127.0.0.1 management.coffre.localhost kv1.vault.coffre.localhost localhost\n")
                .startsWith("#");
    }

    @Test
    void namesTheManagementAttestationVaultAndHsmHosts() {
        assertThat(Session.hostNames("example.test", Set.of("kv1"), Set.of("hsm1"))).containsExactly(
                "management.example.test", "attest.example.test", "kv1.vault.example.test",
                "hsm1.managedhsm.example.test");
    }

    @Test
    void connectsToTheBindAddressOnlyWhenItIsOneIpv4Address() {
        assertThat(new ServerInfo(1, "s", "127.0.0.2", null, null).connectAddress()).isEqualTo("127.0.0.2");
        assertThat(new ServerInfo(1, "s", "0.0.0.0", null, null).connectAddress()).isEqualTo("127.0.0.1");
        assertThat(new ServerInfo(1, "s", "localhost", null, null).connectAddress()).isEqualTo("127.0.0.1");
    }

    @Test
    void aFreshJvmResolvesExactlyTheListedNames() throws Exception {
        assertThat(probe("install-first")).containsExactly("kv1.vault.probe.invalid=127.0.0.1",
                "other.probe.invalid=unknown");
    }

    @Test
    void installingAfterTheFirstLookupIsTooLate() throws Exception {
        assertThat(probe("lookup-first")).containsExactly("kv1.vault.probe.invalid=unknown",
                "other.probe.invalid=unknown");
    }

    /** Runs {@link HostsFileProbe} in a new JVM, without the test suite's own jdk.net.hosts.file. */
    private static List<String> probe(String mode) throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process process = new ProcessBuilder(java.toString(), "-cp", System.getProperty("java.class.path"),
                HostsFileProbe.class.getName(), mode).redirectErrorStream(true).start();
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.exitValue()).as(output).isZero();
        return output.lines().toList();
    }
}
