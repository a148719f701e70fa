package io.coffre.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class SupportMatrixWiringTest {
    @Test
    void theServerRunsWithTheMatrixItWasStartedWith() {
        try (TestServer defaults = TestServer.start()) {
            assertThat(defaults.server().core().supportMatrix().name()).isEqualTo("default");
            assertThat(defaults.server().core().supportMatrix().crossRegionRestore()).isFalse();
        }
        try (TestServer extended = TestServer.startWithMatrix("extended")) {
            assertThat(extended.server().core().supportMatrix().name()).isEqualTo("extended");
            assertThat(extended.server().core().supportMatrix().crossRegionRestore()).isTrue();
        }
    }

    @Test
    void anUnknownMatrixStopsTheStartWithAClearMessage() throws Exception {
        Path dir = Files.createTempDirectory("coffre-matrix");
        ServerConfig wide = new ServerConfig(dir, "127.0.0.1", 0, ServerConfig.DEFAULT_DNS_SUFFIX, null, false, null,
                null, "wide");
        assertThatThrownBy(() -> CoffreServer.start(wide)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("Unknown support matrix 'wide'; choose one of default, extended.");
    }
}
