package io.coffre.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Runs the data-path benchmark small, so it keeps working between the runs of its script: every path moves the
 * whole image and every read-back matches it (the benchmark throws otherwise). Says nothing about speed.
 */
class DataPathBenchmarkSmokeTest {
    private static final long SIZE = 64L << 20;

    @Test
    void everyPathMovesTheWholeImageAndReadsItBackIntact() throws Exception {
        List<DataPathBenchmark.Result> results = DataPathBenchmark.run(SIZE, 2, 2, 20);
        assertThat(results).extracting(DataPathBenchmark.Result::path).contains("file copy, fsync at end",
                "upload over HTTPS (4 MiB pages)", "download over HTTPS (parallel ranged GETs)");
        assertThat(results).hasSizeGreaterThanOrEqualTo(4).allSatisfy(r -> {
            assertThat(r.bytes()).isEqualTo(SIZE);
            assertThat(r.seconds()).isPositive();
        });
        assertThat(results.subList(2, results.size())).as("every path took CPU, so its ceiling is finite")
                .allSatisfy(r -> assertThat(r.cpuCeilingMegabytesPerSecond(2)).isPositive().isFinite());
    }

    @Test
    void sizesParseWithBinaryUnits() {
        assertThat(DataPathBenchmark.parseSize("2GiB")).isEqualTo(2L << 30);
        assertThat(DataPathBenchmark.parseSize("64 MiB")).isEqualTo(64L << 20);
        assertThat(DataPathBenchmark.parseSize("4096")).isEqualTo(4096);
    }
}
