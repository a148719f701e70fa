package io.coffre.cli;

import static io.coffre.cli.CliRun.coffre;
import static org.assertj.core.api.Assertions.assertThat;

import io.coffre.server.CoffreServer;
import io.coffre.server.ServerConfig;
import io.coffre.server.TlsMaterial;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The CLI against a real HTTPS server on an ephemeral port, found through its server.json and certificate. */
class CliAgainstServerTest {
    private static Path manualDir;
    private static CoffreServer manual;
    private static Path systemDir;
    private static CoffreServer system;

    @BeforeAll
    static void startServers() throws Exception {
        manualDir = Files.createTempDirectory("coffre-cli-manual");
        manual = CoffreServer.start(ServerConfig.defaults(manualDir).withPort(0).withManualClock(true));
        systemDir = Files.createTempDirectory("coffre-cli-system");
        system = CoffreServer.start(ServerConfig.defaults(systemDir).withPort(0));
    }

    @AfterAll
    static void stopServers() {
        manual.close();
        system.close();
        QuickstartCommand.deleteRecursively(manualDir);
        QuickstartCommand.deleteRecursively(systemDir);
    }

    private static Instant now(CliRun.Result r) {
        assertThat(r.code()).as(r.toString()).isZero();
        return Instant.parse(r.json().path("now").asText());
    }

    @Test
    void advancesAManualClockWithShorthandAndIsoDurations() {
        Instant before = now(coffre("admin", "clock", "show", "--data-dir", manualDir.toString()));
        Instant afterShorthand = now(coffre("--data-dir", manualDir.toString(), "admin", "clock", "advance", "2h"));
        assertThat(Duration.between(before, afterShorthand)).isBetween(Duration.ofHours(2), Duration.ofHours(2).plusMinutes(1));
        Instant afterIso = now(coffre("admin", "clock", "advance", "P30D", "--data-dir", manualDir.toString()));
        assertThat(Duration.between(afterShorthand, afterIso)).isBetween(Duration.ofDays(30), Duration.ofDays(30).plusMinutes(1));
        CliRun.Result shown = coffre("admin", "clock", "show", "--data-dir", manualDir.toString());
        assertThat(shown.json().path("manual").asBoolean()).isTrue();
    }

    @Test
    void printsTablesOnRequest() {
        CliRun.Result r = coffre("admin", "clock", "show", "-o", "table", "--data-dir", manualDir.toString());
        assertThat(r.code()).isZero();
        assertThat(r.out().lines().toList()).hasSize(3);
        assertThat(r.out()).startsWith("Now").contains("Manual").contains("true");
    }

    @Test
    void reportsTheServersErrorCodeAndExitsNonZero() {
        CliRun.Result r = coffre("admin", "clock", "advance", "1d", "--data-dir", systemDir.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).startsWith("ERROR: (ClockNotManual) ").contains("--manual-clock");
    }

    @Test
    void trustsOnlyTheCertificateInTheDataDirectory() throws Exception {
        Path impostor = Files.createTempDirectory("coffre-cli-impostor");
        try {
            // The manual server's address, but the other server's certificate: the TLS handshake must fail.
            Files.copy(manualDir.resolve("server.json"), impostor.resolve("server.json"));
            Files.copy(systemDir.resolve(TlsMaterial.CERT_FILE), impostor.resolve(TlsMaterial.CERT_FILE));
            CliRun.Result r = coffre("admin", "clock", "show", "--data-dir", impostor.toString());
            assertThat(r.code()).isEqualTo(1);
            assertThat(r.err()).startsWith("ERROR: TLS with https://management.coffre.localhost:" + manual.port()
                    + " failed");
        } finally {
            QuickstartCommand.deleteRecursively(impostor);
        }
    }

    @Test
    void readsTheServersInfoFile() {
        ServerInfo info = ServerInfo.read(manualDir);
        assertThat(info.port()).isEqualTo(manual.port());
        assertThat(info.dnsSuffix()).isEqualTo("coffre.localhost");
        assertThat(info.endpoints().managementBase()).isEqualTo("https://management.coffre.localhost:" + manual.port());
    }

    @Test
    void saysWhenTheServerIsNotRunning() throws Exception {
        Path stale = Files.createTempDirectory("coffre-cli-stale");
        try {
            int freePort;
            try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
                freePort = socket.getLocalPort();
            }
            Files.writeString(stale.resolve("server.json"),
                    "{\"port\":" + freePort + ",\"dnsSuffix\":\"coffre.localhost\",\"bindHost\":\"127.0.0.1\"}");
            Files.copy(manualDir.resolve(TlsMaterial.CERT_FILE), stale.resolve(TlsMaterial.CERT_FILE));
            CliRun.Result r = coffre("admin", "clock", "show", "--data-dir", stale.toString());
            assertThat(r.code()).isEqualTo(1);
            assertThat(r.err()).contains("Cannot reach the Coffre server").contains("connection refused");
        } finally {
            QuickstartCommand.deleteRecursively(stale);
        }
    }
}
