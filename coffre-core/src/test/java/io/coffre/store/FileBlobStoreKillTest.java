package io.coffre.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills a JVM that is writing large blobs into a {@link FileBlobStore} at a random moment (SIGKILL, no shutdown
 * hooks) and checks what a restarted process finds: every listed blob is whole and correct, every put the writer
 * saw return is still there (or a newer one), and only temporary files, which no key can name, are left over.
 *
 * <p>A killed process loses nothing the kernel already has, so this checks the write-then-rename protocol, not the
 * fsyncs (a power cut would be needed for those).
 */
class FileBlobStoreKillTest {
    private static final int ROUNDS = 5;

    @TempDir
    Path dir;

    @Test
    @Timeout(60)
    void aWriterKilledMidPutLeavesOnlyWholeBlobs() throws Exception {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        Path blobs = dir.resolve("blobs");
        Map<String, Long> acknowledged = new HashMap<>();
        long nextGeneration = 1;
        for (int round = 1; round <= ROUNDS; round++) {
            String context = "seed " + seed + ", round " + round;
            List<String> lines = runAndKill(blobs, nextGeneration, 3 + random.nextInt(6), random.nextInt(40));
            for (String line : lines) {
                String[] parts = line.split(" ");
                acknowledged.put(parts[0], Long.parseLong(parts[1]));
                nextGeneration = Math.max(nextGeneration, Long.parseLong(parts[1]) + 1);
            }
            // the put in flight at the kill may have landed under a generation nobody acknowledged
            nextGeneration += KilledBlobWriter.KEYS;

            try (BlobStore restarted = BlobStores.fileSystem(blobs)) {
                List<String> keys = new ArrayList<>();
                restarted.list("", keys::add);
                assertThat(keys).as(context).doesNotHaveDuplicates().allMatch(k -> k.startsWith("kill/"));
                for (String key : keys) {
                    long generation = SelfCheckingBlob.check(key, restarted.get(key).orElseThrow());
                    assertThat(generation).as("%s: blob %s is torn or foreign", context, key).isPositive();
                }
                for (Map.Entry<String, Long> ack : acknowledged.entrySet()) {
                    long stored = SelfCheckingBlob.check(ack.getKey(), restarted.get(ack.getKey()).orElseThrow());
                    assertThat(stored).as("%s: acknowledged put of %s lost", context, ack.getKey())
                            .isGreaterThanOrEqualTo(ack.getValue());
                }
            }
            try (Stream<Path> files = Files.walk(blobs)) {
                assertThat(files.filter(Files::isRegularFile)
                        .map(p -> blobs.relativize(p).toString().replace('\\', '/')))
                        .as(context).allMatch(name -> name.matches("kill/\\d/blob\\d+(~[-0-9a-f]+\\.tmp)?"));
            }
        }
        assertThat(acknowledged).as("the writer made progress before being killed").isNotEmpty();
    }

    /** Starts a writer, lets it acknowledge {@code puts} puts, waits {@code delayMillis} more and kills it. */
    private List<String> runAndKill(Path blobs, long firstGeneration, int puts, int delayMillis)
            throws IOException, InterruptedException {
        return KilledChild.runAndKill(KilledBlobWriter.class, List.of(blobs.toString(),
                Long.toString(firstGeneration)), puts, delayMillis, dir.resolve("writer.err"));
    }
}
