package io.coffre.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class DurationsTest {
    @ParameterizedTest
    @CsvSource({"P30D, PT720H", "PT2H, PT2H", "p1dt12h, PT36H", "P0D, PT0S", "30d, PT720H", "2h, PT2H", "90m, PT1H30M",
            "45s, PT45S", "1d12h, PT36H", "1D2H3M4S, PT26H3M4S", "' 2h ', PT2H"})
    void acceptsIsoAndShorthand(String text, String expected) {
        assertThat(Durations.parse(text)).isEqualTo(Duration.parse(expected));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "3x", "2", "h", "P1M", "P1Y", "2h-1m", "PT", "1.5h"})
    void rejectsWhatIsNotADurationAndSaysWhatIs(String text) {
        assertThatThrownBy(() -> Durations.parse(text)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("P30D").hasMessageContaining("30d");
    }

    @ParameterizedTest
    @ValueSource(strings = {"-P1D", "-PT2H", "PT-2H"})
    void rejectsNegativeDurations(String text) {
        assertThatThrownBy(() -> Durations.parse(text)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("only moves forward");
    }
}
